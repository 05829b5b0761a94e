// Issue 14, finding 15, through the real binary: `outboxd --drain` with a row that another process
// holds under a lease an hour ahead. Before: it waited silently (and never looked again unless it
// had work itself). Now it says what it waits for (which tenant, how many rows, until when), exits
// as soon as the other process completes the row, and stops at once on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Outboxctl;
using testing::Process;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr milliseconds kWait{30000};
constexpr char kNowMs[] = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
constexpr char kWaitLine[] =
    "Drain: waiting for 1 message in progress under a lease in 1 outbox database (0 of them "
    "handled by this process now): 't1' 1 in progress, leased until ";

class DrainWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    ASSERT_TRUE(ctl_.SchemaApply(SqliteConnection(db_)));
    SqliteFile file(db_);
    file.Exec(std::string("INSERT INTO outbox (topic, payload, status, owner_token, locked_until) "
                          "VALUES ('fixture.record', 'held', 1, 'another-process', ") +
              kNowMs + " + 3600000)");
  }

  std::unique_ptr<Process> StartDraining() {
    const nlohmann::json config{
        {"plugin_dir", testing::PluginDir().string()},
        {"discovery",
         {{"plugin", "static"},
          {"config",
           {{"databases",
             nlohmann::json::array(
                 {{{"identifier", "t1"}, {"connection_string", SqliteConnection(db_)}}})}}}}},
        {"dispatch", {{"poll_interval", "20ms"}, {"max_poll_interval", "100ms"}}},
        {"handlers", {{{"plugin", "log"}, {"topics", {"fixture.record"}}}}}};
    return testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config), "outboxd",
                                 /*drain=*/true);
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::filesystem::path db_ = dir_ / "t1.db";
};

TEST_F(DrainWaitTest, SaysWhatItWaitsForAndStopsOnSigterm) {
  std::unique_ptr<Process> p = StartDraining();
  ASSERT_TRUE(p->ok()) << p->error();
  ASSERT_TRUE(testing::Eventually([&] { return p->CountInStderr(kWaitLine) > 0; }, kWait))
      << p->StderrTail();
  EXPECT_TRUE(std::regex_search(
      p->Stderr(), std::regex("leased until [0-9-]+T[0-9:]+Z \\(in (1h|59m[0-9]+s|5[0-9]m)\\)")))
      << "an hour ahead, less the start-up: " << p->StderrTail();
  EXPECT_NE(p->Stderr().find("--drain waits until they are done or their leases run out "
                             "(SIGTERM stops now)"),
            std::string::npos)
      << p->StderrTail();
  EXPECT_EQ(p->CountInStderr(kWaitLine), 1) << "once, then every 30 s: " << p->StderrTail();
  ASSERT_TRUE(p->Signal(SIGTERM));
  std::optional<int> code = p->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << p->StderrTail();
  EXPECT_EQ(*code, 0) << p->StderrTail();
  SqliteFile file(db_);
  EXPECT_EQ(file.Scalar("SELECT COUNT(*) FROM outbox WHERE status = 1 AND owner_token = "
                        "'another-process'"),
            1)
      << "the other process's row is left alone";
}

// The other process completes its row: nothing happens in this process, and still the drain ends.
TEST_F(DrainWaitTest, ExitsWhenTheOtherProcessCompletesTheRow) {
  std::unique_ptr<Process> p = StartDraining();
  ASSERT_TRUE(p->ok()) << p->error();
  ASSERT_TRUE(testing::Eventually([&] { return p->CountInStderr(kWaitLine) > 0; }, kWait))
      << p->StderrTail();
  {
    SqliteFile file(db_);
    file.Exec(std::string("UPDATE outbox SET status = 2, owner_token = NULL, locked_until = NULL, "
                          "processed_at = ") +
              kNowMs + ", processed_by = 'another-process'");
  }
  std::optional<int> code = p->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << "still waiting: " << p->StderrTail();
  EXPECT_EQ(*code, 0) << p->StderrTail();
  EXPECT_GT(p->CountInStderr("Drained: no outbox database has a message due now or in progress"),
            0)
      << p->StderrTail();
}

}  // namespace
}  // namespace outboxd
