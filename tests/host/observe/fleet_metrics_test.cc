#include "observe/fleet_metrics.h"

#include <gtest/gtest.h>

#include "observe/metric_text.h"
#include "support/http_get.h"

namespace outboxd {
namespace {

FleetState Fleet(int tenants, int cap) {
  FleetState state;
  state.version = "1.2.3";
  state.max_tenant_series = cap;
  for (int i = 0; i < tenants; ++i) {
    FleetState::Tenant t;
    t.id = "tenant-" + std::to_string(i);
    state.tenants.push_back(t);
  }
  return state;
}

TEST(FleetMetricsTest, TheSeriesCapKeepsDownTenantsThenTheLargestBacklogs) {
  FleetState state = Fleet(2000, 100);
  state.tenants[1500].up = false;
  state.tenants[3].backlog.ready_due = 7;
  state.tenants[42].backlog.oldest_ready_age_ms = 90000;
  state.tenants[1999].backlog.in_progress = 1;
  for (auto& t : state.tenants) t.store_errors = 1;
  const std::string text = SerializeText(CollectFleetMetrics(state));
  EXPECT_EQ(testing::MetricValue(text, "outboxd_tenants"), 2000);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_tenant_series_dropped"), 1900);
  EXPECT_EQ(testing::CountLines(text, "outboxd_tenant_up{"), 100);
  EXPECT_EQ(testing::CountLines(text, "outboxd_tenant_oldest_ready_age_seconds{"), 100);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_tenant_up{tenant=\"tenant-1500\"}"), 0);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_tenant_ready_messages{tenant=\"tenant-3\"}"), 7);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_tenant_oldest_ready_age_seconds{tenant=\"tenant-42\"}"),
            90);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_tenant_in_progress_messages{tenant=\"tenant-1999\"}"), 1);
  // The unlabelled totals cover every tenant.
  EXPECT_EQ(testing::MetricValue(text, "outboxd_store_errors_all_total"), 2000);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_tenants_down"), 1);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_ready_messages"), 7);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_build_info{version=\"1.2.3\"}"), 1);
}

TEST(FleetMetricsTest, UnderTheCapEveryTenantHasSeriesAndNothingIsDropped) {
  FleetState state = Fleet(3, 1000);
  int64_t dropped = -1;
  EXPECT_EQ(TenantsWithSeries(state, &dropped).size(), 3u);
  EXPECT_EQ(dropped, 0);
  state.max_tenant_series = 0;
  EXPECT_TRUE(TenantsWithSeries(state, &dropped).empty());
  EXPECT_EQ(dropped, 3);
}

TEST(FleetMetricsTest, DiscoveryAndPluginFamilies) {
  FleetState state = Fleet(0, 10);
  state.discovery_added = 3;
  state.discovery_records_rejected_total = 12;
  state.discovery_records_rejected = 4;
  state.discovery_last_success_unix_ms = 1500;
  state.plugins.push_back({"exec", "0.1.0", 7, "abc", "handler_exec.so", true, false});
  state.connections["postgresql"] = 4;
  const std::string text = SerializeText(CollectFleetMetrics(state));
  EXPECT_EQ(testing::MetricValue(text, "outboxd_discovery_changes_total{change=\"added\"}"), 3);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_discovery_last_success_timestamp_seconds"), 1.5);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_discovery_records_rejected_total"), 12);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_discovery_records_rejected"), 4);
  EXPECT_EQ(
      testing::MetricValue(text, "outboxd_plugin_info{plugin=\"exec\",version=\"0.1.0\",generation=\"7\"}"),
      1);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_connections{engine=\"postgresql\"}"), 4);
  EXPECT_EQ(testing::MetricValue(text, "outboxd_connections{engine=\"sqlite\"}"), 0);
  state.discovery_last_success_unix_ms = 0;
  EXPECT_FALSE(testing::MetricValue(SerializeText(CollectFleetMetrics(state)),
                                    "outboxd_discovery_last_success_timestamp_seconds"))
      << "absent before the first success";
}

}  // namespace
}  // namespace outboxd
