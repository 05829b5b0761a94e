// ConnectionPool: at most `max_connections` connections of one store, opened lazily by an opener
// function and reused LIFO (the most recently used connection has the warmest caches).
//
// A caller Acquires a connection, uses it alone, then either Releases it (healthy) or Discards it
// (it hit an error: it is closed and its slot freed, and a later Acquire opens a fresh one). When
// every slot is lent out, Acquire waits for one to come back.
//
// OWNERSHIP: the pool owns idle connections; an acquired connection belongs to the caller until it
// is handed back. Every acquired connection must be handed back before the pool is destroyed.
// THREADING: thread-safe. The mutex is held only to pop or push a connection: opening and closing
// connections (database calls) happen outside it. A thread must not Acquire twice without handing
// back in between (it could wait for itself).
#ifndef OUTBOXD_STORE_POCO_CONNECTION_POOL_H_
#define OUTBOXD_STORE_POCO_CONNECTION_POOL_H_

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/status.h"

namespace outboxd::poco_store {

template <typename Connection>
class ConnectionPool {
 public:
  // Opens one connection; returns a non-OK Status (and no connection) on failure.
  using Opener = std::function<Status(std::unique_ptr<Connection>*)>;

  ConnectionPool(int max_connections, Opener opener)
      : max_connections_(std::max(1, max_connections)), opener_(std::move(opener)) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Hands out an idle connection, or opens a new one while fewer than max_connections exist, or
  // waits until a connection is handed back. On error *out is untouched and no slot is used.
  Status Acquire(std::unique_ptr<Connection>* out) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      available_.wait(lock, [this] { return !idle_.empty() || open_ < max_connections_; });
      if (!idle_.empty()) {
        *out = std::move(idle_.back());
        idle_.pop_back();
        return Status::OK();
      }
      ++open_;  // reserve the slot; open outside the lock
    }
    std::unique_ptr<Connection> fresh;
    Status status = opener_(&fresh);
    if (status.ok() && fresh == nullptr) status = Status::Internal("connection opener returned none");
    if (!status.ok()) {
      FreeSlot();
      return status;
    }
    *out = std::move(fresh);
    return Status::OK();
  }

  // Returns a healthy connection for reuse.
  void Release(std::unique_ptr<Connection> connection) {
    if (connection == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(std::move(connection));
    }
    available_.notify_one();
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

 private:
  void FreeSlot() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
    }
    available_.notify_one();
  }

  const int max_connections_;
  const Opener opener_;
  mutable std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // guarded by mu_
};

}  // namespace outboxd::poco_store

#endif  // OUTBOXD_STORE_POCO_CONNECTION_POOL_H_
