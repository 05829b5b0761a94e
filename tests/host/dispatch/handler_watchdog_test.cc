#include "dispatch/handler_watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_message_handler.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Waits for a condition (no fixed sleeps): true once it holds, false after a generous bound.
template <class Condition>
bool Eventually(Condition done) {
  const auto until = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

OutboxMessage Message(const std::string& id) {
  OutboxMessage m;
  m.message_id = id;
  m.topic = "email.send";
  return m;
}

class Reports {
 public:
  HandlerWatchdog::Report Sink() {
    return [this](const HandlerWatchdog::Overdue& o) {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(o);
    };
  }
  std::vector<HandlerWatchdog::Overdue> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int CountOf(const std::string& message_id) {
    int n = 0;
    for (const auto& o : calls()) n += o.message_id == message_id ? 1 : 0;
    return n;
  }

 private:
  std::mutex mu_;
  std::vector<HandlerWatchdog::Overdue> calls_;
};

TEST(HandlerWatchdogTest, ReportsAnOverdueCallOnceNamingIt) {
  Reports reports;
  HandlerWatchdog watchdog(milliseconds(30000), reports.Sink());
  testing::FakeMessageHandler handler("plugin 'slow' 1.0.0");
  const std::string tenant = "acme";
  const OutboxMessage hung = Message("m-hung");
  watchdog.Enter(0, tenant, hung, handler, Clock::now());  // already past its deadline
  ASSERT_TRUE(Eventually([&] { return reports.CountOf("m-hung") == 1; }));
  const auto o = reports.calls().front();
  EXPECT_EQ(o.tenant, "acme");
  EXPECT_EQ(o.topic, "email.send");
  EXPECT_EQ(o.handler, "plugin 'slow' 1.0.0");
  EXPECT_EQ(o.timeout, milliseconds(30000));

  // The hung call stays in flight while another one passes its deadline later: the watchdog scans
  // again, and still reports the first call only once.
  const OutboxMessage later = Message("m-later");
  watchdog.Enter(1, tenant, later, handler, Clock::now() + milliseconds(20));
  ASSERT_TRUE(Eventually([&] { return reports.CountOf("m-later") == 1; }));
  EXPECT_EQ(reports.CountOf("m-hung"), 1);
  EXPECT_EQ(watchdog.overdue(), 2);
  EXPECT_FALSE(watchdog.Leave(0));
  EXPECT_FALSE(watchdog.Leave(1));
}

// A call that gives up at its deadline (a plugin polling should_abort) and returns before the
// watchdog's thread looks is still reported, once: by its Leave. The thread is held inside the
// report of another overdue call meanwhile, so only Leave can report it.
TEST(HandlerWatchdogTest, ACallEndingPastItsDeadlineBeforeTheThreadLooksIsReportedByLeave) {
  Reports reports;
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool blocker_reported = false, release = false;
  auto sink = reports.Sink();
  HandlerWatchdog watchdog(milliseconds(300), [&](const HandlerWatchdog::Overdue& o) {
    sink(o);
    if (o.message_id != "m-blocker") return;
    std::unique_lock<std::mutex> lock(gate_mu);
    blocker_reported = true;
    gate_cv.notify_all();
    gate_cv.wait(lock, [&] { return release; });
  });
  testing::FakeMessageHandler handler("plugin 'poller' 1.0.0");
  const std::string tenant = "acme";
  const OutboxMessage blocker = Message("m-blocker");
  watchdog.Enter(1, tenant, blocker, handler, Clock::now());  // overdue: the thread reports it
  {
    std::unique_lock<std::mutex> lock(gate_mu);
    gate_cv.wait(lock, [&] { return blocker_reported; });  // the thread is held in that report
  }
  const OutboxMessage poller = Message("m-poller");
  watchdog.Enter(0, tenant, poller, handler, Clock::now() - milliseconds(1));
  EXPECT_FALSE(watchdog.Leave(0));
  EXPECT_EQ(reports.CountOf("m-poller"), 1);  // by Leave, on this thread
  EXPECT_EQ(watchdog.overdue(), 2);
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    release = true;
  }
  gate_cv.notify_all();
  // The thread goes on and scans again (a third overdue call proves it): nothing twice.
  const OutboxMessage later = Message("m-later");
  watchdog.Enter(0, tenant, later, handler, Clock::now());
  ASSERT_TRUE(Eventually([&] { return reports.CountOf("m-later") == 1; }));
  EXPECT_EQ(reports.CountOf("m-poller"), 1);
  EXPECT_EQ(reports.CountOf("m-blocker"), 1);
  watchdog.Leave(0);
  watchdog.Leave(1);
}

TEST(HandlerWatchdogTest, CallsThatEndInTimeAreNotReported) {
  Reports reports;
  HandlerWatchdog watchdog(milliseconds(30000), reports.Sink());
  testing::FakeMessageHandler handler;
  const std::string tenant = "acme";
  const OutboxMessage quick = Message("m-quick");
  watchdog.Enter(0, tenant, quick, handler, Clock::now() + std::chrono::hours(1));
  watchdog.Leave(0);
  // A later overdue call proves the watchdog has looked since.
  const OutboxMessage hung = Message("m-hung");
  watchdog.Enter(0, tenant, hung, handler, Clock::now());
  ASSERT_TRUE(Eventually([&] { return reports.CountOf("m-hung") == 1; }));
  EXPECT_EQ(reports.CountOf("m-quick"), 0);
  watchdog.Leave(0);
}

TEST(HandlerWatchdogTest, StalledCallbackRunsOnceWhileTheCallRunsAndLeaveSaysSo) {
  std::atomic<int> stalled{0};
  std::atomic<void*> seen{nullptr};
  HandlerWatchdog watchdog(milliseconds(30000), [](const HandlerWatchdog::Overdue&) {},
                           [&](void* cookie) {
                             seen = cookie;
                             ++stalled;
                           });
  testing::FakeMessageHandler handler;
  const std::string tenant = "acme";
  const OutboxMessage m = Message("m-1");
  int batch = 0;
  watchdog.Enter(0, tenant, m, handler, Clock::now() + std::chrono::hours(1), &batch,
                 Clock::now() + milliseconds(10));
  ASSERT_TRUE(Eventually([&] { return stalled.load() == 1; }));
  EXPECT_EQ(seen.load(), &batch);
  EXPECT_TRUE(watchdog.Leave(0));

  // Not due before the call ends: not run, and Leave says so.
  watchdog.Enter(0, tenant, m, handler, Clock::now() + std::chrono::hours(1), &batch,
                 Clock::now() + std::chrono::hours(1));
  EXPECT_FALSE(watchdog.Leave(0));
  // No cookie: never run, even when due.
  watchdog.Enter(0, tenant, m, handler, Clock::now() + std::chrono::hours(1), nullptr,
                 Clock::now());
  const OutboxMessage hung = Message("m-hung");
  watchdog.Enter(1, tenant, hung, handler, Clock::now());  // a report proves a scan since
  ASSERT_TRUE(Eventually([&] { return watchdog.overdue() == 1; }));
  EXPECT_FALSE(watchdog.Leave(0));
  watchdog.Leave(1);
  EXPECT_EQ(stalled.load(), 1);
}

}  // namespace
}  // namespace outboxd
