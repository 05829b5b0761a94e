// Issue 14, findings 12 and 17, end to end with the real binaries: text a producer or a plugin
// controls (a topic, a handler's error) cannot forge log lines, a plugin that calls exit() cannot
// end outboxd with a status of its own choosing, and a staging folder that cannot be made under
// the default base is a configuration error (exit 2) naming the path.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::Outboxctl;
using testing::Process;
using testing::SplitLines;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr milliseconds kWait{15000};
// What a forged line would start with: a timestamp in spdlog's default pattern.
constexpr char kForgedStart[] = "[2026-12-03 10:00:00.000] [info] fake";

class MisbehavingInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    fs::create_directories(plugins_);
    for (const fs::path& from : {testing::PluginDir() / "discovery_static.so",
                                 testing::PluginDir() / "handler_exec.so",
                                 testing::BuildDir() / "test-plugins" / "exiting_handler.so"}) {
      ASSERT_TRUE(fs::exists(from)) << from << " is not built";
      fs::copy_file(from, plugins_ / from.filename());
    }
    ASSERT_TRUE(ctl_.SchemaApply(Conn()));
  }

  std::string Conn() const { return SqliteConnection(dir_ / "c1.db"); }

  nlohmann::json Config(nlohmann::json handlers) const {
    nlohmann::json databases = nlohmann::json::array();
    databases.push_back({{"identifier", "customer-001"}, {"connection_string", Conn()}});
    return {{"plugin_dir", plugins_.string()},
            {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
            {"dispatch", {{"poll_interval", "20ms"}, {"max_poll_interval", "100ms"}}},
            {"handlers", std::move(handlers)}};
  }

  // Lines of `text` that begin like a forged log line.
  static int ForgedLines(const std::string& text) {
    int n = 0;
    for (const std::string& line : SplitLines(text)) n += line.rfind(kForgedStart, 0) == 0 ? 1 : 0;
    return n;
  }

  TempDir dir_;
  fs::path plugins_ = dir_ / "plugins";
  Outboxctl ctl_{dir_.path()};
};

// Finding 12: a topic with a newline (no handler: "No handler registered for topic '...'") and a
// handler error with a newline and an ESC (the exec handler quotes the program's stderr) are each
// logged on one line, escaped.
TEST_F(MisbehavingInputTest, ControlCharactersInTopicsAndHandlerErrorsCannotForgeLogLines) {
  const std::string topic = std::string("a\n") + kForgedStart;
  {
    SqliteFile producer(dir_ / "c1.db");
    producer.Exec("INSERT INTO outbox (topic, payload) VALUES ('" + topic + "', 'x')");
  }
  ASSERT_FALSE(ctl_.Enqueue(Conn(), "report.fail", "y").empty());
  nlohmann::json handlers = nlohmann::json::array();
  handlers.push_back({{"plugin", "exec"},
                      {"topics", {"report.fail"}},
                      {"config",
                       {{"command",
                         {"/bin/sh", "-c",
                          std::string("printf 'oops\\n%s\\033[2K' '") + kForgedStart +
                              "' >&2; exit 65"}}}}});
  std::unique_ptr<Process> outboxd = testing::StartOutboxd(
      dir_, testing::WriteConfig(dir_, Config(handlers)), "outboxd", /*drain=*/true);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
  EXPECT_EQ(*code, 0) << outboxd->StderrTail();

  const std::string err = outboxd->Stderr();
  EXPECT_EQ(ForgedLines(err), 0) << err;
  EXPECT_NE(err.find(std::string("topic 'a\\n") + kForgedStart + "'"), std::string::npos) << err;
  EXPECT_NE(err.find(std::string("oops\\n") + kForgedStart), std::string::npos) << err;
  EXPECT_EQ(err.find('\033'), std::string::npos) << err;
}

// Finding 17: exit(3) (and quick_exit(4)) inside a handler's call ends outboxd with status 1 and
// one line naming the plugin, never silently with the plugin's status.
TEST_F(MisbehavingInputTest, APluginCallingExitCannotChooseOutboxdsExitStatus) {
  for (const std::string payload : {"exit", "quick_exit"}) {
    SCOPED_TRACE(payload);
    ASSERT_FALSE(ctl_.Enqueue(Conn(), "boom", payload).empty());
    nlohmann::json handlers = nlohmann::json::array();
    handlers.push_back({{"plugin", "exiting_handler"}, {"topics", {"boom"}}});
    std::unique_ptr<Process> outboxd = testing::StartOutboxd(
        dir_, testing::WriteConfig(dir_, Config(handlers)), "outboxd-" + payload);
    ASSERT_TRUE(outboxd->ok()) << outboxd->error();
    std::optional<int> code = outboxd->WaitExit(kWait);
    ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
    EXPECT_EQ(*code, 1) << outboxd->StderrTail();
    std::vector<std::string> lines = SplitLines(outboxd->Stderr());
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back().rfind("outboxd: plugin 'exiting_handler' called exit() during a call;", 0),
              0u)
        << lines.back();
    // The message is not lost: it stays claimed (in progress) until its lease expires.
    SqliteFile db(dir_ / "c1.db");
    EXPECT_EQ(db.Scalar("SELECT COUNT(*) FROM outbox WHERE status = 1"), 1);
    db.Exec("DELETE FROM outbox");  // the next round starts from an empty table
  }
}

// Finding 17: with no staging_dir configured, a $XDG_RUNTIME_DIR that does not exist is a
// configuration error (exit 2), one line naming the variable and the path.
TEST_F(MisbehavingInputTest, MissingDefaultStagingBaseExits2NamingIt) {
  nlohmann::json handlers = nlohmann::json::array();
  handlers.push_back({{"plugin", "exiting_handler"}, {"topics", {"boom"}}});
  Process::Options options;
  options.args = {"--config", testing::WriteConfig(dir_, Config(handlers)).string()};
  options.env = {"XDG_RUNTIME_DIR=" + (dir_ / "no-such-runtime-dir").string()};
  options.log_dir = dir_.path();
  options.name = "outboxd-staging";
  std::unique_ptr<Process> outboxd = Process::Start(testing::OutboxdBinary(), options);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
  EXPECT_EQ(*code, 2) << outboxd->StderrTail();
  std::vector<std::string> lines = SplitLines(outboxd->Stderr());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("outboxd: staging_dir: ", 0), 0u) << lines.back();
  EXPECT_NE(lines.back().find("XDG_RUNTIME_DIR '" + (dir_ / "no-such-runtime-dir").string() + "'"),
            std::string::npos)
      << lines.back();
}

}  // namespace
}  // namespace outboxd
