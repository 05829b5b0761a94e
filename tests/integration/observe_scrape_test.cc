// Issue 10, done-when 1: a running outboxd is scraped during a scenario with three tenants (messages
// done, retried, poisoned, one handler still running, one tenant missing at start), on SQLite files
// and on PostgreSQL databases. The tenant gauges must equal the rows' real counts, the message
// counters what the handler saw, outboxd_tenant_up must be 0 for the missing tenant and 1 once it
// exists, and `promtool check metrics` must accept the scrape (and reject a broken one). A second
// scenario keeps messages waiting ready and due (the only worker hangs) so the ready gauge is
// checked against a count other than zero, and a message due later is not counted.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>

#include "integration/support/observe_env.h"
#include "integration/support/outbox_env.h"
#include "integration/support/pg_env.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::MetricValue;
using testing::Outboxctl;
using testing::Process;
using testing::TempDir;

constexpr milliseconds kWait{30000};

enum class Engine { kSqlite, kPostgres };

class ObserveScrapeTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    if (GetParam() == Engine::kPostgres) {
      std::string url;
      OBX_REQUIRE_TEST_POSTGRES(&url);
      dbs_ = std::make_unique<testing::PgDatabases>(url);
    }
  }
  void TearDown() override {
    if (!missing_db_name_.empty() && dbs_) {
      testing::PgSession admin(dbs_->admin_url());
      admin.ExecQuiet("DROP DATABASE IF EXISTS " + missing_db_name_ + " WITH (FORCE)");
    }
  }

  // A tenant's connection string; the database exists (with its table) unless `missing`.
  std::string MakeTenant(const std::string& name, bool missing) {
    std::string conn;
    if (GetParam() == Engine::kSqlite) {
      conn = testing::SqliteConnection(dir_ / (name + ".db"));
    } else if (missing) {
      missing_db_name_ = testing::UniqueDbName("obx_obs_missing");
      conn = testing::WithDatabase(dbs_->admin_url(), missing_db_name_);
    } else {
      conn = dbs_->Create("obx_obs");
    }
    if (!missing) EXPECT_TRUE(ctl_.SchemaApply(conn));
    return conn;
  }

  // Makes the missing tenant's database exist.
  void CreateMissing(const std::string& conn) {
    if (GetParam() == Engine::kPostgres) {
      testing::PgSession admin(dbs_->admin_url());
      ASSERT_TRUE(admin.Exec("CREATE DATABASE " + missing_db_name_));
    }
    ASSERT_TRUE(ctl_.SchemaApply(conn));
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::unique_ptr<testing::PgDatabases> dbs_;
  std::string missing_db_name_;
};

TEST_P(ObserveScrapeTest, GaugesMatchTheRowsCountersMatchTheHandlerAndPromtoolAcceptsTheScrape) {
  const std::string t1 = MakeTenant("t1", false);
  const std::string t2 = MakeTenant("t2", false);
  const std::string t3 = MakeTenant("t3", true);
  ASSERT_FALSE(HasFailure());
  for (int i = 0; i < 3; ++i) ctl_.Enqueue(t1, "ok", "p");
  ctl_.Enqueue(t1, "poison", "p");
  ctl_.Enqueue(t2, "ok", "p");
  ctl_.Enqueue(t2, "ok", "p");
  ctl_.Enqueue(t2, "retry", "p");
  const std::filesystem::path calls = dir_ / "calls.txt";
  const std::filesystem::path flag = dir_.WriteFile("block.flag", "");

  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "static"},
        {"config",
         {{"databases",
           {{{"identifier", "t1"}, {"connection_string", t1}},
            {{"identifier", "t2"}, {"connection_string", t2}},
            {{"identifier", "t3"}, {"connection_string", t3}}}}}}}},
      {"dispatch",
       {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"workers", 3},
        {"max_attempts", 2}}},
      {"http", {{"listen", "127.0.0.1:0"}, {"backlog_interval", "1s"}}},
      {"handlers", {testing::ObserveExecHandler(calls, flag)}}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0) << outboxd->StderrTail();

  // The missing tenant is backed off; the two others settle: t1 3 done, 1 failed; t2 2 done, 1
  // failed after one retry. Then a message whose handler blocks stays in progress in t1 (it is
  // enqueued after the rest is recorded: a batch records its outcomes together).
  EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_up{tenant=\"t3\"}", 0, kWait))
      << outboxd->StderrTail();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s1 = ctl_.Stats(t1);
        auto s2 = ctl_.Stats(t2);
        return s1 && s2 && s1->done == 3 && s1->failed == 1 && s2->done == 2 &&
               s2->failed == 1 && s2->ready == 0 && s2->in_progress == 0;
      },
      kWait, milliseconds(100)))
      << testing::Describe(ctl_.Stats(t1)) << " " << testing::Describe(ctl_.Stats(t2))
      << outboxd->StderrTail();
  ctl_.Enqueue(t1, "block", "p");
  ASSERT_TRUE(Eventually(
      [&] {
        auto s1 = ctl_.Stats(t1);
        return s1 && s1->in_progress == 1 && testing::HandlerCalls(calls, "block") == 1;
      },
      kWait, milliseconds(100)))
      << testing::Describe(ctl_.Stats(t1));

  // Gauges equal the rows (the backlog is refreshed every second).
  for (const auto& [tenant, conn] : {std::pair{"t1", t1}, std::pair{"t2", t2}}) {
    std::optional<StoreStats> rows = ctl_.Stats(conn);
    ASSERT_TRUE(rows);
    const std::string label = std::string("{tenant=\"") + tenant + "\"}";
    EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_failed_messages" + label,
                                       static_cast<double>(rows->failed)))
        << tenant;
    EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_in_progress_messages" + label,
                                       static_cast<double>(rows->in_progress)))
        << tenant;
    EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_ready_messages" + label,
                                       static_cast<double>(rows->ready)))
        << tenant;
    EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_up" + label, 1)) << tenant;
  }

  // Counters equal what the handler saw.
  const std::string scrape = testing::Scrape(port);
  auto count = [&](const std::string& topic, const std::string& outcome) {
    return MetricValue(scrape, "outboxd_messages_total{outcome=\"" + outcome + "\",topic=\"" +
                                   topic + "\"}")
        .value_or(-1);
  };
  EXPECT_EQ(count("ok", "done"), testing::HandlerCalls(calls, "ok"));
  EXPECT_EQ(count("ok", "done"), 5);
  EXPECT_EQ(count("poison", "failed"), testing::HandlerCalls(calls, "poison"));
  EXPECT_EQ(count("retry", "retried") + count("retry", "failed"),
            testing::HandlerCalls(calls, "retry"));
  EXPECT_EQ(count("retry", "retried"), 1);
  EXPECT_EQ(count("retry", "failed"), 1);
  EXPECT_EQ(count("block", "done"), 0);
  EXPECT_EQ(MetricValue(scrape, "outboxd_tenants"), 3);
  EXPECT_EQ(MetricValue(scrape, "outboxd_handler_duration_seconds_count{topic=\"ok\"}"), 5);
  EXPECT_GE(MetricValue(scrape, "outboxd_claims_total{result=\"rows\"}").value_or(0), 2);
  EXPECT_GE(MetricValue(scrape, "outboxd_store_errors_total{tenant=\"t3\"}").value_or(0), 1);
  EXPECT_EQ(MetricValue(scrape, "outboxd_pickup_delay_seconds_count"),
            testing::HandlerCalls(calls, "ok") + testing::HandlerCalls(calls, "poison") +
                testing::HandlerCalls(calls, "retry") + testing::HandlerCalls(calls, "block"));

  testing::RunResult promtool = testing::PromtoolCheckMetrics(dir_, scrape);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;
  // The same check really fails on a malformed scrape.
  testing::RunResult broken =
      testing::PromtoolCheckMetrics(dir_, scrape + "outboxd_broken{tenant=\"x\" 1\n");
  EXPECT_NE(broken.exit_code, 0) << "promtool accepted a broken line";

  // The missing tenant appears: up again, its message delivered and counted.
  ASSERT_NO_FATAL_FAILURE(CreateMissing(t3));
  ctl_.Enqueue(t3, "ok", "p");
  EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_up{tenant=\"t3\"}", 1, milliseconds(90000)))
      << outboxd->StderrTail();
  EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_messages_total{outcome=\"done\",topic=\"ok\"}", 6))
      << outboxd->StderrTail();
  EXPECT_EQ(testing::HandlerCalls(calls, "ok", "t3"), 1);

  std::error_code ec;
  std::filesystem::remove(flag, ec);  // the blocked handler finishes
  EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_messages_total{outcome=\"done\",topic=\"block\"}", 1));
  const std::string last = testing::Scrape(port);
  EXPECT_EQ(testing::PromtoolCheckMetrics(dir_, last).exit_code, 0);
  outboxd->Signal(SIGTERM);
  EXPECT_EQ(outboxd->WaitExit(kWait), 0);
}

// The ready gauge counts rows that are ready AND due, not only zero: while the only worker hangs in
// a handler, three messages wait ready and due and one waits for a later due time.
TEST_P(ObserveScrapeTest, TheReadyGaugeCountsTheRowsThatWaitReadyAndDue) {
  const std::string t1 = MakeTenant("t1", false);
  ASSERT_FALSE(HasFailure());
  const std::filesystem::path calls = dir_ / "calls.txt";
  const std::filesystem::path flag = dir_.WriteFile("block.flag", "");
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "static"},
        {"config", {{"databases", {{{"identifier", "t1"}, {"connection_string", t1}}}}}}}},
      {"dispatch",
       {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"workers", 1},
        {"batch_size", 1}}},
      {"http", {{"listen", "127.0.0.1:0"}, {"backlog_interval", "1s"}}},
      {"handlers", {testing::ObserveExecHandler(calls, flag)}}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0) << outboxd->StderrTail();

  ctl_.Enqueue(t1, "block", "p");
  ASSERT_TRUE(Eventually([&] { return testing::HandlerCalls(calls, "block") == 1; }, kWait))
      << outboxd->StderrTail();
  for (int i = 0; i < 3; ++i) ctl_.Enqueue(t1, "ok", "p");
  testing::RunResult later = ctl_.Run(
      {"enqueue", "--connection", t1, "--topic", "ok", "--payload", "p", "--delay", "1h"});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  std::optional<StoreStats> rows = ctl_.Stats(t1);
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->ready, 4) << "three due now and one due in an hour";
  EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_ready_messages{tenant=\"t1\"}", 3))
      << testing::Scrape(port);
  EXPECT_TRUE(
      testing::WaitForMetric(port, "outboxd_tenant_in_progress_messages{tenant=\"t1\"}", 1));
  const std::string scrape = testing::Scrape(port);
  EXPECT_EQ(MetricValue(scrape, "outboxd_ready_messages"), 3);
  EXPECT_GT(MetricValue(scrape, "outboxd_tenant_oldest_ready_age_seconds{tenant=\"t1\"}")
                .value_or(0),
            0);

  std::error_code ec;
  std::filesystem::remove(flag, ec);  // the worker is free: the three due messages go
  EXPECT_TRUE(ctl_.WaitDone(t1, 4, kWait, /*settled=*/false))
      << testing::Describe(ctl_.Stats(t1));
  EXPECT_TRUE(testing::WaitForMetric(port, "outboxd_tenant_ready_messages{tenant=\"t1\"}", 0));
  outboxd->Signal(SIGTERM);
  EXPECT_EQ(outboxd->WaitExit(kWait), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, ObserveScrapeTest,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param == Engine::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace outboxd
