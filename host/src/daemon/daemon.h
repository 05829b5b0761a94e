// Daemon: the outboxd process, wired from an OutboxdConfig.
//
// Create() does everything that can fail because of the operator's input before any message is
// touched: stages and loads the plugins in plugin_dir (bad files are logged and skipped), creates
// the discovery instance and one handler instance per `handlers` entry (plus one per handler plugin
// that declares its topics and has no entry), and builds the routing table (a topic claimed twice is
// an error). Run() then discovers the tenants, starts the workers and the lease heartbeat, and
// refreshes discovery every refresh_interval (sooner, with back-off, after a failed discovery) and
// on RequestRefresh (SIGHUP), until RequestStop (SIGINT/SIGTERM) or, in drain mode, until no store
// has a message due now or in progress. A row in progress under a lease keeps the drain waiting
// (another process may hold the lease and still complete it) until it is done or its lease runs
// out; what the drain waits for is logged once and every 30 s (daemon/drain_report.h). Stopping finishes the messages being handled, releases the
// rest of their batches and records every outcome.
//
// Hot reload (reload/plugin_reloader.h): plugin_dir is watched with inotify (RequestPluginScan) and
// rescanned at every refresh and on RequestRefresh; changed plugins are loaded as new generations,
// swapped in atomically and the old ones destroyed on the control thread once drained.
//
// Observation (daemon/observability.h): with http.listen the endpoint is bound at the end of
// Create (an address that cannot be bound is an InvalidArgument naming http.listen: exit 2) and
// serves /metrics, /healthz, /readyz and /status; systemd is told READY=1 / RELOADING=1 /
// STOPPING=1 / STATUS= / WATCHDOG=1 from the control loop, which wakes at least once a second.
//
// OWNERSHIP: owns every component. THREADING: Create/Run on the main thread; RequestStop and
// RequestRefresh from any thread (e.g. a signal thread).
#ifndef OUTBOXD_DAEMON_DAEMON_H_
#define OUTBOXD_DAEMON_DAEMON_H_

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>

#include "common/status.h"
#include "config/config.h"
#include "discovery/tenant_set.h"
#include "dispatch/dispatch_counters.h"
#include "dispatch/dispatcher.h"
#include "dispatch/lease_keeper.h"
#include "dispatch/routing_state.h"
#include "dispatch/selection_strategy.h"
#include "dispatch/tenant_schedule.h"
#include "dispatch/worker_pool.h"
#include "daemon/observability.h"
#include "reload/plugin_reloader.h"
#include "discovery/switchable_discovery_source.h"
#include "reload/dir_watcher.h"
#include "reload/generation_reaper.h"
#include "plugin/staging_dir.h"
#include "store/connection_budget.h"
#include "store/postgres/postgres_notify_listener.h"

namespace outboxd {

// outboxd's command-line choices that are not configuration keys.
struct CreateOptions {
  // --allow-no-handlers: start even with no handler topic while dispatch.unknown_topic is "fail"
  // (refused otherwise: every message would fail). Default false.
  bool allow_no_handlers = false;
};

struct RunOptions {
  bool drain = false;  // exit once no store has a message due now or in progress
};

class Daemon {
 public:
  // InvalidArgument for wiring errors the operator must fix (unknown plugin, wrong kind, topic
  // clash, plugin create failure); the message names the config key.
  static Status Create(const OutboxdConfig& config, std::unique_ptr<Daemon>* out,
                       const CreateOptions& options = CreateOptions());
  ~Daemon();

  Status Run(const RunOptions& options);
  void RequestStop();
  // Rescans plugin_dir and refreshes discovery now (SIGHUP).
  void RequestRefresh();
  // Rescans plugin_dir soon (inotify; files still changing are looked at again once settled).
  void RequestPluginScan();

  const DispatchCounters& counters() const { return counters_; }

  // The bound port of http.listen (0 when off).
  int http_port() const { return observe_->http_port(); }

  // --check-config: loads and checks every plugin, creates the handlers and the discovery
  // provider, runs one discovery unless `discover` is false, and fills *summary (plugins, topics,
  // tenants). Binds nothing, touches no tenant database. Errors are InvalidArgument with the same
  // one line a normal start prints (exit 2).
  static Status CheckConfig(const OutboxdConfig& config, bool discover, std::string* summary,
                            CreateOptions options = {});

 private:
  Daemon(OutboxdConfig config, CreateOptions options);
  Status WirePlugins();
  void Cleanup();
  void LogParkedTopics();  // at each refresh while some topic is parked or unknown ones were
  bool Drained();
  void LogDrainWait();  // control thread, no lock held: DescribeDrainWait over every store
  void RequestDrainCheck();  // a worker thread: the pool went quiet (--drain checks Drained)
  void PublishPlugins();  // control thread: the live plugin list for /status and /metrics
  void NotifySystemd(bool forced_refresh_done);  // READY / STATUS as due (WATCHDOG: Observability)

  const OutboxdConfig config_;
  const CreateOptions create_options_;
  int64_t parked_logged_ = 0;  // counters_.parked at the last LogParkedTopics (control thread)
  StagingDir staging_dir_;  // first member: removed last
  std::unique_ptr<Observability> observe_;  // destroyed after every other component; stopped first by ~Daemon
  GenerationReaper reaper_;  // before everything that may hold a plugin generation
  std::unique_ptr<DiscoverySource> discovery_;
  SwitchableDiscoverySource* discovery_switch_ = nullptr;  // in the discovery_ chain
  std::unique_ptr<TenantSet> tenant_set_;
  RoutingState routing_;
  std::unique_ptr<PluginReloader> reloader_;
  std::unique_ptr<DirWatcher> watcher_;  // reset first by ~Daemon: its thread calls into us
  std::shared_ptr<ConnectionBudget> budget_;  // stores.max_connections, shared by every store
  std::unique_ptr<TenantSchedule> schedule_;  // when each tenant is visited (owns the strategy)
  std::unique_ptr<PostgresNotifyListener> listener_;  // stores.notify only
  std::unique_ptr<LeaseKeeper> leases_;
  DispatchCounters counters_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<WorkerPool> pool_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;     // GUARDED_BY(mu_)
  bool refresh_requested_ = false;  // GUARDED_BY(mu_)
  bool plugin_scan_requested_ = false;  // GUARDED_BY(mu_)
  bool drain_check_requested_ = false;  // GUARDED_BY(mu_)

  // Control thread only: systemd notification state.
  bool notified_ready_ = false;
  std::chrono::steady_clock::time_point next_status_{};
};

// "<hostname>:<pid>".
std::string DefaultWorkerId();

// The options outboxd opens every tenant store with (config.stores and worker_id), without the
// shared connection budget. outboxctl --config uses them too, so both agree on busy_timeout and
// on the NOTIFY trigger that schema setup installs or drops.
StoreOptions StoreOptionsFor(const OutboxdConfig& config);

}  // namespace outboxd

#endif  // OUTBOXD_DAEMON_DAEMON_H_
