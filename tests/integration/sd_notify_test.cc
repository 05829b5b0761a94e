// Issue 10, systemd readiness: the test plays the service manager's side on a datagram socket
// (NOTIFY_SOCKET) and checks outboxd's messages: READY=1 with a STATUS= line once ready,
// WATCHDOG=1 while healthy when WATCHDOG_USEC is set, RELOADING=1 then READY=1 around SIGHUP,
// STOPPING=1 at SIGTERM. Without NOTIFY_SOCKET outboxd sends nothing (covered by every other test
// running fine without one).
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
  EXPECT_TRUE(manager.WaitFor("WATCHDOG=1", milliseconds(10000))) << manager.All();
  outboxd->Signal(SIGHUP);
  EXPECT_TRUE(manager.WaitFor("RELOADING=1", milliseconds(10000))) << manager.All();
  EXPECT_TRUE(manager.WaitFor("READY=1", milliseconds(10000))) << manager.All();
  outboxd->Signal(SIGTERM);
  EXPECT_TRUE(manager.WaitFor("STOPPING=1", milliseconds(10000))) << manager.All();
  EXPECT_EQ(outboxd->WaitExit(milliseconds(20000)), 0);
}

}  // namespace
}  // namespace outboxd
