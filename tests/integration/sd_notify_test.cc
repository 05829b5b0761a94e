// Issue 10, systemd readiness: the test plays the service manager's side on a datagram socket
// (NOTIFY_SOCKET) and checks outboxd's messages: READY=1 with a STATUS= line once ready,
// WATCHDOG=1 while healthy when WATCHDOG_USEC is set, RELOADING=1 then READY=1 around SIGHUP,
// STOPPING=1 at SIGTERM. Without NOTIFY_SOCKET outboxd sends nothing (covered by every other test
// running fine without one). The watchdog keeps being fed while the control loop waits on a slow
// discovery (healthy: the control loop's bound is a minute), and is withheld while a handler hangs
// past the lease.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/support/observe_env.h"
#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Process;
using testing::TempDir;

// The manager's end: a bound AF_UNIX datagram socket collecting every message.
class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{0, 50000};
    if (ok_) setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

  // Waits until a received message contains `needle` (messages are consumed in order); false at
  // the deadline.
  bool WaitFor(const std::string& needle, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (; next_ < messages_.size(); ++next_) {
        if (messages_[next_].find(needle) != std::string::npos) {
          ++next_;
          return true;
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) messages_.emplace_back(buf, static_cast<size_t>(n));
    }
  }
  // Messages after the last matched one, up to and including the first containing `until` (or
  // all received by the deadline). Consumes them.
  std::vector<std::string> CollectUntil(const std::string& until, milliseconds timeout) {
    std::vector<std::string> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (; next_ < messages_.size(); ++next_) {
        out.push_back(messages_[next_]);
        if (messages_[next_].find(until) != std::string::npos) {
          ++next_;
          return out;
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) return out;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) messages_.emplace_back(buf, static_cast<size_t>(n));
    }
  }
  std::string All() const {
    std::string out;
    for (const std::string& m : messages_) out += "[" + m + "] ";
    return out;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool ok_ = false;
  std::vector<std::string> messages_;
  size_t next_ = 0;  // messages before this were matched or skipped
};

TEST(SdNotifyTest, ReadyWatchdogReloadingAndStoppingReachTheManager) {
  ASSERT_TRUE(testing::BinariesBuilt());
  TempDir dir;
  testing::Outboxctl ctl(dir.path());
  const std::string conn = testing::SqliteConnection(dir / "t1.db");
  ASSERT_TRUE(ctl.SchemaApply(conn));
  NotifySocket manager(dir / "notify.sock");
  ASSERT_TRUE(manager.ok());
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "static"},
        {"config", {{"databases", {{{"identifier", "t1"}, {"connection_string", conn}}}}}}}},
      {"handlers", {{{"plugin", "log"}, {"topics", {"ok"}}}}}};
  Process::Options options;
  options.args = {"--config", testing::WriteConfig(dir, config).string()};
  options.env = {"NOTIFY_SOCKET=" + (dir / "notify.sock").string(), "WATCHDOG_USEC=400000"};
  options.log_dir = dir.path();
  options.name = "outboxd";
  std::unique_ptr<Process> outboxd = Process::Start(testing::OutboxdBinary(), options);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();

  EXPECT_TRUE(manager.WaitFor("READY=1", milliseconds(20000))) << manager.All()
                                                               << outboxd->StderrTail();
  EXPECT_NE(manager.All().find("STATUS=1 tenants"), std::string::npos) << manager.All();
  // The STATUS= line shows the backlog also without http.listen (regression: it did not).
  EXPECT_NE(manager.All().find("; ready 0, in progress 0, failed 0"), std::string::npos)
      << manager.All();
  EXPECT_TRUE(manager.WaitFor("WATCHDOG=1", milliseconds(10000))) << manager.All();
  outboxd->Signal(SIGHUP);
  EXPECT_TRUE(manager.WaitFor("RELOADING=1", milliseconds(10000))) << manager.All();
  EXPECT_TRUE(manager.WaitFor("READY=1", milliseconds(10000))) << manager.All();
  outboxd->Signal(SIGTERM);
  EXPECT_TRUE(manager.WaitFor("STOPPING=1", milliseconds(10000))) << manager.All();
  EXPECT_EQ(outboxd->WaitExit(milliseconds(20000)), 0);
}

int CountWith(const std::vector<std::string>& messages, const std::string& needle) {
  int n = 0;
  for (const std::string& m : messages) n += m.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

std::string Joined(const std::vector<std::string>& messages) {
  std::string out;
  for (const std::string& m : messages) out += "[" + m + "] ";
  return out;
}

// Regression: the watchdog used to be fed by the control loop, so a discovery (or cleanup, or
// plugin rescan) that kept the loop busy longer than WatchdogSec= got a healthy outboxd killed, and
// a WatchdogSec= under two seconds was never met (the loop wakes once a second).
TEST(SdNotifyTest, TheWatchdogIsFedWhileTheControlLoopWaitsOnASlowDiscovery) {
  ASSERT_TRUE(testing::BinariesBuilt());
  TempDir dir;
  testing::Outboxctl ctl(dir.path());
  const std::filesystem::path global_db = dir / "global.db";
  testing::CreateCustomersTable(global_db);
  const std::string conn = testing::SqliteConnection(dir / "c1.db");
  ASSERT_TRUE(ctl.SchemaApply(conn));
  testing::AddCustomer(global_db, "customer-001", "One", conn);
  NotifySocket manager(dir / "notify.sock");
  ASSERT_TRUE(manager.ok());
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "sql"}, {"config", {{"connection", testing::SqliteConnection(global_db)}}}}},
      {"handlers", {{{"plugin", "log"}, {"topics", {"ok"}}}}}};
  Process::Options options;
  options.args = {"--config", testing::WriteConfig(dir, config).string()};
  options.env = {"NOTIFY_SOCKET=" + (dir / "notify.sock").string(), "WATCHDOG_USEC=400000"};
  options.log_dir = dir.path();
  options.name = "outboxd";
  std::unique_ptr<Process> outboxd = Process::Start(testing::OutboxdBinary(), options);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  ASSERT_TRUE(manager.WaitFor("READY=1", milliseconds(20000))) << manager.All()
                                                               << outboxd->StderrTail();

  // Another writer holds the global database: the SIGHUP refresh waits on it (the sql plugin's
  // busy timeout is 10 s) and the control loop with it. Pings must go on meanwhile.
  auto lock = std::make_unique<testing::SqliteFile>(global_db);
  lock->Exec("BEGIN EXCLUSIVE");
  outboxd->Signal(SIGHUP);
  ASSERT_TRUE(manager.WaitFor("RELOADING=1", milliseconds(10000))) << manager.All();
  std::vector<std::string> during;
  for (;;) {  // until three pings or the refresh's end (READY=1), whichever comes first
    std::vector<std::string> more = manager.CollectUntil("WATCHDOG=1", milliseconds(20000));
    during.insert(during.end(), more.begin(), more.end());
    if (more.empty() || CountWith(during, "WATCHDOG=1") >= 3 || CountWith(during, "READY=1") > 0) {
      break;
    }
  }
  lock.reset();  // the refresh can finish
  EXPECT_EQ(CountWith(during, "READY=1"), 0)
      << "the refresh ended before three watchdog pings: " << Joined(during);
  EXPECT_GE(CountWith(during, "WATCHDOG=1"), 3) << Joined(during) << outboxd->StderrTail();
  if (CountWith(during, "READY=1") == 0) {
    EXPECT_TRUE(manager.WaitFor("READY=1", milliseconds(20000))) << manager.All();
  }
  outboxd->Signal(SIGTERM);
  EXPECT_TRUE(manager.WaitFor("STOPPING=1", milliseconds(10000))) << manager.All();
  EXPECT_EQ(outboxd->WaitExit(milliseconds(20000)), 0);
}

// WATCHDOG=1 only while the health check passes: not while a handler hangs past the lease.
TEST(SdNotifyTest, TheWatchdogIsWithheldWhileAHandlerHangsPastTheLease) {
  ASSERT_TRUE(testing::BinariesBuilt());
  TempDir dir;
  testing::Outboxctl ctl(dir.path());
  const std::string conn = testing::SqliteConnection(dir / "t1.db");
  ASSERT_TRUE(ctl.SchemaApply(conn));
  const std::filesystem::path calls = dir / "calls.txt";
  const std::filesystem::path flag = dir.WriteFile("block.flag", "");
  NotifySocket manager(dir / "notify.sock");
  ASSERT_TRUE(manager.ok());
  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "static"},
        {"config", {{"databases", {{{"identifier", "t1"}, {"connection_string", conn}}}}}}}},
      {"dispatch", {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"lease", "1s"}}},
      {"handlers", {testing::ObserveExecHandler(calls, flag)}}};
  Process::Options options;
  options.args = {"--config", testing::WriteConfig(dir, config).string()};
  options.env = {"NOTIFY_SOCKET=" + (dir / "notify.sock").string(), "WATCHDOG_USEC=400000"};
  options.log_dir = dir.path();
  options.name = "outboxd";
  std::unique_ptr<Process> outboxd = Process::Start(testing::OutboxdBinary(), options);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  ASSERT_TRUE(manager.WaitFor("WATCHDOG=1", milliseconds(20000))) << manager.All()
                                                                  << outboxd->StderrTail();

  ctl.Enqueue(conn, "block", "p");
  const std::string withheld = "withholding the systemd watchdog ping";
  ASSERT_TRUE(outboxd->WaitForLog(withheld, milliseconds(30000))) << outboxd->StderrTail();
  EXPECT_NE(outboxd->Stderr().find("in a handler for topic 'block'"), std::string::npos);
  // Whatever was sent before the first withheld ping is in the socket now: drop it. Then two more
  // rounds withhold; nothing sent between them may be a ping.
  manager.CollectUntil("(drain)", milliseconds(200));
  const int before = outboxd->CountInStderr(withheld);
  ASSERT_TRUE(testing::Eventually([&] { return outboxd->CountInStderr(withheld) >= before + 2; },
                                  milliseconds(30000)))
      << outboxd->StderrTail();
  std::vector<std::string> sick = manager.CollectUntil("(drain)", milliseconds(200));
  EXPECT_EQ(CountWith(sick, "WATCHDOG=1"), 0) << Joined(sick);

  std::error_code ec;
  std::filesystem::remove(flag, ec);  // the handler returns: healthy again, pings resume
  EXPECT_TRUE(manager.WaitFor("WATCHDOG=1", milliseconds(30000))) << manager.All();
  EXPECT_TRUE(ctl.WaitDone(conn, 1, milliseconds(30000)));
  outboxd->Signal(SIGTERM);
  EXPECT_EQ(outboxd->WaitExit(milliseconds(20000)), 0);
}

}  // namespace
}  // namespace outboxd
