// ConnectionBudget, alone and with ConnectionPools: the cap holds across pools, the longest-idle
// connection of ANOTHER pool is closed to make room, and an asker waits (bounded) when nothing is
// idle.
#include "store/connection_budget.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/sql/connection_pool.h"

namespace outboxd {
namespace {

using sql_store::ConnectionPool;
using std::chrono::milliseconds;

// Counts live connections so the test can see closes, not just slot arithmetic.
struct LiveConnection {
  explicit LiveConnection(std::atomic<int>* counter) : live(counter) { ++*live; }
  ~LiveConnection() { --*live; }
  std::atomic<int>* live;
};

class Pools {
 public:
  explicit Pools(int limit) : budget(limit) {}
  std::unique_ptr<ConnectionPool<LiveConnection>> Make(int per_pool,
                                                       milliseconds wait = milliseconds(2000)) {
    return std::make_unique<ConnectionPool<LiveConnection>>(
        per_pool,
        [this](std::unique_ptr<LiveConnection>* out) {
          *out = std::make_unique<LiveConnection>(&live);
          return Status::OK();
        },
        &budget, wait);
  }
  ConnectionBudget budget;
  std::atomic<int> live{0};
};

TEST(ConnectionBudgetTest, UnlimitedBudgetOnlyCounts) {
  ConnectionBudget budget(0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(budget.Acquire(nullptr, milliseconds(0)).ok());
  EXPECT_EQ(budget.in_use(), 1000);
  EXPECT_TRUE(budget.TryAcquire());
  for (int i = 0; i < 1001; ++i) budget.Release();
  EXPECT_EQ(budget.in_use(), 0);
}

TEST(ConnectionBudgetTest, FullBudgetWithNothingIdleTimesOutNamingTheSetting) {
  ConnectionBudget budget(2);
  ASSERT_TRUE(budget.Acquire(nullptr, milliseconds(0)).ok());
  ASSERT_TRUE(budget.TryAcquire());
  EXPECT_FALSE(budget.TryAcquire());
  Status s = budget.Acquire(nullptr, milliseconds(50));
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("stores.max_connections"), std::string::npos) << s.message();
  EXPECT_EQ(budget.in_use(), 2);
}

TEST(ConnectionBudgetTest, ManyPoolsNeverHoldMoreThanTheCap) {
  Pools pools(3);
  std::vector<std::unique_ptr<ConnectionPool<LiveConnection>>> stores;
  for (int i = 0; i < 50; ++i) stores.push_back(pools.Make(2));
  // Sweep every store like idle workers do: one connection each, handed back at once.
  for (int sweep = 0; sweep < 3; ++sweep) {
    for (auto& store : stores) {
      std::unique_ptr<LiveConnection> c;
      ASSERT_TRUE(store->Acquire(&c).ok());
      EXPECT_LE(pools.live.load(), 3);
      store->Release(std::move(c));
    }
  }
  EXPECT_EQ(pools.live.load(), 3);
  EXPECT_EQ(pools.budget.in_use(), 3);
  EXPECT_GE(pools.budget.evictions(), 50 * 3 - 3);
  stores.clear();  // pools give their slots back when destroyed
  EXPECT_EQ(pools.budget.in_use(), 0);
  EXPECT_EQ(pools.live.load(), 0);
}

TEST(ConnectionBudgetTest, TheLongestIdleConnectionOfAnotherPoolIsClosed) {
  Pools pools(2);
  auto a = pools.Make(2), b = pools.Make(2), c = pools.Make(2);
  std::unique_ptr<LiveConnection> ca, cb, cc;
  ASSERT_TRUE(a->Acquire(&ca).ok());
  a->Release(std::move(ca));  // a: idle since t0
  ASSERT_TRUE(b->Acquire(&cb).ok());
  b->Release(std::move(cb));  // b: idle since t1 > t0
  ASSERT_TRUE(c->Acquire(&cc).ok());  // evicts a's, the oldest
  EXPECT_EQ(a->open_connections(), 0);
  EXPECT_EQ(b->open_connections(), 1);
  EXPECT_EQ(pools.live.load(), 2);
  c->Release(std::move(cc));
}

TEST(ConnectionBudgetTest, AWaiterGetsTheSlotWhenAConnectionIsHandedBack) {
  Pools pools(1);
  auto a = pools.Make(1), b = pools.Make(1);
  std::unique_ptr<LiveConnection> held;
  ASSERT_TRUE(a->Acquire(&held).ok());  // the only slot, in use (not idle)
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    std::unique_ptr<LiveConnection> mine;
    ASSERT_TRUE(b->Acquire(&mine).ok());
    got = true;
    EXPECT_EQ(pools.live.load(), 1);
    b->Release(std::move(mine));
  });
  // The waiter cannot proceed while a's connection is in use...
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(got.load());
  // ...and gets the slot (by closing a's now-idle connection) once it is handed back.
  a->Release(std::move(held));
  waiter.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pools.budget.in_use(), 1);
}

// A connection that records how many budget slots were taken when it closed.
struct SlotWitness {
  SlotWitness(const ConnectionBudget* b, std::vector<int>* seen) : budget(b), in_use_at_close(seen) {}
  ~SlotWitness() { in_use_at_close->push_back(budget->in_use()); }
  const ConnectionBudget* budget;
  std::vector<int>* in_use_at_close;
};

TEST(ConnectionBudgetTest, ADestroyedPoolClosesItsConnectionsBeforeGivingTheirSlotsBack) {
  // Were a slot given back first, another store (or a NOTIFY listener) could open a connection
  // while this one is still open: one over stores.max_connections (seen in CI at 561 of 560).
  ConnectionBudget budget(3);
  std::vector<int> in_use_at_close;
  auto pool = std::make_unique<ConnectionPool<SlotWitness>>(
      2,
      [&](std::unique_ptr<SlotWitness>* out) {
        *out = std::make_unique<SlotWitness>(&budget, &in_use_at_close);
        return Status::OK();
      },
      &budget, milliseconds(100));
  std::unique_ptr<SlotWitness> a, b;
  ASSERT_TRUE(pool->Acquire(&a).ok());
  ASSERT_TRUE(pool->Acquire(&b).ok());
  pool->Release(std::move(a));
  pool->Release(std::move(b));
  ASSERT_TRUE(budget.TryAcquire());  // someone else's slot
  EXPECT_EQ(budget.in_use(), 3);
  pool.reset();
  ASSERT_EQ(in_use_at_close.size(), 2u);
  EXPECT_EQ(in_use_at_close[0], 3) << "the first connection closed after its slot was given back";
  EXPECT_EQ(in_use_at_close[1], 3) << "the second connection closed after its slot was given back";
  EXPECT_EQ(budget.in_use(), 1);
}

TEST(ConnectionBudgetTest, ConcurrentPoolsStayWithinTheCap) {
  Pools pools(4);
  std::vector<std::unique_ptr<ConnectionPool<LiveConnection>>> stores;
  for (int i = 0; i < 20; ++i) stores.push_back(pools.Make(2, milliseconds(10000)));
  std::atomic<int> max_live{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {  // 3 workers + 1 spare slot, as the config check requires
    workers.emplace_back([&, w] {
      for (int i = 0; i < 300; ++i) {
        auto& store = stores[(w * 7 + i) % stores.size()];
        std::unique_ptr<LiveConnection> c;
        if (!store->Acquire(&c).ok()) {
          ++failures;
          continue;
        }
        int now = pools.live.load();
        int seen = max_live.load();
        while (now > seen && !max_live.compare_exchange_weak(seen, now)) {
        }
        store->Release(std::move(c));
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(max_live.load(), 4);
  EXPECT_LE(pools.budget.in_use(), 4);
  stores.clear();
  EXPECT_EQ(pools.budget.in_use(), 0);
}

}  // namespace
}  // namespace outboxd
