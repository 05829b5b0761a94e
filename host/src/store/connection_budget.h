// ConnectionBudget: one process-wide cap on open database connections, shared by every tenant
// store (stores.max_connections), so a thousand tenants never means a thousand idle connections.
//
// A store's pool asks the budget for a slot before it opens a connection and gives the slot back
// when it closes one. When every slot is taken, the budget asks the Holder (pool) with the
// longest-idle connection to close it and hands that slot to the asker at once; only when no
// connection anywhere is idle does the asker wait, up to `wait`, for one to come back.
// Long-lived connections that are never idle (NOTIFY listeners) take slots with TryAcquire.
//
// Eviction rule (issue 13): least recently used. The victim is the connection, of any other store,
// that was handed back longest ago: a tenant idle for longest is the one least likely to be
// visited soon (the dispatcher backs idle tenants off). A store asks with Acquire (which may evict)
// only for its FIRST connection; an extra connection of a busy store uses TryAcquire and, when no
// slot is free, waits for one of its own connections instead (ConnectionPool). So with
// stores.max_connections >= the active stores, a steady state opens no new sessions, and under a
// smaller cap a store never takes another's connection just to run a second one in parallel.
//
// OWNERSHIP: holders are borrowed; a holder must Unregister before it is destroyed (Unregister waits
// for a CloseIdle call on it that is already running).
// THREADING: thread-safe. Lock order: the budget's mutex may be held while calling
// Holder::OldestIdle (which takes the holder's own lock briefly); Holder::CloseIdle is called with
// no budget lock held, and holders never call the budget while holding their own lock.
#ifndef OUTBOXD_STORE_CONNECTION_BUDGET_H_
#define OUTBOXD_STORE_CONNECTION_BUDGET_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>

#include "common/mutex.h"
#include "common/status.h"

namespace outboxd {

class ConnectionBudget {
 public:
  class Holder {
   public:
    virtual ~Holder() = default;
    // When the holder's oldest idle connection became idle, or nullopt when it has none.
    virtual std::optional<std::chrono::steady_clock::time_point> OldestIdle() const = 0;
    // Closes the oldest idle connection, if there still is one, WITHOUT releasing its budget
    // slot (the budget passes the slot on). Returns true if a connection was closed.
    virtual bool CloseIdle() = 0;
  };

  // limit <= 0: no cap (Acquire always succeeds at once; counts are still kept).
  explicit ConnectionBudget(int limit);
  ConnectionBudget(const ConnectionBudget&) = delete;
  ConnectionBudget& operator=(const ConnectionBudget&) = delete;

  void Register(Holder* holder) EXCLUDES(mu_);
  void Unregister(Holder* holder) EXCLUDES(mu_);

  // Takes one slot for `requester` (which is never asked to close its own connections). Unavailable
  // naming the limit when none frees up within `wait`.
  Status Acquire(Holder* requester, std::chrono::milliseconds wait) EXCLUDES(mu_);
  // Takes one slot only if one is free right now (evicts nothing).
  bool TryAcquire();
  // Gives one slot back.
  void Release();
  // A holder just parked a connection as idle: waiters may now evict it.
  void NotifyIdle();

  int limit() const { return limit_; }
  int in_use() const;
  int64_t evictions() const;

 private:
  const int limit_;
  mutable Mutex mu_;
  CondVar changed_;
  int in_use_ GUARDED_BY(mu_) = 0;
  int64_t evictions_ GUARDED_BY(mu_) = 0;
  uint64_t idle_generation_ GUARDED_BY(mu_) = 0;  // bumped by NotifyIdle
  std::map<Holder*, int> holders_ GUARDED_BY(mu_);  // holder -> CloseIdle calls running
};

}  // namespace outboxd

#endif  // OUTBOXD_STORE_CONNECTION_BUDGET_H_
