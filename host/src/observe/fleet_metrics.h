// FleetMetrics: the metric families read at scrape time from a FleetState snapshot that the daemon
// fills (tenant set and health, backlog samples, discovery counters, plugins, connections):
//   outboxd_build_info{version}                        gauge 1
//   outboxd_ready, outboxd_healthy                     gauge 1/0 (what /readyz, /healthz say)
//   outboxd_tenants                                    gauge
//   outboxd_tenant_up{tenant}                          gauge 1 serving, 0 backed off
//   outboxd_tenant_ready_messages{tenant}              gauge (ready and due)
//   outboxd_tenant_in_progress_messages{tenant}        gauge
//   outboxd_tenant_failed_messages{tenant}             gauge
//   outboxd_tenant_oldest_ready_age_seconds{tenant}    gauge
//   outboxd_store_errors_total{tenant}                 counter
//   outboxd_tenant_series_dropped                      gauge
//   outboxd_ready_messages, outboxd_in_progress_messages, outboxd_failed_messages,
//   outboxd_oldest_ready_age_seconds, outboxd_tenants_down, outboxd_store_errors_all_total
//                                                      unlabelled totals over every tenant
//   outboxd_discovery_last_success_timestamp_seconds   gauge (absent before the first success)
//   outboxd_discovery_errors_total                     counter
//   outboxd_discovery_changes_total{change}            counter (added, removed, recreated)
//   outboxd_plugin_info{plugin,version,generation}     gauge 1
//   outboxd_plugin_load_errors_total                   counter
//   outboxd_connections{engine}                        gauge (sqlite, postgresql: pooled)
//   outboxd_connections_limit                          gauge (stores.max_connections; 0 = none)
//   outboxd_notify_listeners                           gauge
//   outboxd_backlog_queries_total, outboxd_backlog_skipped_total   counters (the gauges' cost)
//
// Series cap: tenant-labelled series exist for at most max_tenant_series tenants. Beyond it the
// tenants kept are the ones an operator needs first: backed-off tenants, then the largest ready
// backlog, then the oldest ready age, then the most in progress; the rest are dropped and counted
// by outboxd_tenant_series_dropped. The unlabelled totals always cover every tenant.
//
// THREADING: pure functions over the snapshot.
#ifndef OUTBOXD_OBSERVE_FLEET_METRICS_H_
#define OUTBOXD_OBSERVE_FLEET_METRICS_H_

#include <cstdint>
#include <vector>

#include <prometheus/metric_family.h>

#include "observe/fleet_state.h"

namespace outboxd {


// Indexes into state.tenants of the tenants that keep their series, in output order; *dropped
// gets how many were left out.
std::vector<size_t> TenantsWithSeries(const FleetState& state, int64_t* dropped);

std::vector<prometheus::MetricFamily> CollectFleetMetrics(const FleetState& state);

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_FLEET_METRICS_H_
