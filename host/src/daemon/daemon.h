// Daemon: the outboxd process, wired from an OutboxdConfig.
//
// Create() does everything that can fail because of the operator's input before any message is
// touched: stages and loads the plugins in plugin_dir (bad files are logged and skipped), creates
// the discovery instance and one handler instance per `handlers` entry (plus one per handler plugin
// that declares its topics and has no entry), and builds the routing table (a topic claimed twice is
// an error). Run() then discovers the tenants, starts the workers and the lease heartbeat, and
// refreshes discovery every refresh_interval (sooner, with back-off, after a failed discovery) and
// on RequestRefresh (SIGHUP), until RequestStop (SIGINT/SIGTERM) or, in drain mode, until no store
// has a message due now or in progress. Stopping finishes the messages being handled, releases the
// rest of their batches and records every outcome.
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
#include "discovery/store_provider.h"
#include "dispatch/dispatch_counters.h"
#include "dispatch/dispatcher.h"
#include "dispatch/lease_keeper.h"
#include "dispatch/routing_state.h"
#include "dispatch/selection_strategy.h"
#include "dispatch/worker_pool.h"
#include "plugin/plugin_catalog.h"

namespace outboxd {

struct RunOptions {
  bool drain = false;  // exit once no store has a message due now or in progress
};

class Daemon {
 public:
  // InvalidArgument for wiring errors the operator must fix (unknown plugin, wrong kind, topic
  // clash, plugin create failure); the message names the config key.
  static Status Create(const OutboxdConfig& config, std::unique_ptr<Daemon>* out);
  ~Daemon();

  Status Run(const RunOptions& options);
  void RequestStop();
  void RequestRefresh();

  const DispatchCounters& counters() const { return counters_; }

 private:
  explicit Daemon(OutboxdConfig config);
  Status LoadPlugins();
  Status WireDiscovery();
  Status WireHandlers();
  void Cleanup();
  bool Drained();

  const OutboxdConfig config_;
  std::filesystem::path staging_dir_;
  bool owns_staging_dir_ = false;
  PluginCatalog catalog_;
  std::unique_ptr<DiscoverySource> discovery_;
  std::unique_ptr<StoreProvider> provider_;
  RoutingState routing_;
  std::unique_ptr<SelectionStrategy> strategy_;
  std::unique_ptr<LeaseKeeper> leases_;
  DispatchCounters counters_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<WorkerPool> pool_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;     // GUARDED_BY(mu_)
  bool refresh_requested_ = false;  // GUARDED_BY(mu_)
};

// "<hostname>:<pid>".
std::string DefaultWorkerId();

}  // namespace outboxd

#endif  // OUTBOXD_DAEMON_DAEMON_H_
