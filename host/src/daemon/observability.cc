#include "daemon/observability.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "observe/fleet_metrics.h"
#include "observe/metric_text.h"
#include "observe/process_metrics.h"
#include "observe/status_document.h"
#include "plugin/rejected_record_log.h"

namespace outboxd {
namespace {

using Clock = std::chrono::steady_clock;

// The control loop beats at least every second; a loop stuck longer than this is unhealthy.
constexpr std::chrono::milliseconds kControlBound{60000};

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string EngineOf(const std::string& connection) {
  return connection.rfind("sqlite:", 0) == 0 ? "sqlite" : "postgresql";
}

}  // namespace

Observability::Observability(const OutboxdConfig& config)
    : config_(config),
      health_(std::make_unique<HealthTracker>(config.dispatch.workers, config.dispatch.lease,
                                              kControlBound)) {}

Observability::~Observability() { Stop(); }

void Observability::Attach(const Sources& sources) {
  sources_ = sources;
  const bool http = !config_.http.listen.empty();
  // The backlog gauges feed /metrics and /status (http) and systemd's STATUS= line.
  const bool backlog = http || notifier_.enabled();
  if (metrics_) return;
  if (backlog && sources.tenant_set != nullptr) {
    BacklogTrackerOptions options;
    options.interval = config_.http.backlog_interval;
    backlog_ = std::make_unique<BacklogTracker>(sources.tenant_set, options);
  }
  if (backlog || notifier_.watchdog_interval().count() > 0) {
    metrics_ = std::make_unique<DispatchMetrics>(health_.get(), backlog_.get());
  }
}

Status Observability::StartHttp() {
  if (config_.http.listen.empty()) return Status::OK();
  HttpServerOptions options;
  options.listen = config_.http.listen;
  Status s = HttpServer::Start(
      options, [this](const HttpRequest& request) { return Handle(request); }, &http_);
  if (!s.ok()) return Status::InvalidArgument("http.listen: " + s.message());
  spdlog::info("HTTP endpoint listening on {} (/metrics, /healthz, /readyz, /status)",
               http_->address());
  return Status::OK();
}

void Observability::StartBacklog() {
  if (backlog_) backlog_->Start();
}

void Observability::StartWatchdog() {
  if (notifier_.watchdog_interval().count() <= 0 || watchdog_) return;
  watchdog_ = std::make_unique<WatchdogPinger>(
      notifier_.watchdog_interval(), [this] { return health_->Check(); },
      [this] { notifier_.Watchdog(); });
  watchdog_->Start();
}

void Observability::Stop() {
  if (http_) http_->Stop();
  if (backlog_) backlog_->Stop();
  if (watchdog_) watchdog_->Stop();
}

void Observability::SetPlugins(std::vector<FleetState::Plugin> plugins) {
  MutexLock lock(&plugins_mu_);
  plugins_ = std::move(plugins);
}

std::vector<std::string> Observability::NotReady() const {
  std::vector<std::string> reasons;
  if (!plugins_loaded_.load()) reasons.push_back("plugins are not loaded yet");
  if (discovery_.last_success_unix_ms.load() == 0) {
    reasons.push_back("no discovery has succeeded yet");
  }
  if (sources_.routing == nullptr || sources_.routing->Current()->size() == 0) {
    reasons.push_back("no topic is routed to a handler");
  }
  return reasons;
}

FleetState Observability::Snapshot() const {
  FleetState state;
  state.version = OUTBOXD_VERSION;
  state.now_unix_ms = NowUnixMs();
  state.max_tenant_series = config_.http.max_tenant_series;
  const Clock::time_point now = Clock::now();
  if (sources_.tenant_set != nullptr) {
    // Held for the loop: the range-for would drop a temporary snapshot at once, and a
    // concurrent refresh could then free the list being walked.
    const std::shared_ptr<const TenantList> snapshot = sources_.tenant_set->Snapshot();
    for (const auto& store : *snapshot) {
      FleetState::Tenant t;
      t.id = store->id();
      t.connection = store->location().connection_string;
      t.schema = EngineOf(t.connection) == "sqlite" ? "" : store->location().schema_name;
      t.table = store->location().table_name;
      const Tenant::Health health = store->health();
      t.failures = health.failures;
      t.up = health.failures == 0;
      if (!t.up) {
        t.retry_in_ms = std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(health.retry_at - now).count());
        t.last_error = health.last_error;
      }
      if (backlog_) {
        const TenantBacklog b = backlog_->Get(t.id);
        t.backlog_known = b.known;
        t.backlog = b.backlog;
        if (b.known) {
          t.backlog_age_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(now - b.sampled_at).count();
        }
      }
      t.store_errors = store->errors();
      state.connections[EngineOf(t.connection)] += store->store().open_connections();
      state.tenants.push_back(std::move(t));
    }
  }
  if (backlog_) {
    state.backlog_queries = backlog_->queries();
    state.backlog_skipped = backlog_->skipped();
  }
  const DiscoveryCounters& d = discovery_;
  state.discovery_last_success_unix_ms = d.last_success_unix_ms.load();
  state.discovery_errors = d.errors.load();
  state.discovery_added = d.added.load();
  state.discovery_removed = d.removed.load();
  state.discovery_recreated = d.recreated.load();
  state.discovery_records_rejected_total = RejectedRecordLog::RejectedTotal();
  state.discovery_records_rejected = RejectedRecordLog::RejectedInLastListing();
  {
    MutexLock lock(&plugins_mu_);
    state.plugins = plugins_;
  }
  if (sources_.reloader != nullptr) state.plugin_load_errors = sources_.reloader->load_errors();
  if (sources_.routing != nullptr) {
    std::shared_ptr<const HandlerTable> table = sources_.routing->Current();
    for (const std::string& topic : table->Topics()) {
      const MessageHandler* handler = table->Find(topic);
      state.routes[topic] = handler != nullptr ? handler->Describe() : "";
    }
    state.parked_topics = table->ParkedTopics();
  }
  if (sources_.counters != nullptr) {
    const DispatchCounters& c = *sources_.counters;
    state.counters = {{"claimed", c.claimed.load()},       {"dispatched", c.dispatched.load()},
                      {"rescheduled", c.rescheduled.load()}, {"failed", c.failed.load()},
                      {"released", c.released.load()},     {"parked", c.parked.load()},
                      {"lease_lost", c.lease_lost.load()}, {"store_errors", c.store_errors.load()},
                      {"unrecorded", c.unrecorded.load()}};
  }
  if (sources_.budget != nullptr) state.connections_limit = std::max(0, sources_.budget->limit());
  if (sources_.listener != nullptr) state.notify_listeners = sources_.listener->listening_databases();
  state.not_ready = NotReady();
  state.unhealthy = health_->Check();
  return state;
}

std::string Observability::StatusLine() const {
  const FleetState state = Snapshot();
  StoreBacklog total;
  int down = 0;
  for (const FleetState::Tenant& t : state.tenants) {
    total.ready_due += t.backlog.ready_due;
    total.in_progress += t.backlog.in_progress;
    total.failed += t.backlog.failed;
    total.oldest_ready_age_ms = std::max(total.oldest_ready_age_ms, t.backlog.oldest_ready_age_ms);
    if (!t.up) ++down;
  }
  std::string line = fmt::format("{} tenants ({} backed off)", state.tenants.size(), down);
  if (backlog_) {
    line += fmt::format("; ready {}, in progress {}, failed {}, oldest ready {} s", total.ready_due,
                        total.in_progress, total.failed, total.oldest_ready_age_ms / 1000);
  }
  auto it = state.counters.find("dispatched");
  if (it != state.counters.end()) line += fmt::format("; dispatched {}", it->second);
  if (!state.not_ready.empty()) line += "; not ready: " + state.not_ready.front();
  return line;
}

HttpResponse Observability::Handle(const HttpRequest& request) const {
  if (request.path == "/metrics") {
    FleetState state = Snapshot();
    std::vector<prometheus::MetricFamily> families =
        metrics_ ? metrics_->Collect() : std::vector<prometheus::MetricFamily>{};
    for (auto& f : CollectFleetMetrics(state)) families.push_back(std::move(f));
    for (auto& f : CollectProcessMetrics()) families.push_back(std::move(f));
    return HttpResponse{200, kMetricsContentType, SerializeText(families)};
  }
  if (request.path == "/healthz") {
    const std::string problem = health_->Check();
    if (problem.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
    return HttpResponse{503, "text/plain; charset=utf-8", problem + "\n"};
  }
  if (request.path == "/readyz") {
    const std::vector<std::string> reasons = NotReady();
    if (reasons.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
    return HttpResponse{503, "application/json", NotReadyDocument(reasons)};
  }
  if (request.path == "/status") {
    return HttpResponse{200, "application/json", StatusDocument(Snapshot())};
  }
  return HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace outboxd
