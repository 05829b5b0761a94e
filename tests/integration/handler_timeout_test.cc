// Finding 9 of issue 14, through the real binaries: a handler call that overruns
// dispatch.handler_timeout. A plugin that polls should_abort is told to give up at the deadline and
// its message is recorded as a retry naming the timeout; a plugin that hangs and ignores it is
// named in one warning line (tenant, topic, message_id, plugin), and the messages its batch handled
// before it are recorded done while it still hangs (they used to stay in progress and be delivered
// again after a restart).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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

class HandlerTimeoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    plugins_ = dir_ / "plugins";
    std::filesystem::create_directories(plugins_);
    std::filesystem::copy_file(testing::PluginDir() / "discovery_static.so",
                               plugins_ / "discovery_static.so");
    std::filesystem::copy_file(testing::BuildDir() / "test-plugins" / "hanging_handler.so",
                               plugins_ / "hanging_handler.so");
    db_ = dir_ / "t.db";
    ASSERT_TRUE(ctl_.SchemaApply(SqliteConnection(db_)));
  }

  // One batch: the rows are all there before outboxd starts, one worker claims them at once.
  void Insert(const std::vector<std::string>& payloads) {
    SqliteFile file(db_);
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      file.Exec("INSERT INTO outbox (message_id, topic, payload, created_at) VALUES ('m" +
                std::to_string(i + 1) + "', 'slow.topic', '" + payloads[i] + "', " +
                std::to_string(i + 1) + ")");
    }
  }

  std::unique_ptr<Process> Start(int max_attempts) {
    const nlohmann::json config{
        {"plugin_dir", plugins_.string()},
        {"discovery",
         {{"plugin", "static"},
          {"config",
           {{"databases",
             nlohmann::json::array(
                 {{{"identifier", "t1"}, {"connection_string", SqliteConnection(db_)}}})}}}}},
        {"dispatch",
         {{"poll_interval", "10ms"},
          {"workers", 1},
          {"batch_size", 50},
          {"lease", "1h"},
          {"handler_timeout", "300ms"},
          {"max_attempts", max_attempts},
          {"shutdown_grace", "0s"}}},
        {"handlers", {{{"plugin", "hanging_handler"}, {"topics", {"slow.topic"}}}}}};
    return testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::filesystem::path plugins_;
  std::filesystem::path db_;
};

constexpr char kOverdueLine[] =
    "Handler call for outbox message m3 (topic 'slow.topic') in store 't1' has run past "
    "dispatch.handler_timeout (300 ms) in plugin 'hanging_handler' 1.0.0";

TEST_F(HandlerTimeoutTest, PluginPollingShouldAbortGivesUpAndTheRetryNamesTheTimeout) {
  Insert({"ok", "ok", "poll-abort"});
  std::unique_ptr<Process> p = Start(/*max_attempts=*/1);  // the retry is then final: one call
  ASSERT_TRUE(p->ok()) << p->error();
  SqliteFile file(db_);
  ASSERT_TRUE(testing::Eventually(
      [&] { return file.Scalar("SELECT COUNT(*) FROM outbox WHERE status = 3") == 1; }, kWait))
      << p->StderrTail();
  EXPECT_EQ(file.Column("SELECT last_error FROM outbox WHERE message_id = 'm3'"),
            std::vector<std::string>{"handler exceeded dispatch.handler_timeout (300 ms): gave up "
                                     "on should_abort"});
  EXPECT_EQ(file.Scalar("SELECT attempts FROM outbox WHERE message_id = 'm3'"), 1);
  EXPECT_EQ(file.Scalar("SELECT COUNT(*) FROM outbox WHERE status = 2"), 2);
  // The call has ended, so the watchdog cannot report it again: exactly one line.
  ASSERT_TRUE(p->WaitForLog(kOverdueLine, kWait)) << p->StderrTail();
  EXPECT_EQ(p->CountInStderr(kOverdueLine), 1) << p->StderrTail();
}

TEST_F(HandlerTimeoutTest, HungHandlerIsNamedOnceAndTheMessagesBeforeItAreRecorded) {
  Insert({"ok", "ok", "hang", "ok"});
  std::unique_ptr<Process> p = Start(/*max_attempts=*/5);
  ASSERT_TRUE(p->ok()) << p->error();
  SqliteFile file(db_);
  // While m3 still hangs: m1 and m2 are done in the database, m3 (and m4, not started) in progress.
  ASSERT_TRUE(testing::Eventually(
      [&] {
        return file.Scalar("SELECT COUNT(*) FROM outbox WHERE status = 2 AND message_id IN "
                           "('m1', 'm2')") == 2;
      },
      kWait))
      << "the messages handled before the hung one stay in progress\n"
      << p->StderrTail();
  EXPECT_EQ(file.Scalar("SELECT status FROM outbox WHERE message_id = 'm3'"), 1);
  EXPECT_EQ(file.Scalar("SELECT status FROM outbox WHERE message_id = 'm4'"), 1);
  ASSERT_TRUE(p->WaitForLog(kOverdueLine, kWait)) << p->StderrTail();
  EXPECT_EQ(p->CountInStderr(kOverdueLine), 1) << p->StderrTail();
  // (That it is not repeated while the call keeps hanging: HandlerWatchdogTest.)
  EXPECT_FALSE(p->Exited()) << p->StderrTail();
  p->Kill();
}

}  // namespace
}  // namespace outboxd
