// dispatch.unknown_topic end to end on SQLite with the real binaries: under "park" a message whose
// topic has no handler is held (ready or claimed, never failed, no attempt counted) and reported
// at each refresh and counted in outboxd_messages_total{outcome="parked"}; once outboxd runs with
// a handler for the topic it is delivered as attempt 1.
// Under "fail" (default) with no handler topic at all, outboxd refuses to start unless
// --allow-no-handlers.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/observe_env.h"
#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Outboxctl;
using testing::Process;
using testing::RunResult;
using testing::SplitLines;
using testing::TempDir;

constexpr milliseconds kWait{30000};

// Appends "<message id> <attempt>" to $1.
constexpr char kRecordAttempt[] =
    "#!/bin/sh\n"
    "echo \"$OUTBOX_MESSAGE_ID $OUTBOX_ATTEMPT\" >> \"$1\"\n";

class UnknownTopicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    db_ = testing::SqliteConnection(dir_ / "tenant.db");
    ASSERT_TRUE(ctl_.SchemaApply(db_));
    script_ = dir_.WriteFile("record.sh", kRecordAttempt).string();
    deliveries_ = dir_ / "deliveries.txt";
  }

  nlohmann::json Config(const std::vector<std::string>& topics, const std::string& policy) const {
    nlohmann::json config = {
        {"plugin_dir", testing::PluginDir().string()},
        {"discovery",
         {{"plugin", "static"},
          {"config", {{"databases", {{{"identifier", "t1"}, {"connection_string", db_}}}}}},
          {"refresh_interval", "200ms"}}},
        {"dispatch",
         {{"poll_interval", "20ms"}, {"max_poll_interval", "100ms"}, {"unknown_topic", policy}}},
        {"handlers", nlohmann::json::array()}};
    if (!topics.empty()) {
      config["handlers"].push_back(
          {{"plugin", "exec"},
           {"topics", topics},
           {"config", {{"command", {"/bin/sh", script_, deliveries_.string()}}}}});
    }
    return config;
  }

  // The stored row of `id` through outboxctl failed show (any status).
  nlohmann::json Row(const std::string& id) {
    RunResult r = ctl_.Run({"failed", "show", "--connection", db_, "--message-id", id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json rows = nlohmann::json::parse(r.out);
    return rows.empty() ? nlohmann::json() : rows[0];
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::string db_;
  std::string script_;
  std::filesystem::path deliveries_;
};

TEST_F(UnknownTopicTest, ParkHoldsMessagesWithoutAttemptsAndAHandlerLaterDeliversThemAsAttemptOne) {
  const std::vector<std::string> later = ctl_.EnqueueMany(db_, "later.topic", 3);
  const std::string now = ctl_.Enqueue(db_, "orders", "p");
  nlohmann::json park = Config({"orders"}, "park");
  park["http"] = {{"listen", "127.0.0.1:0"}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, park), "park");
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0) << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->WaitForLog("dispatch.unknown_topic is \"park\": ", kWait))
      << outboxd->StderrTail();
  // The warning at a refresh after messages were parked.
  ASSERT_TRUE(outboxd->WaitForLog("claimed messages had no handler and were parked", kWait))
      << outboxd->StderrTail();
  // And in the metrics: each of the three was parked at least once.
  EXPECT_TRUE(testing::Eventually(
      [&] {
        std::optional<double> parked = testing::MetricValue(
            testing::Scrape(port),
            "outboxd_messages_total{outcome=\"parked\",topic=\"later.topic\"}");
        return parked && *parked >= 3;
      },
      kWait))
      << testing::Scrape(port);
  ASSERT_TRUE(testing::Eventually(
      [&] { return SplitLines(testing::ReadText(deliveries_)).size() == 1; }, kWait));
  EXPECT_EQ(SplitLines(testing::ReadText(deliveries_))[0], now + " 1");
  for (const std::string& id : later) {
    nlohmann::json row = Row(id);
    EXPECT_EQ(row.at("attempts"), 0) << row.dump();
    EXPECT_NE(row.at("status"), "failed") << row.dump();
  }
  ASSERT_TRUE(outboxd->Signal(SIGTERM));
  ASSERT_EQ(outboxd->WaitExit(kWait), std::optional<int>(0)) << outboxd->StderrTail();
  std::optional<StoreStats> stats = ctl_.Stats(db_);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->ready, 3) << "released at shutdown, no attempt counted";
  EXPECT_EQ(stats->failed, 0);

  std::unique_ptr<Process> with_handler = testing::StartOutboxd(
      dir_, testing::WriteConfig(dir_, Config({"orders", "later.topic"}, "park"), "two.json"),
      "handler");
  ASSERT_TRUE(with_handler->ok()) << with_handler->error();
  ASSERT_TRUE(ctl_.WaitDone(db_, 4, kWait)) << with_handler->StderrTail();
  std::vector<std::string> lines = SplitLines(testing::ReadText(deliveries_));
  ASSERT_EQ(lines.size(), 4u);
  for (const std::string& id : later) {
    EXPECT_EQ(std::count(lines.begin(), lines.end(), id + " 1"), 1) << id;
  }
  ASSERT_TRUE(with_handler->Signal(SIGTERM));
  EXPECT_EQ(with_handler->WaitExit(kWait), std::optional<int>(0));
}

TEST_F(UnknownTopicTest, NoHandlerTopicUnderFailIsRefusedUnlessAllowed) {
  const std::filesystem::path config = testing::WriteConfig(dir_, Config({}, "fail"));
  RunResult r = testing::RunProgram(testing::OutboxdBinary(), {"--config", config.string()},
                                    dir_.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("handlers: no handler topic is configured"), std::string::npos)
      << r.err;
  EXPECT_NE(lines.back().find("--allow-no-handlers"), std::string::npos) << r.err;

  Process::Options options;
  options.args = {"--config", config.string(), "--allow-no-handlers"};
  options.log_dir = dir_.path();
  options.name = "allowed";
  std::unique_ptr<Process> allowed = Process::Start(testing::OutboxdBinary(), options);
  ASSERT_TRUE(allowed->ok()) << allowed->error();
  ASSERT_TRUE(allowed->WaitForLog("every message will fail", kWait)) << allowed->StderrTail();
  ASSERT_TRUE(allowed->Signal(SIGTERM));
  EXPECT_EQ(allowed->WaitExit(kWait), std::optional<int>(0)) << allowed->StderrTail();
}

}  // namespace
}  // namespace outboxd
