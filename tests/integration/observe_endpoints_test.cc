// Issue 10, done-when 2: /readyz goes 503 -> 200 in the right order at start (before the first
// successful discovery it names what is missing), /healthz turns 503 while a handler hangs past the
// lease and back to 200 after, unknown paths are 404, /status never shows a password, and a fleet of
// 2,000 tenants (SQLite files) keeps tenant-labelled series under http.max_tenant_series.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "integration/support/observe_env.h"
#include "integration/support/outbox_env.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::HttpGet;
using testing::MetricValue;
using testing::Outboxctl;
using testing::Process;
using testing::TempDir;

constexpr milliseconds kWait{30000};
// ThreadSanitizer (OBX_SANITIZE=thread) makes outboxd several times slower; the 2,000-tenant test's
// waits (its first backlog round over 2,000 files, its shutdown) scale with it. No other effect.
#if defined(__SANITIZE_THREAD__)
constexpr int kSanitizerSlowdown = 5;
#else
constexpr int kSanitizerSlowdown = 1;
#endif

class ObserveEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::BinariesBuilt()); }
  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
};

TEST_F(ObserveEndpointsTest, ReadyzIsNotReadyUntilTheFirstDiscoverySucceeds) {
  const std::filesystem::path global_db = dir_ / "global.db";  // not there yet
  const std::filesystem::path deliveries = dir_ / "deliveries.txt";
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "sql"}, {"config", {{"connection", testing::SqliteConnection(global_db)}}}}},
      {"dispatch", {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}}},
      {"http", {{"listen", "127.0.0.1:0"}}},
      {"handlers", {testing::RecordingExecHandler({"email.send"}, deliveries)}}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0) << outboxd->StderrTail();

  testing::HttpResult ready = HttpGet(port, "/readyz");
  EXPECT_EQ(ready.status, 503);
  nlohmann::json reasons = nlohmann::json::parse(ready.body, nullptr, false);
  ASSERT_TRUE(reasons.is_object()) << ready.body;
  EXPECT_EQ(reasons["ready"], false);
  EXPECT_EQ(reasons["reasons"], nlohmann::json::array({"no discovery has succeeded yet"}))
      << "plugins are loaded and a handler is routed; only discovery is missing: " << ready.body;
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200) << "not ready is not unhealthy";

  // The global database appears: the retried discovery succeeds and outboxd becomes ready.
  testing::CreateCustomersTable(global_db);
  ASSERT_TRUE(ctl_.SchemaApply(testing::SqliteConnection(dir_ / "c1.db")));
  testing::AddCustomer(global_db, "customer-001", "One", testing::SqliteConnection(dir_ / "c1.db"));
  EXPECT_TRUE(Eventually([&] { return HttpGet(port, "/readyz").status == 200; }, kWait))
      << HttpGet(port, "/readyz").body << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->CountInStderr("Discovery complete. Managing 1 outbox databases") >= 1);

  EXPECT_EQ(HttpGet(port, "/nothing-here").status, 404);
  EXPECT_EQ(HttpGet(port, "/metrics", "POST").status, 405);
  EXPECT_EQ(HttpGet(port, "/metrics", "HEAD").status, 200);
  outboxd->Signal(SIGTERM);
  EXPECT_EQ(outboxd->WaitExit(kWait), 0);
}

TEST_F(ObserveEndpointsTest, HealthzTurns503WhileAHandlerHangsPastTheLeaseAndBackAfter) {
  const std::string conn = testing::SqliteConnection(dir_ / "t1.db");
  ASSERT_TRUE(ctl_.SchemaApply(conn));
  const std::filesystem::path calls = dir_ / "calls.txt";
  const std::filesystem::path flag = dir_.WriteFile("block.flag", "");
  const std::string secret_conn = "postgresql://app:s3cretpw@127.0.0.1:1/nodb";
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "static"},
        {"config",
         {{"databases",
           {{{"identifier", "t1"}, {"connection_string", conn}},
            {{"identifier", "pg-down"}, {"connection_string", secret_conn}}}}}}}},
      {"dispatch",
       {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"lease", "1s"},
        {"workers", 2}}},
      {"http", {{"listen", "127.0.0.1:0"}}},
      {"handlers", {testing::ObserveExecHandler(calls, flag)}}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0) << outboxd->StderrTail();
  ASSERT_TRUE(Eventually([&] { return HttpGet(port, "/readyz").status == 200; }, kWait));
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);

  ctl_.Enqueue(conn, "block", "p");
  testing::HttpResult sick;
  EXPECT_TRUE(Eventually(
      [&] {
        sick = HttpGet(port, "/healthz");
        return sick.status == 503;
      },
      kWait))
      << outboxd->StderrTail();
  EXPECT_NE(sick.body.find("in a handler for topic 'block'"), std::string::npos) << sick.body;
  EXPECT_EQ(std::count(sick.body.begin(), sick.body.end(), '\n'), 1) << "one line: " << sick.body;

  // /status while it hangs: the PostgreSQL tenant is backed off, its password never shown.
  EXPECT_TRUE(Eventually(
      [&] {
        nlohmann::json status = nlohmann::json::parse(HttpGet(port, "/status").body, nullptr, false);
        if (!status.is_object()) return false;
        for (const auto& t : status["tenants"]) {
          if (t["id"] == "pg-down" && t["state"] == "backed_off") return true;
        }
        return false;
      },
      kWait));
  const std::string status = HttpGet(port, "/status").body;
  EXPECT_EQ(status.find("s3cretpw"), std::string::npos) << status;
  EXPECT_NE(status.find("\"healthy\": false"), std::string::npos) << status;
  EXPECT_EQ(testing::Scrape(port).find("s3cretpw"), std::string::npos);

  std::error_code ec;
  std::filesystem::remove(flag, ec);
  EXPECT_TRUE(Eventually([&] { return HttpGet(port, "/healthz").status == 200; }, kWait))
      << HttpGet(port, "/healthz").body;
  EXPECT_TRUE(ctl_.WaitDone(conn, 1, kWait));
  outboxd->Signal(SIGTERM);
  EXPECT_EQ(outboxd->WaitExit(kWait), 0);
  EXPECT_EQ(outboxd->Stderr().find("s3cretpw"), std::string::npos);
}

TEST_F(ObserveEndpointsTest, TwoThousandTenantsKeepTheSeriesCapAndTheLargestBacklogs) {
  constexpr int kTenants = 2000;
  constexpr int kCap = 100;
  // Empty files are empty SQLite databases: outboxd creates each table on first use.
  nlohmann::json databases = nlohmann::json::array();
  for (int i = 0; i < kTenants; ++i) {
    const std::string id = "tenant-" + std::to_string(i);
    const std::filesystem::path file = dir_ / (id + ".db");
    std::ofstream(file).close();
    databases.push_back({{"identifier", id}, {"connection_string", testing::SqliteConnection(file)}});
  }
  // Five tenants hold messages in progress under someone else's long lease: the largest backlogs.
  for (int i : {7, 70, 700, 1234, 1999}) {
    const std::string conn = testing::SqliteConnection(dir_ / ("tenant-" + std::to_string(i) + ".db"));
    ASSERT_TRUE(ctl_.SchemaApply(conn));
    testing::SqliteFile db(dir_ / ("tenant-" + std::to_string(i) + ".db"));
    db.Exec("INSERT INTO outbox (topic, payload, status, owner_token, locked_until) VALUES "
            "('ok', 'p', 1, 'elsewhere', 9999999999999), ('ok', 'p', 1, 'elsewhere', 9999999999999)");
  }
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
      {"dispatch", {{"poll_interval", "1s"}, {"max_poll_interval", "5s"}, {"workers", 2}}},
      {"http", {{"listen", "127.0.0.1:0"}, {"max_tenant_series", kCap}, {"backlog_interval", "2s"}}},
      {"handlers", {{{"plugin", "log"}, {"topics", {"ok"}}}}}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0) << outboxd->StderrTail();

  std::string scrape;
  EXPECT_TRUE(Eventually(
      [&] {
        scrape = testing::Scrape(port);
        for (int i : {7, 70, 700, 1234, 1999}) {
          if (MetricValue(scrape, "outboxd_tenant_in_progress_messages{tenant=\"tenant-" +
                                      std::to_string(i) + "\"}") != 2) {
            return false;
          }
        }
        return true;
      },
      milliseconds(60000) * kSanitizerSlowdown, milliseconds(200)))
      << "the five tenants with a backlog keep their series";
  EXPECT_EQ(MetricValue(scrape, "outboxd_tenants"), kTenants);
  EXPECT_EQ(MetricValue(scrape, "outboxd_tenant_series_dropped"), kTenants - kCap);
  EXPECT_EQ(testing::CountLines(scrape, "outboxd_tenant_up{"), kCap);
  EXPECT_EQ(testing::CountLines(scrape, "outboxd_tenant_ready_messages{"), kCap);
  EXPECT_EQ(testing::CountLines(scrape, "outboxd_store_errors_total{"), kCap);
  EXPECT_EQ(MetricValue(scrape, "outboxd_in_progress_messages"), 10) << "totals cover every tenant";
  EXPECT_EQ(testing::PromtoolCheckMetrics(dir_, scrape).exit_code, 0);
  outboxd->Signal(SIGTERM);
  EXPECT_EQ(outboxd->WaitExit(kWait * kSanitizerSlowdown), 0);
}

}  // namespace
}  // namespace outboxd
