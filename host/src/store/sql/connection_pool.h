// ConnectionPool: at most `max_connections` connections of one store, opened lazily by an opener
// function and reused LIFO (the most recently used connection has the warmest caches).
//
// A caller Acquires a connection, uses it alone, then either Releases it (healthy) or Discards it
// (it hit an error: it is closed and its slot freed, and a later Acquire opens a fresh one). When
// every slot is lent out, Acquire waits for one to come back.
//
// With a ConnectionBudget (the process-wide cap), the pool takes a budget slot before opening a
// connection and gives it back when one is closed; it is also a budget Holder, so another store
// that needs a slot may make it close its longest-idle connection. Only a store's FIRST connection
// may evict another store's idle one; a second (third ...) connection opens only on a slot that is
// free right now, otherwise the caller waits for one of the store's own connections to come back.
// One connection per store serves a burn-down, so under a tight cap stores do not take each
// other's connections in turn (a new session per visit).
//
// OWNERSHIP: the pool owns idle connections; an acquired connection belongs to the caller until it
// is handed back. Every acquired connection must be handed back before the pool is destroyed. The
// budget is borrowed and must outlive the pool.
// THREADING: thread-safe. The mutex is held only to pop or push a connection: opening and closing
// connections (database calls) and budget calls happen outside it. A thread must not Acquire twice
// without handing back in between (it could wait for itself).
#ifndef OUTBOXD_STORE_SQL_CONNECTION_POOL_H_
#define OUTBOXD_STORE_SQL_CONNECTION_POOL_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "common/status.h"
#include "store/connection_budget.h"

namespace outboxd::sql_store {

template <typename Connection>
class ConnectionPool final : public ConnectionBudget::Holder {
 public:
  // Opens one connection; returns a non-OK Status (and no connection) on failure.
  using Opener = std::function<Status(std::unique_ptr<Connection>*)>;
  using Clock = std::chrono::steady_clock;

  // `budget` may be null (no process-wide cap); `budget_wait` bounds the wait for a budget slot.
  ConnectionPool(int max_connections, Opener opener, ConnectionBudget* budget = nullptr,
                 std::chrono::milliseconds budget_wait = std::chrono::seconds(10))
      : max_connections_(std::max(1, max_connections)),
        opener_(std::move(opener)),
        budget_(budget),
        budget_wait_(budget_wait) {
    if (budget_ != nullptr) budget_->Register(this);
  }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  ~ConnectionPool() override {
    if (budget_ == nullptr) return;
    budget_->Unregister(this);  // no CloseIdle runs on us after this
    std::deque<Idle> idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle.swap(idle_);
    }
    // Close every connection before its slot goes back: a slot released first could be taken
    // and a new connection opened while this one is still open (one over the cap).
    const size_t closed = idle.size();
    idle.clear();
    for (size_t i = 0; i < closed; ++i) budget_->Release();
  }

  // Hands out an idle connection, or opens a new one while fewer than max_connections exist, or
  // waits until a connection is handed back. On error *out is untouched and no slot is used.
  Status Acquire(std::unique_ptr<Connection>* out) {
    bool first = false;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        available_.wait(lock, [this] {
          return !idle_.empty() || (open_ < max_connections_ && !budget_refused_);
        });
        if (!idle_.empty()) {
          *out = std::move(idle_.back().connection);
          idle_.pop_back();
          return Status::OK();
        }
        first = open_ == 0;
        ++open_;  // reserve the slot; open outside the lock
      }
      if (budget_ == nullptr) break;
      if (first) {
        Status granted = budget_->Acquire(this, budget_wait_);
        if (!granted.ok()) {
          FreeSlot(/*release_budget=*/false);
          return granted;
        }
        break;
      }
      if (budget_->TryAcquire()) break;
      // No free slot for an extra connection: wait for one of ours (all are lent out and come
      // back when their callers finish). If none is left meanwhile (closed by an error, evicted by
      // another store, or another extra one refused too), there is nothing to wait for: every
      // waiter goes round again, the next as the first connection, which may wait for the budget
      // and evict.
      bool nothing_to_wait_for;
      {
        std::lock_guard<std::mutex> lock(mu_);
        --open_;
        nothing_to_wait_for = open_ == 0;
        budget_refused_ = !nothing_to_wait_for;
      }
      if (nothing_to_wait_for) available_.notify_all();
    }
    std::unique_ptr<Connection> fresh;
    Status status = opener_(&fresh);
    if (status.ok() && fresh == nullptr) status = Status::Internal("connection opener returned none");
    if (!status.ok()) {
      FreeSlot();
      return status;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++opened_total_;
    }
    *out = std::move(fresh);
    return Status::OK();
  }

  // Returns a healthy connection for reuse.
  void Release(std::unique_ptr<Connection> connection) {
    if (connection == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(Idle{std::move(connection), Clock::now()});
      budget_refused_ = false;
    }
    available_.notify_one();
    if (budget_ != nullptr) budget_->NotifyIdle();
  }

  // Closes a connection that hit an error and frees its slot.
  void Discard(std::unique_ptr<Connection> connection) {
    if (connection == nullptr) return;
    connection.reset();  // close outside the lock
    FreeSlot();
  }

  // Connections that exist (idle, lent out or being opened), and those idle right now.
  int open_connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
  }
  int idle_connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(idle_.size());
  }
  // Connections opened successfully since the pool was created.
  int64_t opened_total() const {
    std::lock_guard<std::mutex> lock(mu_);
    return opened_total_;
  }

  // ConnectionBudget::Holder
  std::optional<Clock::time_point> OldestIdle() const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) return std::nullopt;
    return idle_.front().since;
  }
  bool CloseIdle() override {
    std::unique_ptr<Connection> victim;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.empty()) return false;
      victim = std::move(idle_.front().connection);
      idle_.pop_front();
      --open_;
      budget_refused_ = false;
    }
    victim.reset();  // close outside the lock; the budget slot passes to whoever asked
    available_.notify_all();
    return true;
  }

 private:
  struct Idle {
    std::unique_ptr<Connection> connection;
    Clock::time_point since;  // when it was handed back
  };

  void FreeSlot(bool release_budget = true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
      budget_refused_ = false;
    }
    available_.notify_all();
    if (release_budget && budget_ != nullptr) budget_->Release();
  }

  const int max_connections_;
  const Opener opener_;
  ConnectionBudget* const budget_;
  const std::chrono::milliseconds budget_wait_;
  mutable std::mutex mu_;
  std::condition_variable available_;
  std::deque<Idle> idle_;  // guarded by mu_; oldest first, reused from the back (warmest)
  int open_ = 0;           // guarded by mu_
  // guarded by mu_: an extra connection found no free budget slot; callers wait for one of ours
  // (cleared when one comes back or is closed).
  bool budget_refused_ = false;
  int64_t opened_total_ = 0;  // guarded by mu_
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_CONNECTION_POOL_H_
