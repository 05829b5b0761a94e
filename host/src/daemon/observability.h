// Observability: the daemon's observation side, wired from the config (issue 10):
//  - http.listen set, or started by systemd (NOTIFY_SOCKET, whose STATUS= line shows the backlog):
//    DispatchMetrics (the dispatcher's observer) and a BacklogTracker thread;
//  - http.listen set: the HTTP endpoint: GET /metrics (Prometheus text 0.0.4), /healthz (200 "ok"
//    or 503 with one line), /readyz (200 or 503 with a JSON list of reasons), /status (JSON),
//    anything else 404;
//  - always: the HealthTracker and the systemd notifier (a no-op without NOTIFY_SOCKET). When
//    systemd's watchdog is on (WATCHDOG_USEC), a WatchdogPinger feeds it from its own thread while
//    the health check passes; with http off the observer still runs for the health check.
// Ready means: plugins loaded (set by the daemon after wiring), at least one discovery succeeded,
// and at least one topic routed to a handler.
//
// Everything shown is read at request time from the daemon's thread-safe parts (Sources): the
// store snapshot, tenant health, backlog samples, routing, atomics. The plugin list is confined to
// the control thread, which publishes a copy with SetPlugins. No lock is held across a database
// or plugin call; a request never calls a store or a plugin.
//
// OWNERSHIP: owned by the Daemon; borrows every Source, which must outlive it (Stop first).
// THREADING: thread-safe; Attach/Start*/Stop from the control thread.
#ifndef OUTBOXD_DAEMON_OBSERVABILITY_H_
#define OUTBOXD_DAEMON_OBSERVABILITY_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "config/config.h"
#include "reload/plugin_reloader.h"
#include "discovery/tenant_set.h"
#include "dispatch/dispatch_counters.h"
#include "dispatch/routing_state.h"
#include "http/http_server.h"
#include "observe/backlog_tracker.h"
#include "observe/dispatch_metrics.h"
#include "observe/fleet_state.h"
#include "observe/health_tracker.h"
#include "observe/sd_notifier.h"
#include "observe/watchdog_pinger.h"
#include "store/connection_budget.h"
#include "store/postgres/postgres_notify_listener.h"

namespace outboxd {

class Observability {
 public:
  // The parts of the daemon it reads. Any may be null until Attach.
  struct Sources {
    const TenantSet* tenant_set = nullptr;
    const RoutingState* routing = nullptr;
    const DispatchCounters* counters = nullptr;
    const ConnectionBudget* budget = nullptr;
    const PostgresNotifyListener* listener = nullptr;
    const PluginReloader* reloader = nullptr;  // load_errors() only (thread-safe)
  };

  explicit Observability(const OutboxdConfig& config);
  ~Observability();

  // The dispatcher's observer (null when neither http nor the watchdog needs one).
  DispatchObserver* observer() { return metrics_.get(); }
  DiscoveryCounters* discovery_counters() { return &discovery_; }
  HealthTracker& health() { return *health_; }
  const SdNotifier& notifier() const { return notifier_; }

  // Sets the sources. The first call with a tenant set creates the metrics and the BacklogTracker
  // (before the dispatcher takes observer()); later calls only update the sources (e.g. the NOTIFY
  // listener, made after the dispatcher). REQUIRES: before StartHttp.
  void Attach(const Sources& sources);
  // Binds http.listen (no-op when unset): Unavailable when it cannot be bound. Logs the address.
  Status StartHttp();
  // Starts the backlog refresh thread (http or systemd only).
  void StartBacklog();
  // Starts feeding systemd's watchdog (only when WATCHDOG_USEC is set for this process).
  void StartWatchdog();
  // Stops the HTTP server, the backlog thread and the watchdog pinger (idempotent).
  void Stop();

  void SetPluginsLoaded() { plugins_loaded_.store(true); }
  // A copy of the live plugin generations (control thread, after each rescan).
  void SetPlugins(std::vector<FleetState::Plugin> plugins);

  // Readiness reasons; empty = ready.
  std::vector<std::string> NotReady() const;
  FleetState Snapshot() const;
  // One line for systemd's STATUS=: tenants, backlog, readiness.
  std::string StatusLine() const;

  HttpResponse Handle(const HttpRequest& request) const;

  // The bound HTTP port (0 when off).
  int http_port() const { return http_ ? http_->port() : 0; }

 private:
  const OutboxdConfig& config_;
  SdNotifier notifier_;
  std::unique_ptr<HealthTracker> health_;
  std::unique_ptr<BacklogTracker> backlog_;
  std::unique_ptr<DispatchMetrics> metrics_;
  DiscoveryCounters discovery_;
  Sources sources_;
  std::atomic<bool> plugins_loaded_{false};
  mutable Mutex plugins_mu_;
  std::vector<FleetState::Plugin> plugins_ GUARDED_BY(plugins_mu_);
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<WatchdogPinger> watchdog_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DAEMON_OBSERVABILITY_H_
