#include "dispatch/worker_pool.h"

#include <gtest/gtest.h>

#include <map>
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
  void Build(std::vector<std::string> ids, PollOptions poll) {
    ASSERT_TRUE(tenants_.Start(ids).ok());
    provider_ = tenants_.provider();
    std::shared_ptr<const HandlerTable> table;
    ASSERT_TRUE(HandlerTable::Build({{"t", handler_}}, &table).ok());
    routing_.Publish(table);
    DispatchOptions options;
    options.batch_size = 7;
    dispatcher_ = std::make_unique<Dispatcher>(provider_, &routing_, &strategy_, &leases_,
                                               &counters_, options);
    pool_ = std::make_unique<WorkerPool>(dispatcher_.get(), provider_, poll);
  }

  FakeTenantSet tenants_;
  std::map<std::string, FakeOutboxStore*>& stores_ = tenants_.stores();
  StoreProvider* provider_ = nullptr;
  RoutingState routing_;
  RoundRobinStrategy strategy_;
  LeaseKeeper leases_{milliseconds(30000)};
  DispatchCounters counters_;
  std::shared_ptr<FakeMessageHandler> handler_ = std::make_shared<FakeMessageHandler>();
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<WorkerPool> pool_;
};

TEST_F(WorkerPoolTest, WorkersDrainEveryStoreExactlyOnce) {
  Build({"a", "b", "c"}, PollOptions{3, milliseconds(1), milliseconds(5)});
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

TEST_F(WorkerPoolTest, IdleWorkerSweepsAllStoresBeforeSleeping) {  // B7
  Build({"a", "b", "c"}, PollOptions{1, milliseconds(50), milliseconds(10000)});
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 1; }));
  for (auto& [id, store] : stores_) EXPECT_GE(store->calls(FakeOutboxStore::Op::kClaim), 1) << id;
  pool_->Stop();
}

TEST_F(WorkerPoolTest, WakeEndsTheIdleSleepAtOnce) {  // B7: snaps back when work appears
  Build({"a"}, PollOptions{1, milliseconds(60000), milliseconds(60000)});
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 1; }));
  stores_["a"]->Add("t");
  pool_->Wake();
  // The idle sleep is a minute long: only the wake-up can deliver within the limit.
  EXPECT_TRUE(Eventually([&] { return counters_.dispatched.load() == 1; }, milliseconds(20000)));
  pool_->Stop();
}

// An idle sweep is shared: each store is polled once per interval, not once per worker.
TEST_F(WorkerPoolTest, IdleSweepVisitsEachStoreOnceWhateverTheWorkerCount) {
  Build({"a", "b", "c", "d", "e"}, PollOptions{4, milliseconds(60000), milliseconds(60000)});
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 4; }));
  for (auto& [id, store] : stores_) EXPECT_EQ(store->calls(FakeOutboxStore::Op::kClaim), 1) << id;
  pool_->Stop();
}

// A NOTIFY wake-up for one store costs one visit, not a sweep of every store.
TEST_F(WorkerPoolTest, WakeOneGrantsASingleVisit) {
  Build({"a", "b", "c"}, PollOptions{2, milliseconds(60000), milliseconds(60000)});
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2; }));
  auto total_claims = [&] {
    int total = 0;
    for (auto& [id, store] : stores_) total += store->calls(FakeOutboxStore::Op::kClaim);
    return total;
  };
  ASSERT_EQ(total_claims(), 3);
  const int64_t sleeps = pool_->idle_sleeps();
  pool_->WakeOne();
  ASSERT_TRUE(Eventually([&] { return total_claims() == 4; }));
  // Back asleep with no further visits: the worker that took the visit waited again.
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2 && pool_->idle_sleeps() > sleeps; }));
  EXPECT_EQ(total_claims(), 4);
  pool_->Stop();
}

TEST_F(WorkerPoolTest, StopInterruptsIdleSleep) {
  Build({"a"}, PollOptions{2, milliseconds(60000), milliseconds(60000)});
  pool_->Start();
  ASSERT_TRUE(Eventually([&] { return pool_->idle_workers() == 2; }));
  const auto start = std::chrono::steady_clock::now();
  pool_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace outboxd
