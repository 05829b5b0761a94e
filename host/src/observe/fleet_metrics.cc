#include "observe/fleet_metrics.h"

#include <algorithm>
#include <numeric>

#include "observe/metric_text.h"

namespace outboxd {

using prometheus::MetricType;

std::vector<size_t> TenantsWithSeries(const FleetState& state, int64_t* dropped) {
  std::vector<size_t> order(state.tenants.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t cap = static_cast<size_t>(std::max(0, state.max_tenant_series));
  if (order.size() > cap) {
    auto first = [&state](size_t a, size_t b) {
      const FleetState::Tenant& x = state.tenants[a];
      const FleetState::Tenant& y = state.tenants[b];
      if (x.up != y.up) return !x.up;  // backed-off tenants first
      if (x.backlog.ready_due != y.backlog.ready_due) return x.backlog.ready_due > y.backlog.ready_due;
      if (x.backlog.oldest_ready_age_ms != y.backlog.oldest_ready_age_ms) {
        return x.backlog.oldest_ready_age_ms > y.backlog.oldest_ready_age_ms;
      }
      if (x.backlog.in_progress != y.backlog.in_progress) {
        return x.backlog.in_progress > y.backlog.in_progress;
      }
      return x.id < y.id;
    };
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(cap), order.end(),
                      first);
    order.resize(cap);
  }
  std::sort(order.begin(), order.end(),
            [&state](size_t a, size_t b) { return state.tenants[a].id < state.tenants[b].id; });
  *dropped = static_cast<int64_t>(state.tenants.size() - order.size());
  return order;
}

std::vector<prometheus::MetricFamily> CollectFleetMetrics(const FleetState& state) {
  std::vector<prometheus::MetricFamily> out;
  auto build = MakeFamily("outboxd_build_info", "outboxd build information", MetricType::Gauge);
  AddSample(&build, {{"version", state.version}}, 1);
  out.push_back(std::move(build));

  out.push_back(ScalarFamily("outboxd_ready", "1 when /readyz answers 200", MetricType::Gauge,
                             state.not_ready.empty() ? 1 : 0));
  out.push_back(ScalarFamily("outboxd_healthy", "1 when /healthz answers 200", MetricType::Gauge,
                             state.unhealthy.empty() ? 1 : 0));
  out.push_back(ScalarFamily("outboxd_tenants", "Tenant outbox databases managed",
                             MetricType::Gauge, static_cast<double>(state.tenants.size())));
  int64_t dropped = 0;
  const std::vector<size_t> kept = TenantsWithSeries(state, &dropped);
  auto up = MakeFamily("outboxd_tenant_up", "1 while the tenant's database serves, 0 while it is "
                       "backed off after a failure", MetricType::Gauge);
  auto ready = MakeFamily("outboxd_tenant_ready_messages",
                          "Ready messages that are due now, per tenant", MetricType::Gauge);
  auto in_progress = MakeFamily("outboxd_tenant_in_progress_messages",
                                "Messages in progress (leased), per tenant", MetricType::Gauge);
  auto failed = MakeFamily("outboxd_tenant_failed_messages", "Failed (poison) messages, per tenant",
                           MetricType::Gauge);
  auto age = MakeFamily("outboxd_tenant_oldest_ready_age_seconds",
                        "Age of the oldest ready and due message since its due time, per tenant",
                        MetricType::Gauge);
  auto errors = MakeFamily("outboxd_store_errors_total", "Failed database calls, per tenant",
                           MetricType::Counter);
  for (size_t i : kept) {
    const FleetState::Tenant& t = state.tenants[i];
    const MetricLabels labels = {{"tenant", t.id}};
    AddSample(&up, labels, t.up ? 1 : 0);
    AddSample(&ready, labels, static_cast<double>(t.backlog.ready_due));
    AddSample(&in_progress, labels, static_cast<double>(t.backlog.in_progress));
    AddSample(&failed, labels, static_cast<double>(t.backlog.failed));
    AddSample(&age, labels, static_cast<double>(t.backlog.oldest_ready_age_ms) / 1000.0);
    AddSample(&errors, labels, static_cast<double>(t.store_errors));
  }
  for (auto* f : {&up, &ready, &in_progress, &failed, &age, &errors}) out.push_back(std::move(*f));
  out.push_back(ScalarFamily("outboxd_tenant_series_dropped",
                             "Tenants left without tenant-labelled series (http.max_tenant_series)",
                             MetricType::Gauge, static_cast<double>(dropped)));

  StoreBacklog total;
  int64_t down = 0;
  int64_t all_errors = 0;
  for (const FleetState::Tenant& t : state.tenants) {
    total.ready_due += t.backlog.ready_due;
    total.in_progress += t.backlog.in_progress;
    total.failed += t.backlog.failed;
    total.oldest_ready_age_ms = std::max(total.oldest_ready_age_ms, t.backlog.oldest_ready_age_ms);
    if (!t.up) ++down;
    all_errors += t.store_errors;
  }
  out.push_back(ScalarFamily("outboxd_ready_messages", "Ready and due messages over all tenants",
                             MetricType::Gauge, static_cast<double>(total.ready_due)));
  out.push_back(ScalarFamily("outboxd_in_progress_messages",
                             "Messages in progress over all tenants", MetricType::Gauge,
                             static_cast<double>(total.in_progress)));
  out.push_back(ScalarFamily("outboxd_failed_messages", "Failed messages over all tenants",
                             MetricType::Gauge, static_cast<double>(total.failed)));
  out.push_back(ScalarFamily("outboxd_oldest_ready_age_seconds",
                             "Largest oldest-ready age over all tenants", MetricType::Gauge,
                             static_cast<double>(total.oldest_ready_age_ms) / 1000.0));
  out.push_back(ScalarFamily("outboxd_tenants_down", "Tenants backed off after a failure",
                             MetricType::Gauge, static_cast<double>(down)));
  out.push_back(ScalarFamily("outboxd_store_errors_all_total",
                             "Failed database calls over all tenants", MetricType::Counter,
                             static_cast<double>(all_errors)));

  if (state.discovery_last_success_unix_ms > 0) {
    out.push_back(ScalarFamily("outboxd_discovery_last_success_timestamp_seconds",
                               "Unix time of the last successful discovery", MetricType::Gauge,
                               static_cast<double>(state.discovery_last_success_unix_ms) / 1000.0));
  }
  out.push_back(ScalarFamily("outboxd_discovery_errors_total", "Failed discovery runs",
                             MetricType::Counter, static_cast<double>(state.discovery_errors)));
  auto changes = MakeFamily("outboxd_discovery_changes_total",
                            "Tenant set changes applied by discovery", MetricType::Counter);
  AddSample(&changes, {{"change", "added"}}, static_cast<double>(state.discovery_added));
  AddSample(&changes, {{"change", "removed"}}, static_cast<double>(state.discovery_removed));
  AddSample(&changes, {{"change", "recreated"}}, static_cast<double>(state.discovery_recreated));
  out.push_back(std::move(changes));
  out.push_back(ScalarFamily("outboxd_discovery_records_rejected_total",
                             "Discovery records skipped as invalid, counted at every listing",
                             MetricType::Counter,
                             static_cast<double>(state.discovery_records_rejected_total)));
  out.push_back(ScalarFamily("outboxd_discovery_records_rejected",
                             "Discovery records skipped as invalid by the latest listing",
                             MetricType::Gauge,
                             static_cast<double>(state.discovery_records_rejected)));

  auto plugins = MakeFamily("outboxd_plugin_info", "Loaded plugin generations", MetricType::Gauge);
  for (const FleetState::Plugin& p : state.plugins) {
    AddSample(&plugins,
              {{"plugin", p.name}, {"version", p.version}, {"generation", std::to_string(p.generation)}},
              1);
  }
  out.push_back(std::move(plugins));
  out.push_back(ScalarFamily("outboxd_plugin_load_errors_total", "Plugin files rejected",
                             MetricType::Counter, static_cast<double>(state.plugin_load_errors)));

  auto connections = MakeFamily("outboxd_connections", "Open pooled database connections by engine",
                                MetricType::Gauge);
  for (const char* engine : {"sqlite", "postgresql"}) {
    auto it = state.connections.find(engine);
    AddSample(&connections, {{"engine", engine}},
              it == state.connections.end() ? 0 : static_cast<double>(it->second));
  }
  out.push_back(std::move(connections));
  out.push_back(ScalarFamily("outboxd_connections_limit",
                             "stores.max_connections (0: no limit)", MetricType::Gauge,
                             static_cast<double>(state.connections_limit)));
  out.push_back(ScalarFamily("outboxd_notify_listeners",
                             "Databases with a LISTEN connection (stores.notify)",
                             MetricType::Gauge, static_cast<double>(state.notify_listeners)));
  out.push_back(ScalarFamily("outboxd_backlog_queries_total",
                             "Backlog queries made for the tenant gauges (http.backlog_interval)",
                             MetricType::Counter, static_cast<double>(state.backlog_queries)));
  out.push_back(ScalarFamily("outboxd_backlog_skipped_total",
                             "Backlog refreshes answered by a worker's empty claim instead of a query",
                             MetricType::Counter, static_cast<double>(state.backlog_skipped)));
  return out;
}

}  // namespace outboxd
