#include "daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <set>
#include <system_error>

#include "daemon/plugin_discovery_source.h"
#include "daemon/plugin_message_handler.h"
#include "discovery/caching_discovery_source.h"
#include "plugin/discovery_instance.h"
#include "plugin/handler_instance.h"
#include "plugin/plugin_loader.h"

namespace outboxd {
namespace {

using Clock = std::chrono::steady_clock;

Status MakePrivateDir(const std::string& configured, std::filesystem::path* out, bool* owned) {
  std::error_code ec;
  if (!configured.empty()) {
    std::filesystem::create_directories(configured, ec);
    if (ec) return Status::IoError("staging_dir '" + configured + "': " + ec.message());
    if (::chmod(configured.c_str(), 0700) != 0) {
      return Status::IoError("staging_dir '" + configured + "': cannot make it private");
    }
    *out = configured;
    *owned = false;
    return Status::OK();
  }
  const char* runtime = getenv("XDG_RUNTIME_DIR");
  std::filesystem::path base = (runtime != nullptr && *runtime != '\0')
                                   ? std::filesystem::path(runtime)
                                   : std::filesystem::temp_directory_path(ec);
  std::string pattern = (base / "outboxd-staging-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::IoError("cannot create a private staging folder under '" + base.string() + "'");
  }
  *out = pattern;
  *owned = true;
  return Status::OK();
}

}  // namespace

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "localhost") + ":" + std::to_string(getpid());
}

Daemon::Daemon(OutboxdConfig config) : config_(std::move(config)) {}

Daemon::~Daemon() {
  if (pool_) pool_->Stop();
  if (leases_) leases_->Stop();
  if (owns_staging_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(staging_dir_, ec);
  }
}

Status Daemon::Create(const OutboxdConfig& config, std::unique_ptr<Daemon>* out) {
  std::unique_ptr<Daemon> d(new Daemon(config));
  OBX_RETURN_IF_ERROR(d->LoadPlugins());
  OBX_RETURN_IF_ERROR(d->WireDiscovery());
  OBX_RETURN_IF_ERROR(d->WireHandlers());
  OBX_RETURN_IF_ERROR(MakeSelectionStrategy(config.dispatch.strategy, &d->strategy_)
                          .WithContext("dispatch.strategy"));

  StoreOptions store_options;
  store_options.worker_id = config.worker_id.empty() ? DefaultWorkerId() : config.worker_id;
  store_options.busy_timeout = config.stores.busy_timeout;
  store_options.max_connections = config.stores.max_connections_per_store;
  StoreProviderOptions provider_options;
  provider_options.allow_empty = config.discovery.allow_empty;
  d->provider_ = std::make_unique<StoreProvider>(
      d->discovery_.get(),
      [store_options](const StoreLocation& location, std::unique_ptr<OutboxStore>* store) {
        return OpenOutboxStore(location, store_options, store);
      },
      provider_options);

  d->leases_ = std::make_unique<LeaseKeeper>(config.dispatch.lease);
  DispatchOptions dispatch;
  dispatch.batch_size = config.dispatch.batch_size;
  dispatch.lease = config.dispatch.lease;
  dispatch.max_attempts = config.dispatch.max_attempts;
  d->dispatcher_ = std::make_unique<Dispatcher>(d->provider_.get(), &d->routing_,
                                                d->strategy_.get(), d->leases_.get(),
                                                &d->counters_, dispatch);
  PollOptions poll;
  poll.workers = config.dispatch.workers;
  poll.poll_interval = config.dispatch.poll_interval;
  poll.max_poll_interval = config.dispatch.max_poll_interval;
  d->pool_ = std::make_unique<WorkerPool>(d->dispatcher_.get(), d->provider_.get(), poll);
  WorkerPool* pool = d->pool_.get();
  d->provider_->SetOnChange([pool] { pool->Wake(); });
  *out = std::move(d);
  return Status::OK();
}

Status Daemon::LoadPlugins() {
  OBX_RETURN_IF_ERROR(MakePrivateDir(config_.staging_dir, &staging_dir_, &owns_staging_dir_));
  PluginLoadOptions options;
  options.staging_dir = staging_dir_;
  return PluginCatalog::LoadDirectory(config_.plugin_dir, options, &catalog_)
      .WithContext("plugin_dir");
}

Status Daemon::WireDiscovery() {
  const DiscoveryConfig& dc = config_.discovery;
  std::shared_ptr<LoadedPlugin> plugin = catalog_.Find(dc.plugin);
  if (!plugin) {
    return Status::InvalidArgument("discovery.plugin: no plugin named '" + dc.plugin + "' in " +
                                   config_.plugin_dir);
  }
  if (!plugin->is_discovery()) {
    return Status::InvalidArgument("discovery.plugin: plugin '" + dc.plugin +
                                   "' is not a discovery plugin");
  }
  std::unique_ptr<DiscoveryInstance> instance;
  OBX_RETURN_IF_ERROR(DiscoveryInstance::Create(plugin, dc.config_json, &instance)
                          .WithContext("discovery.config"));
  discovery_ = std::make_unique<PluginDiscoverySource>(std::move(instance));
  if (dc.cache_ttl.count() > 0) {
    discovery_ = std::make_unique<CachingDiscoverySource>(std::move(discovery_), dc.cache_ttl);
  }
  return Status::OK();
}

Status Daemon::WireHandlers() {
  std::vector<HandlerTable::Route> routes;
  std::set<std::string> configured;
  for (std::size_t i = 0; i < config_.handlers.size(); ++i) {
    const HandlerConfig& hc = config_.handlers[i];
    const std::string key = "handlers[" + std::to_string(i) + "]";
    std::shared_ptr<LoadedPlugin> plugin = catalog_.Find(hc.plugin);
    if (!plugin) {
      return Status::InvalidArgument(key + ".plugin: no plugin named '" + hc.plugin + "' in " +
                                     config_.plugin_dir);
    }
    if (!plugin->is_handler()) {
      return Status::InvalidArgument(key + ".plugin: plugin '" + hc.plugin +
                                     "' is not a handler plugin");
    }
    std::vector<std::string> topics = hc.topics.empty() ? plugin->declared_topics() : hc.topics;
    if (topics.empty()) {
      return Status::InvalidArgument(key + ".topics: plugin '" + hc.plugin +
                                     "' declares no topics; list the topics it should receive");
    }
    std::shared_ptr<HandlerInstance> instance;
    OBX_RETURN_IF_ERROR(HandlerInstance::Create(plugin, hc.config_json, &instance)
                            .WithContext(key + ".config"));
    auto handler = std::make_shared<PluginMessageHandler>(instance);
    for (const std::string& topic : topics) routes.emplace_back(topic, handler);
    configured.insert(hc.plugin);
  }
  // A handler plugin that declares its topics needs no entry.
  for (const auto& plugin : catalog_.plugins()) {
    if (!plugin->is_handler() || plugin->declared_topics().empty() ||
        configured.count(plugin->name()) > 0) {
      continue;
    }
    std::shared_ptr<HandlerInstance> instance;
    OBX_RETURN_IF_ERROR(HandlerInstance::Create(plugin, "{}", &instance)
                            .WithContext("plugin '" + plugin->name() + "'"));
    auto handler = std::make_shared<PluginMessageHandler>(instance);
    for (const std::string& topic : plugin->declared_topics()) routes.emplace_back(topic, handler);
  }
  std::shared_ptr<const HandlerTable> table;
  OBX_RETURN_IF_ERROR(HandlerTable::Build(std::move(routes), &table).WithContext("handlers"));
  for (const std::string& topic : table->Topics()) {
    spdlog::info("Topic '{}' -> {}", topic, table->Find(topic)->Describe());
  }
  if (table->size() == 0) spdlog::warn("No handler topics configured: every message will fail");
  routing_.Publish(std::move(table));
  return Status::OK();
}

void Daemon::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

void Daemon::RequestRefresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    refresh_requested_ = true;
  }
  cv_.notify_all();
}

void Daemon::Cleanup() {
  for (const auto& store : *provider_->Snapshot()) {
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

bool Daemon::Drained() {
  if (leases_->in_flight() > 0) return false;
  // Every store is checked, backed off or not (the check is a read): a store that cannot be checked
  // is not known to be drained, so drain mode keeps waiting for it.
  for (const auto& store : *provider_->Snapshot()) {
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
  Status first = provider_->Refresh();
  auto next_refresh = Clock::now() + (first.ok() ? refresh_interval : std::min(refresh_interval, discovery_retry));
  auto next_cleanup = Clock::now() + config_.stores.cleanup_interval;
  leases_->Start();
  pool_->Start();

  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_requested_) {
    auto wake_at = std::min(next_refresh, next_cleanup);
    if (options.drain) wake_at = std::min(wake_at, Clock::now() + config_.dispatch.poll_interval);
    cv_.wait_until(lock, wake_at, [this] { return stop_requested_ || refresh_requested_; });
    if (stop_requested_) break;
    const bool forced = refresh_requested_;
    refresh_requested_ = false;
    lock.unlock();
    if (forced || Clock::now() >= next_refresh) {
      if (forced) spdlog::info("Refresh requested");
      Status s = provider_->Refresh();
      if (s.ok()) {
        discovery_retry = std::chrono::milliseconds(1000);
        next_refresh = Clock::now() + refresh_interval;
      } else {
        next_refresh = Clock::now() + std::min(refresh_interval, discovery_retry);
        discovery_retry = std::min(discovery_retry * 2, std::chrono::milliseconds(60000));
      }
    }
    if (Clock::now() >= next_cleanup) {
      Cleanup();
      next_cleanup = Clock::now() + config_.stores.cleanup_interval;
    }
    const bool drained = options.drain && Drained();
    lock.lock();
    if (drained) {
      spdlog::info("Drained: no outbox database has a message due now or in progress");
      break;
    }
  }
  lock.unlock();
  spdlog::info("Stopping: finishing in-flight messages");
  std::future<void> stopped = std::async(std::launch::async, [this] { pool_->Stop(); });
  if (stopped.wait_for(config_.dispatch.shutdown_grace) == std::future_status::timeout) {
    spdlog::error("In-flight messages did not finish within shutdown_grace ({} ms); exiting "
                  "anyway, their leases will expire and they will be delivered again",
                  config_.dispatch.shutdown_grace.count());
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }
  leases_->Stop();
  spdlog::info("Stopped: {}", counters_.ToString());
  return Status::OK();
}

}  // namespace outboxd
