// packaging/monitoring/: the alert rules pass `promtool check rules` and their own `promtool test
// rules` cases (and a broken copy fails the check), and every outboxd_* / process_* metric the
// rules and the Grafana dashboard use exists in a real scrape of a running outboxd.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "integration/support/observe_env.h"
#include "integration/support/outbox_env.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::RunProgram;
using testing::RunResult;
using testing::TempDir;

std::filesystem::path MonitoringDir() {
  // FixturePath is <source>/tests/integration/fixtures/<name>.
  return testing::FixturePath("x").parent_path().parent_path().parent_path().parent_path() /
         "packaging" / "monitoring";
}

// Metric names (outboxd_* and process_*) in `text`, histogram suffixes removed.
std::set<std::string> MetricNames(const std::string& text) {
  std::set<std::string> names;
  static const std::regex name(R"(\b(outboxd|process)_[a-z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      const std::string s = suffix;
      if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0) {
        n.resize(n.size() - s.size());
      }
    }
    names.insert(n);
  }
  return names;
}

TEST(MonitoringTest, AlertRulesPassPromtoolAndTheirUnitTests) {
  TempDir dir;
  const std::filesystem::path rules = MonitoringDir() / "outboxd-alerts.yml";
  RunResult check = RunProgram("/bin/sh", {"-c", "promtool check rules '" + rules.string() + "'"},
                               dir.path());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  RunResult unit = RunProgram(
      "/bin/sh",
      {"-c", "cd '" + MonitoringDir().string() + "' && promtool test rules outboxd-alerts.test.yml"},
      dir.path());
  EXPECT_EQ(unit.exit_code, 0) << unit.out << unit.err;
  // The check really fails on a broken rule.
  const std::filesystem::path broken = dir.WriteFile(
      "broken.yml", testing::ReadText(rules) + "      - alert: Broken\n        expr: sum(\n");
  RunResult bad = RunProgram("/bin/sh", {"-c", "promtool check rules '" + broken.string() + "'"},
                             dir.path());
  EXPECT_NE(bad.exit_code, 0) << bad.out;
}

TEST(MonitoringTest, RulesAndDashboardUseOnlyMetricsOutboxdServes) {
  ASSERT_TRUE(testing::BinariesBuilt());
  TempDir dir;
  testing::Outboxctl ctl(dir.path());
  const std::string conn = testing::SqliteConnection(dir / "t1.db");
  ASSERT_TRUE(ctl.SchemaApply(conn));
  ctl.Enqueue(conn, "ok", "p");
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "static"},
        {"config", {{"databases", {{{"identifier", "t1"}, {"connection_string", conn}}}}}}}},
      {"dispatch", {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}}},
      {"http", {{"listen", "127.0.0.1:0"}}},
      {"handlers", {{{"plugin", "log"}, {"topics", {"ok"}}}}}};
  std::unique_ptr<testing::Process> outboxd =
      testing::StartOutboxd(dir, testing::WriteConfig(dir, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0);
  ASSERT_TRUE(ctl.WaitDone(conn, 1, milliseconds(20000)));
  ASSERT_TRUE(testing::Eventually(
      [&] { return testing::MetricValue(testing::Scrape(port), "outboxd_ready") == 1; },
      milliseconds(20000)));
  const std::set<std::string> served = MetricNames(testing::Scrape(port));
  outboxd->Signal(SIGTERM);
  EXPECT_EQ(outboxd->WaitExit(milliseconds(20000)), 0);

  const std::string dashboard = testing::ReadText(MonitoringDir() / "outboxd-dashboard.json");
  ASSERT_TRUE(nlohmann::json::parse(dashboard, nullptr, false).is_object());
  const std::string rules = testing::ReadText(MonitoringDir() / "outboxd-alerts.yml");
  for (const std::string& used : MetricNames(dashboard + rules)) {
    EXPECT_EQ(served.count(used), 1u) << used << " is used but not served";
  }
}

}  // namespace
}  // namespace outboxd
