// ConnectionPool with a fake connection type: lazy opening, reuse, the bound, discarding, and that
// no lock is held while a connection opens.
#include "store/sql/connection_pool.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "host/store/store_test_support.h"

namespace outboxd::testing {
namespace {

using sql_store::ConnectionPool;

struct FakeConnection {
  int serial = 0;
};

class CountingOpener {
 public:
  ConnectionPool<FakeConnection>::Opener Get() {
    return [this](std::unique_ptr<FakeConnection>* out) {
      if (fail_next.exchange(false)) return Status::Unavailable("cannot open");
      *out = std::make_unique<FakeConnection>();
      (*out)->serial = ++opened;
      return Status::OK();
    };
  }
  std::atomic<int> opened{0};
  std::atomic<bool> fail_next{false};
};

TEST(StoreConnectionPoolTest, OpensLazilyAndReusesConnections) {
  CountingOpener opener;
  ConnectionPool<FakeConnection> pool(4, opener.Get());
  EXPECT_EQ(opener.opened, 0);
  for (int i = 0; i < 5; ++i) {
    std::unique_ptr<FakeConnection> c;
    ASSERT_TRUE(pool.Acquire(&c).ok());
    EXPECT_EQ(c->serial, 1);
    pool.Release(std::move(c));
  }
  EXPECT_EQ(opener.opened, 1);
  EXPECT_EQ(pool.open_connections(), 1);
  EXPECT_EQ(pool.idle_connections(), 1);
}

TEST(StoreConnectionPoolTest, NeverOpensMoreThanTheMaximumAndWaitsForARelease) {
  CountingOpener opener;
  ConnectionPool<FakeConnection> pool(2, opener.Get());
  std::unique_ptr<FakeConnection> a, b;
  ASSERT_TRUE(pool.Acquire(&a).ok());
  ASSERT_TRUE(pool.Acquire(&b).ok());

  std::atomic<bool> acquired{false};
  std::unique_ptr<FakeConnection> c;
  std::thread waiter([&] {
    EXPECT_TRUE(pool.Acquire(&c).ok());
    acquired = true;
  });
  EXPECT_FALSE(acquired.load());
  int a_serial = a->serial;
  pool.Release(std::move(a));
  EXPECT_TRUE(WaitFor([&] { return acquired.load(); }));
  waiter.join();
  EXPECT_EQ(c->serial, a_serial);
  EXPECT_EQ(opener.opened, 2);
  pool.Release(std::move(b));
  pool.Release(std::move(c));
  EXPECT_EQ(pool.idle_connections(), 2);
}

TEST(StoreConnectionPoolTest, DiscardFreesTheSlotAndAFreshConnectionIsOpened) {
  CountingOpener opener;
  ConnectionPool<FakeConnection> pool(1, opener.Get());
  std::unique_ptr<FakeConnection> c;
  ASSERT_TRUE(pool.Acquire(&c).ok());
  pool.Discard(std::move(c));
  EXPECT_EQ(pool.open_connections(), 0);
  ASSERT_TRUE(pool.Acquire(&c).ok());
  EXPECT_EQ(c->serial, 2);
  pool.Release(std::move(c));
}

TEST(StoreConnectionPoolTest, OpenFailureIsReturnedAndFreesTheSlot) {
  CountingOpener opener;
  ConnectionPool<FakeConnection> pool(1, opener.Get());
  opener.fail_next = true;
  std::unique_ptr<FakeConnection> c;
  Status status = pool.Acquire(&c);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(pool.open_connections(), 0);
  ASSERT_TRUE(pool.Acquire(&c).ok());  // the slot is usable again
  pool.Release(std::move(c));
}

TEST(StoreConnectionPoolTest, NoLockIsHeldWhileAConnectionOpens) {
  std::mutex mu;
  std::condition_variable cv;
  bool opening = false;
  bool proceed = false;
  ConnectionPool<FakeConnection> pool(2, [&](std::unique_ptr<FakeConnection>* out) {
    std::unique_lock<std::mutex> lock(mu);
    opening = true;
    cv.notify_all();
    cv.wait(lock, [&] { return proceed; });
    *out = std::make_unique<FakeConnection>();
    return Status::OK();
  });
  std::unique_ptr<FakeConnection> slow;
  std::thread opener([&] { EXPECT_TRUE(pool.Acquire(&slow).ok()); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return opening; });
  }
  // The pool answers while the open is in progress.
  EXPECT_EQ(pool.open_connections(), 1);
  EXPECT_EQ(pool.idle_connections(), 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    proceed = true;
  }
  cv.notify_all();
  opener.join();
  ASSERT_NE(slow, nullptr);
  pool.Release(std::move(slow));
}

}  // namespace
}  // namespace outboxd::testing
