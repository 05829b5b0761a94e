#include "dispatch/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "fakes/fake_discovery_source.h"
#include "fakes/fake_message_handler.h"
#include "fakes/fake_outbox_store.h"
#include "fakes/fake_tenant_set.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::FakeDiscoverySource;
using testing::FakeMessageHandler;
using testing::FakeOutboxStore;
using testing::FakeTenantSet;

// Waits for `cond` up to `limit`; returns whether it became true.
template <class F>
bool Eventually(F cond, milliseconds limit = milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class WorkerPoolTest : public ::testing::Test {
 protected:
  // timer_slack: WorkerPool's; stepped_jitter: the idle jitter steps through 0.0, 0.1 .. 0.9 (so
  // tenants visited together fall due spread out, in steps of a tenth of half the delay).
  void Build(std::vector<std::string> ids, int workers, milliseconds poll_interval,
             milliseconds max_poll_interval, milliseconds timer_slack = milliseconds(0),
             bool stepped_jitter = false) {
    ASSERT_TRUE(tenants_.Start(ids).ok());
    tenant_set_ = tenants_.tenant_set();
    std::shared_ptr<const HandlerTable> table;
    ASSERT_TRUE(HandlerTable::Build({{"t", handler_}}, &table).ok());
    routing_.Publish(table);
    DispatchOptions options;
    options.batch_size = 7;
    ScheduleOptions schedule;
    schedule.poll_interval = poll_interval;
    schedule.max_poll_interval = max_poll_interval;
    schedule.batch_size = options.batch_size;
    if (stepped_jitter) {
      schedule.uniform = [n = std::make_shared<std::atomic<int>>(0)] {
        return static_cast<double>(n->fetch_add(1) % 10) / 10.0;
      };
    }
    schedule_ = std::make_unique<TenantSchedule>(std::make_unique<FairStrategy>(), schedule);
    schedule_->Sync(*tenant_set_->Snapshot());
    dispatcher_ = std::make_unique<Dispatcher>(&routing_, &leases_, &counters_, options);
    pool_ = std::make_unique<WorkerPool>(dispatcher_.get(), schedule_.get(), workers, timer_slack);
    pool_->SetOnQuiet([this] { ++quiet_; });
  }
  int TotalClaims() {
    int total = 0;
    for (auto& [id, store] : stores_) total += store->calls(FakeOutboxStore::Op::kClaim);
    return total;
  }

  FakeTenantSet tenants_;
  std::map<std::string, FakeOutboxStore*>& stores_ = tenants_.stores();
  TenantSet* tenant_set_ = nullptr;
  RoutingState routing_;
  LeaseKeeper leases_{milliseconds(30000)};
  DispatchCounters counters_;
  std::shared_ptr<FakeMessageHandler> handler_ = std::make_shared<FakeMessageHandler>();
  std::unique_ptr<TenantSchedule> schedule_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<WorkerPool> pool_;
  std::atomic<int> quiet_{0};
};

TEST_F(WorkerPoolTest, WorkersDrainEveryStoreExactlyOnce) {
  Build({"a", "b", "c"}, 3, milliseconds(1), milliseconds(5));
  for (auto& [id, store] : stores_) {
    for (int i = 0; i < 100; ++i) store->Add("t");
  }
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return counters_.dispatched.load() == 300; }));
  pool_->Stop();
  EXPECT_EQ(handler_->calls().size(), 300u);
  std::set<std::string> delivered;
  for (const auto& call : handler_->calls()) {
    EXPECT_TRUE(delivered.insert(call.tenant + "/" + call.message.message_id).second);
  }
}

// Idle cost is per tenant: each store is polled once per interval, not once per worker.
TEST_F(WorkerPoolTest, IdleStoresArePolledOnceWhateverTheWorkerCount) {
  Build({"a", "b", "c", "d", "e"}, 4, milliseconds(60000), milliseconds(60000));
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 4; }));
  for (auto& [id, store] : stores_) EXPECT_EQ(store->calls(FakeOutboxStore::Op::kClaim), 1) << id;
  pool_->Stop();
}

// One busy tenant does not make the workers visit the idle ones (the old shared sweep did).
TEST_F(WorkerPoolTest, ABusyTenantCostsNoVisitsOfTheIdleOnes) {
  Build({"busy", "idle1", "idle2"}, 2, milliseconds(60000), milliseconds(60000));
  for (int i = 0; i < 700; ++i) stores_["busy"]->Add("t");
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return counters_.dispatched.load() == 700; }));
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2; }));
  pool_->Stop();
  EXPECT_GE(stores_["busy"]->calls(FakeOutboxStore::Op::kClaim), 100);
  EXPECT_EQ(stores_["idle1"]->calls(FakeOutboxStore::Op::kClaim), 1);
  EXPECT_EQ(stores_["idle2"]->calls(FakeOutboxStore::Op::kClaim), 1);
}

// Idle polls that fall due within the timer slack are made on one wake-up of the timekeeper, not
// one wake-up each. The ten tenants' idle delays are 50, 55 .. 95 ms (stepped jitter of 100 ms):
// with an 80 ms slack one wake-up finds all ten due; without it (this test fails with a slack of
// 0) the timer runs out about once per poll.
TEST_F(WorkerPoolTest, IdlePollsDueWithinTheTimerSlackShareOneWakeUp) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back("t" + std::to_string(i));
  Build(ids, 2, milliseconds(100), milliseconds(100), milliseconds(80), /*stepped_jitter=*/true);
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return TotalClaims() >= 10 * 8; }, milliseconds(60000)));
  pool_->Stop();
  const int claims = TotalClaims();
  EXPECT_LE(pool_->timer_wakes() * 4, claims)
      << pool_->timer_wakes() << " timer wake-ups for " << claims << " claims";
}

TEST_F(WorkerPoolTest, NotifyEndsTheIdleSleepAtOnceForThatStoreOnly) {
  Build({"a", "b", "c"}, 2, milliseconds(60000), milliseconds(60000));
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2; }));
  ASSERT_EQ(TotalClaims(), 3);
  stores_["b"]->Add("t");
  schedule_->Notify("b");
  // The idle sleep is a minute long: only the wake-up can deliver within the limit.
  EXPECT_TRUE(Eventually([&] { return counters_.dispatched.load() == 1; }, milliseconds(20000)));
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2; }));
  EXPECT_EQ(stores_["b"]->calls(FakeOutboxStore::Op::kClaim), 2);
  EXPECT_EQ(TotalClaims(), 4);
  pool_->Stop();
}

TEST_F(WorkerPoolTest, NewStoreIsVisitedAtOnce) {
  Build({"a"}, 1, milliseconds(60000), milliseconds(60000));
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 1; }));
  tenants_.discovery().Set({FakeDiscoverySource::Location("a"), FakeDiscoverySource::Location("n")});
  ASSERT_TRUE(tenant_set_->Refresh().ok());
  schedule_->Sync(*tenant_set_->Snapshot());
  EXPECT_TRUE(Eventually([&] { return stores_["n"]->calls(FakeOutboxStore::Op::kClaim) == 1; }));
  pool_->Stop();
}

// --drain: the pool reports quiet once the last message is recorded (not after a poll interval).
TEST_F(WorkerPoolTest, QuietIsReportedWhenTheLastMessageIsDone) {
  Build({"a", "b"}, 2, milliseconds(60000), milliseconds(60000));
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2 && quiet_.load() == 1; }));
  stores_["a"]->Add("t");
  schedule_->Notify("a");
  EXPECT_TRUE(Eventually([&] { return quiet_.load() == 2; }, milliseconds(20000)));
  EXPECT_EQ(counters_.dispatched.load(), 1);
  pool_->Stop();
}

TEST_F(WorkerPoolTest, StopInterruptsIdleSleep) {
  Build({"a"}, 2, milliseconds(60000), milliseconds(60000));
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2; }));
  const auto start = std::chrono::steady_clock::now();
  pool_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace outboxd
