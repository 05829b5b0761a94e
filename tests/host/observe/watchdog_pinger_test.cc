#include "observe/watchdog_pinger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "support/log_capture.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;

TEST(WatchdogPingerTest, PingsOnlyWhileHealthyAndSaysWhyItWithholds) {
  std::string problem;
  int pings = 0;
  WatchdogPinger pinger(
      milliseconds(1000), [&] { return problem; }, [&] { ++pings; });
  testing::LogCapture log;
  EXPECT_TRUE(pinger.RunOnce());
  EXPECT_EQ(pings, 1);
  problem = "worker 0 has been in a handler for topic 't' for 2.0 s (limit 1.0 s: dispatch.lease)";
  EXPECT_FALSE(pinger.RunOnce());
  EXPECT_EQ(pings, 1);
  EXPECT_TRUE(log.Contains("Not healthy, withholding the systemd watchdog ping: " + problem));
  problem.clear();
  EXPECT_TRUE(pinger.RunOnce());
  EXPECT_EQ(pings, 2);
}

TEST(WatchdogPingerTest, ItsThreadKeepsPingingUntilStopped) {
  std::atomic<int> pings{0};
  WatchdogPinger pinger(
      milliseconds(1), [] { return std::string(); }, [&] { ++pings; });
  pinger.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pings.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_GE(pings.load(), 3);
  pinger.Stop();
  const int stopped_at = pings.load();
  pinger.Stop();  // idempotent
  EXPECT_EQ(pings.load(), stopped_at) << "no ping after Stop returned";
}

}  // namespace
}  // namespace outboxd
