#include "daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include "common/exponential_backoff.h"
#include "daemon/drain_report.h"
#include "reload/plugin_discovery_source.h"
#include "reload/plugin_message_handler.h"
#include "discovery/caching_discovery_source.h"
#include "plugin/discovery_instance.h"
#include "plugin/handler_instance.h"
#include "plugin/plugin_loader.h"

namespace outboxd {

namespace {

// Workers poll a tenant whose NOTIFY listener is live this many notify_safety_intervals apart.
constexpr int kListenedBackstopFactor = 10;

using Clock = std::chrono::steady_clock;

// While a retired plugin generation drains, the control loop looks every this often.
constexpr std::chrono::milliseconds kReapInterval{100};

// The control loop wakes at least this often: the health beat and readiness.
constexpr std::chrono::milliseconds kBeatInterval{1000};
// --drain: what it waits for is logged when a check first finds work left, then this often.
constexpr std::chrono::milliseconds kDrainReportInterval{30000};

// How often systemd's STATUS= line is refreshed.
constexpr std::chrono::milliseconds kStatusInterval{10000};

}  // namespace

StoreOptions StoreOptionsFor(const OutboxdConfig& config) {
  StoreOptions options;
  options.worker_id = config.worker_id.empty() ? DefaultWorkerId() : config.worker_id;
  options.busy_timeout = config.stores.busy_timeout;
  options.max_connections = config.stores.max_connections_per_store;
  options.notify_trigger = config.stores.notify;
  options.max_payload_bytes = config.dispatch.max_payload_bytes;
  return options;
}

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "localhost") + ":" + std::to_string(getpid());
}

Daemon::Daemon(OutboxdConfig config, CreateOptions options)
    : config_(std::move(config)), create_options_(options),
      observe_(std::make_unique<Observability>(config_)) {}

Daemon::~Daemon() {
  observe_->Stop();  // no request reads the parts below any more
  if (listener_) listener_->Stop();
  watcher_.reset();
  if (pool_) pool_->Stop();
  if (leases_) leases_->Stop();
}

Status Daemon::Create(const OutboxdConfig& config, std::unique_ptr<Daemon>* out,
                      const CreateOptions& create_options) {
  std::unique_ptr<Daemon> d(new Daemon(config, create_options));
  OBX_RETURN_IF_ERROR(d->WirePlugins());
  std::unique_ptr<SelectionStrategy> strategy;
  OBX_RETURN_IF_ERROR(MakeSelectionStrategy(config.dispatch.strategy, &strategy)
                          .WithContext("dispatch.strategy"));
  ScheduleOptions schedule;
  schedule.poll_interval = config.dispatch.poll_interval;
  schedule.max_poll_interval = config.dispatch.max_poll_interval;
  // With NOTIFY the listener checks every listened table itself each notify_safety_interval (its
  // probe, on its own connection: PostgresNotifyListener); workers poll a listened tenant only as
  // a backstop, ten times less often, in case the listener thread itself is held up.
  schedule.notify_safety_interval = config.stores.notify
                                        ? kListenedBackstopFactor * config.stores.notify_safety_interval
                                        : config.stores.notify_safety_interval;
  schedule.batch_size = config.dispatch.batch_size;
  d->schedule_ = std::make_unique<TenantSchedule>(std::move(strategy), schedule);
  d->budget_ = std::make_shared<ConnectionBudget>(config.stores.max_connections);

  StoreOptions store_options = StoreOptionsFor(config);
  store_options.connection_budget = d->budget_;
  TenantSetOptions tenant_set_options;
  tenant_set_options.allow_empty = config.discovery.allow_empty;
  // Each store deploys its schema on first use (by a worker, memoised per process): a refresh that
  // finds 1,000 new PostgreSQL tenants must not make 1,000 round trips one after another first.
  tenant_set_options.ensure_schema_on_discovery = false;
  tenant_set_options.counters = d->observe_->discovery_counters();
  d->tenant_set_ = std::make_unique<TenantSet>(
      d->discovery_.get(),
      [store_options](const TenantLocation& location, std::unique_ptr<OutboxStore>* store) {
        return OpenOutboxStore(location, store_options, store);
      },
      tenant_set_options);

  Observability::Sources sources;
  sources.tenant_set = d->tenant_set_.get();
  sources.routing = &d->routing_;
  sources.counters = &d->counters_;
  sources.budget = d->budget_.get();
  sources.reloader = d->reloader_.get();
  d->observe_->Attach(sources);

  d->leases_ = std::make_unique<LeaseKeeper>(config.dispatch.lease);
  DispatchOptions dispatch;
  dispatch.batch_size = config.dispatch.batch_size;
  dispatch.lease = config.dispatch.lease;
  dispatch.max_attempts = config.dispatch.max_attempts;
  dispatch.handler_timeout = config.dispatch.handler_timeout;
  dispatch.max_payload_bytes = config.dispatch.max_payload_bytes;
  dispatch.park_lookahead = 10 * config.dispatch.batch_size;
  dispatch.park_retry = std::max(config.dispatch.max_poll_interval, std::chrono::milliseconds(1000));
  dispatch.observer = d->observe_->observer();
  d->dispatcher_ = std::make_unique<Dispatcher>(&d->routing_, d->leases_.get(), &d->counters_,
                                                dispatch);
  // Timer slack (dispatch/worker_pool.h): idle polls due within poll_interval / 10, at most 20 ms,
  // of each other share one wake-up.
  const auto timer_slack =
      std::min(config.dispatch.poll_interval / 10, std::chrono::milliseconds(20));
  d->pool_ = std::make_unique<WorkerPool>(d->dispatcher_.get(), d->schedule_.get(),
                                          config.dispatch.workers, timer_slack);
  TenantSchedule* schedule_ptr = d->schedule_.get();
  Daemon* daemon = d.get();
  d->pool_->SetOnQuiet([daemon] { daemon->RequestDrainCheck(); });
  if (config.stores.notify) {
    // Claims keep workers + 2 connections; the rest of the budget may listen (-1: no cap).
    const int max_listeners =
        config.stores.max_connections == 0
            ? -1
            : std::max(0, config.stores.max_connections - config.dispatch.workers - 2);
    d->listener_ = std::make_unique<PostgresNotifyListener>(
        d->budget_.get(), max_listeners, config.stores.notify_safety_interval,
        [schedule_ptr](const std::string& store) { schedule_ptr->Notify(store); });
  }
  if (d->listener_ != nullptr) {
    d->listener_->SetOnListening(
        [schedule_ptr](const std::string& store) { schedule_ptr->MarkListened(store); });
  }
  PostgresNotifyListener* listener = d->listener_.get();
  sources.listener = listener;
  d->observe_->Attach(sources);
  TenantSet* tenant_set = d->tenant_set_.get();
  d->tenant_set_->SetOnChange([schedule_ptr, listener, tenant_set] {
    std::shared_ptr<const TenantList> snapshot = tenant_set->Snapshot();
    schedule_ptr->Sync(*snapshot);
    if (listener == nullptr) return;
    std::vector<TenantLocation> locations;
    for (const auto& store : *snapshot) locations.push_back(store->location());
    listener->Watch(locations);
  });
  d->reloader_->SetOnRoutingChange([schedule_ptr] { schedule_ptr->WakeAll(); });
  Status watching = DirWatcher::Start(
      config.plugin_dir, [daemon] { daemon->RequestPluginScan(); }, &d->watcher_);
  if (!watching.ok()) {
    spdlog::warn("Not watching the plugin folder ({}); plugin changes are picked up at each "
                 "refresh_interval and on SIGHUP",
                 watching.message());
  }
  d->observe_->SetPluginsLoaded();
  d->PublishPlugins();
  OBX_RETURN_IF_ERROR(d->observe_->StartHttp());
  *out = std::move(d);
  return Status::OK();
}

void Daemon::PublishPlugins() {
  std::vector<FleetState::Plugin> plugins;
  for (const auto& p : reloader_->LivePlugins()) {
    FleetState::Plugin info;
    info.name = p->name();
    info.version = p->version();
    info.generation = p->generation();
    info.sha256 = p->sha256();
    info.file = p->source_path().filename().string();
    info.handler = p->is_handler();
    info.discovery = p->is_discovery();
    plugins.push_back(std::move(info));
  }
  observe_->SetPlugins(std::move(plugins));
}

void Daemon::NotifySystemd(bool forced_refresh_done) {
  const SdNotifier& notifier = observe_->notifier();
  if (!notifier.enabled()) return;
  const auto now = Clock::now();
  if ((forced_refresh_done && notified_ready_) ||
      (!notified_ready_ && observe_->NotReady().empty())) {
    notifier.Ready(observe_->StatusLine());  // also ends a RELOADING=1
    notified_ready_ = true;
    next_status_ = now + kStatusInterval;
  }
  if (now >= next_status_) {
    notifier.Status(observe_->StatusLine());
    next_status_ = now + kStatusInterval;
  }
  // WATCHDOG=1 comes from Observability's own thread (observe/watchdog_pinger.h).
}

Status Daemon::CheckConfig(const OutboxdConfig& config, bool discover, std::string* summary,
                           CreateOptions options) {
  std::unique_ptr<Daemon> d(new Daemon(config, options));
  OBX_RETURN_IF_ERROR(d->WirePlugins());
  std::ostringstream out;
  out << "plugins:";
  std::vector<std::shared_ptr<LoadedPlugin>> plugins = d->reloader_->LivePlugins();
  for (const auto& p : plugins) {
    out << " " << p->name() << " " << p->version() << " ("
        << (p->is_handler() && p->is_discovery() ? "handler, discovery"
                                                  : p->is_handler() ? "handler" : "discovery")
        << ")";
    if (&p != &plugins.back()) out << ",";
  }
  out << "\ntopics:";
  std::shared_ptr<const HandlerTable> table = d->routing_.Current();
  const std::vector<std::string> topics = table->Topics();
  for (const std::string& topic : topics) {
    const MessageHandler* handler = table->Find(topic);
    out << " " << topic << " -> " << (handler != nullptr ? handler->Describe() : "?");
    if (&topic != &topics.back()) out << ",";
  }
  if (topics.empty()) out << " none";
  out << "\ntenants: ";
  if (!discover) {
    out << "not discovered (--no-discovery)";
  } else {
    std::vector<TenantLocation> tenants;
    Status s = d->discovery_->Discover(&tenants);
    if (!s.ok()) {
      return Status::InvalidArgument("discovery: the first discovery through plugin '" +
                                     config.discovery.plugin + "' failed: " + s.message());
    }
    out << tenants.size() << " (through discovery plugin '" << config.discovery.plugin << "')";
  }
  *summary = out.str();
  return Status::OK();
}

Status Daemon::WirePlugins() {
  OBX_RETURN_IF_ERROR(staging_dir_.Open(config_.staging_dir));
  PluginReloaderOptions options;
  options.plugin_dir = config_.plugin_dir;
  options.load.staging_dir = staging_dir_.path();
  options.load.sha256_allowlist = config_.plugin_sha256_allowlist;
  options.allow_insecure = config_.allow_insecure_plugin_dir;
  options.discovery_plugin = config_.discovery.plugin;
  options.discovery_config_json = config_.discovery.config_json;
  options.handlers = config_.handlers;
  options.park_unknown_topics = config_.dispatch.unknown_topic == kUnknownTopicPark;
  options.allow_no_handlers = create_options_.allow_no_handlers;
  auto switchable = std::make_unique<SwitchableDiscoverySource>();
  discovery_switch_ = switchable.get();
  discovery_ = std::move(switchable);
  if (config_.discovery.cache_ttl.count() > 0) {
    discovery_ =
        std::make_unique<CachingDiscoverySource>(std::move(discovery_), config_.discovery.cache_ttl);
  }
  reloader_ = std::make_unique<PluginReloader>(std::move(options), &routing_, discovery_switch_,
                                               &reaper_);
  return reloader_->LoadInitial();
}

void Daemon::RequestStop() {
  // Notified under the lock: Run cannot return (and the Daemon be destroyed) while notify_all
  // still runs on the signal thread.
  std::lock_guard<std::mutex> lock(mu_);
  stop_requested_ = true;
  cv_.notify_all();
}

void Daemon::RequestRefresh() {
  // Under the lock: see RequestStop.
  std::lock_guard<std::mutex> lock(mu_);
  refresh_requested_ = true;
  cv_.notify_all();
}

void Daemon::RequestDrainCheck() {
  // Under the lock: see RequestStop.
  std::lock_guard<std::mutex> lock(mu_);
  drain_check_requested_ = true;
  cv_.notify_all();
}

void Daemon::RequestPluginScan() {
  // Under the lock: see RequestStop.
  std::lock_guard<std::mutex> lock(mu_);
  plugin_scan_requested_ = true;
  cv_.notify_all();
}

void Daemon::Cleanup() {
  // Held for the loop: the range-for would drop a temporary snapshot at once, and a
  // concurrent refresh could then free the list being walked.
  const std::shared_ptr<const TenantList> snapshot = tenant_set_->Snapshot();
  for (const auto& store : *snapshot) {
    if (!store->Available(Clock::now())) continue;
    int64_t deleted = 0;
    Status s = store->store().Cleanup(config_.stores.retention, &deleted);
    if (!s.ok()) {
      spdlog::warn("Cleanup of outbox database '{}' failed: {}", store->id(), s.message());
    } else if (deleted > 0) {
      spdlog::info("Cleanup removed {} dispatched messages from store '{}'", deleted, store->id());
    }
  }
}

void Daemon::LogParkedTopics() {
  const std::shared_ptr<const HandlerTable> table = routing_.Current();
  const std::vector<std::string> parked = table->ParkedTopics();
  const int64_t parked_now = counters_.parked.load(std::memory_order_relaxed);
  if (table->parks_unknown() && parked_now != parked_logged_) {
    spdlog::warn("dispatch.unknown_topic is \"park\": {} claimed messages had no handler and were "
                 "parked since the last refresh ({} since start); {} are held claimed, the others "
                 "wait ready until a handler for their topic is loaded",
                 parked_now - parked_logged_, parked_now, dispatcher_->HeldParkedRows());
  }
  parked_logged_ = parked_now;
  if (parked.empty()) return;
  std::string topics;
  for (const std::string& topic : parked) topics += (topics.empty() ? "'" : ", '") + topic + "'";
  spdlog::warn("Parked topics (no handler loaded): {}; {} of their messages are held claimed, "
               "the others wait ready",
               topics, dispatcher_->HeldParkedRows());
}

void Daemon::LogDrainWait() {
  std::vector<DrainTenant> tenants;
  // Held for the loop: the range-for would drop a temporary snapshot at once, and a
  // concurrent refresh could then free the list being walked.
  const std::shared_ptr<const TenantList> snapshot = tenant_set_->Snapshot();
  for (const auto& store : *snapshot) {
    DrainTenant t;
    t.id = store->id();
    Status s = store->store().GetBacklog(&t.backlog);
    t.checked = s.ok();
    if (!s.ok()) t.error = s.message();
    tenants.push_back(std::move(t));
  }
  const std::string line =
      DescribeDrainWait(tenants, static_cast<int64_t>(leases_->in_flight()),
                        std::chrono::system_clock::now());
  if (!line.empty()) spdlog::info("{}", line);
}

bool Daemon::Drained() {
  if (leases_->in_flight() > 0) return false;
  // Every store is checked, backed off or not (the check is a read): a store that cannot be checked
  // is not known to be drained, so drain mode keeps waiting for it.
  // Held for the loop: the range-for would drop a temporary snapshot at once, and a
  // concurrent refresh could then free the list being walked.
  const std::shared_ptr<const TenantList> snapshot = tenant_set_->Snapshot();
  for (const auto& store : *snapshot) {
    bool pending = true;
    Status s = store->store().HasPendingWork(&pending);
    if (!s.ok() || pending) return false;
  }
  return true;
}

Status Daemon::Run(const RunOptions& options) {
  spdlog::info("outboxd {} starting: {}", OUTBOXD_VERSION, DescribeConfig(config_));
  const auto refresh_interval = config_.discovery.refresh_interval;
  auto discovery_retry = std::chrono::milliseconds(1000);
  Status first = tenant_set_->Refresh();
  auto next_refresh = Clock::now() + (first.ok() ? refresh_interval : std::min(refresh_interval, discovery_retry));
  auto next_cleanup = Clock::now() + config_.stores.cleanup_interval;
  if (listener_) listener_->Start();
  leases_->Start();
  pool_->Start();
  observe_->StartBacklog();
  observe_->health().Beat();
  observe_->StartWatchdog();
  NotifySystemd(false);

  // --drain checks when the workers report quiet after activity; once a check finds work left it
  // checks again every max_poll_interval as well (rows leased by another process are completed
  // with no activity here), and logs what it waits for (finding 15).
  std::optional<Clock::time_point> drain_recheck;
  Clock::time_point next_drain_report = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_requested_) {
    auto wake_at = std::min(next_refresh, next_cleanup);
    if (drain_recheck) wake_at = std::min(wake_at, *drain_recheck);
    if (auto recheck = reloader_->recheck_at()) wake_at = std::min(wake_at, *recheck);
    if (reaper_.draining() > 0) wake_at = std::min(wake_at, Clock::now() + kReapInterval);
    wake_at = std::min(wake_at, Clock::now() + kBeatInterval);
    cv_.wait_until(lock, wake_at, [this, &options] {
      return stop_requested_ || refresh_requested_ || plugin_scan_requested_ ||
             (options.drain && drain_check_requested_);
    });
    if (stop_requested_) break;
    const bool forced = refresh_requested_;
    const bool scan_requested = plugin_scan_requested_;
    const bool drain_check = drain_check_requested_;
    refresh_requested_ = false;
    plugin_scan_requested_ = false;
    drain_check_requested_ = false;
    lock.unlock();
    observe_->health().Beat();
    if (forced) observe_->notifier().Reloading();
    const bool refresh_due = forced || Clock::now() >= next_refresh;
    const auto recheck = reloader_->recheck_at();
    if (refresh_due || scan_requested || (recheck && Clock::now() >= *recheck)) {
      reloader_->Rescan(Clock::now());
      PublishPlugins();
    }
    reloader_->Reap();
    if (forced) spdlog::info("Refresh requested");
    if (refresh_due) LogParkedTopics();
    if (refresh_due && !discovery_switch_->has_target()) {
      if (forced) spdlog::warn("No discovery plugin is loaded: keeping the current tenant set");
      next_refresh = Clock::now() + refresh_interval;  // discovery plugin removed: keep the set
    } else if (refresh_due) {
      Status s = tenant_set_->Refresh();
      if (s.ok()) {
        discovery_retry = std::chrono::milliseconds(1000);
        next_refresh = Clock::now() + refresh_interval;
      } else {
        next_refresh = Clock::now() + std::min(refresh_interval, discovery_retry);
        discovery_retry = NextExponentialDelay(discovery_retry, std::chrono::milliseconds(1000),
                                               std::chrono::milliseconds(60000));
      }
    }
    if (Clock::now() >= next_cleanup) {
      Cleanup();
      next_cleanup = Clock::now() + config_.stores.cleanup_interval;
    }
    // Checked when the workers report quiet after a visit that claimed rows or failed (the last
    // message recorded), and then every max_poll_interval while work is left.
    bool drained = false;
    if (options.drain && (drain_check || (drain_recheck && Clock::now() >= *drain_recheck))) {
      drained = Drained();
      drain_recheck.reset();
      if (!drained) {
        drain_recheck = Clock::now() + config_.dispatch.max_poll_interval;
        if (Clock::now() >= next_drain_report) {
          LogDrainWait();
          next_drain_report = Clock::now() + kDrainReportInterval;
        }
      }
    }
    observe_->health().Beat();
    NotifySystemd(forced);
    lock.lock();
    if (drained) {
      spdlog::info("Drained: no outbox database has a message due now or in progress");
      break;
    }
  }
  lock.unlock();
  observe_->notifier().Stopping();
  spdlog::info("Stopping: finishing in-flight messages");
  std::future<void> stopped = std::async(std::launch::async, [this] { pool_->Stop(); });
  if (stopped.wait_for(config_.dispatch.shutdown_grace) == std::future_status::timeout) {
    const int released = dispatcher_->ReleaseUnstarted();
    if (released > 0) {
      spdlog::info("Released {} claimed messages that no handler had started", released);
    }
    spdlog::error("In-flight messages did not finish within shutdown_grace ({} ms); exiting "
                  "anyway, their leases will expire and they will be delivered again",
                  config_.dispatch.shutdown_grace.count());
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }
  dispatcher_->ReleaseParked();
  leases_->Stop();
  spdlog::info("Stopped: {}", counters_.ToString());
  return Status::OK();
}

}  // namespace outboxd
