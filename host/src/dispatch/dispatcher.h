// Dispatcher: one iteration of delivery for one worker (the reference's RunOnce, hardened).
//
//  1. pick a store with the SelectionStrategy among the stores that are not backed off;
//  2. claim up to batch_size due rows in one statement, with a fresh owner token and a lease (the
//     LeaseKeeper renews it while handlers run);
//  3. deliver each row to the handler for its topic (case-insensitive):
//       OK                -> dispatched
//       RETRY             -> rescheduled at db now + (retry_after or backoff(attempt)), or failed
//                            when attempt >= max_attempts
//       PERMANENT FAILURE -> failed at once
//       no handler        -> failed: "No handler registered for topic '<topic>'"
//       parked topic      -> released (back to ready, no attempt counted): its handler plugin was
//                            removed and one is expected back (hot reload, HandlerTable::IsParked)
//       attempts already exhausted (leases expired max_attempts times: the message keeps crashing
//       or stalling its worker) -> failed without running it again
//     When stopping, rows not yet started are released (back to ready, no attempt counted).
//     Parked rows would come back first at every claim (oldest first), so a batch that claimed
//     parked rows claims again, under the same owner token, to reach the rows behind them (at most
//     park_lookahead parked rows held, only until this batch is recorded). A store whose claim
//     found nothing but parked rows is skipped until the routing changes (a handler came back) or
//     park_retry has passed: a parked topic never makes a worker spin on the same rows.
//  4. record all outcomes in one call. A database error there does NOT turn into a handler failure:
//     the call is retried a few times while the lease is kept alive; if it still fails the outcome
//     is given up (counted, logged) and the row is redelivered after its lease expires.
//
// OWNERSHIP: borrows everything it is given; they must outlive it.
// THREADING: RunOnce is thread-safe; each worker passes its own WorkerState.
#ifndef OUTBOXD_DISPATCH_DISPATCHER_H_
#define OUTBOXD_DISPATCH_DISPATCHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "discovery/store_provider.h"
#include "dispatch/backoff.h"
#include "dispatch/dispatch_counters.h"
#include "dispatch/lease_keeper.h"
#include "dispatch/routing_state.h"
#include "dispatch/selection_strategy.h"

namespace outboxd {

struct DispatchOptions {
  int batch_size = 50;                         // rows claimed per batch
  std::chrono::milliseconds lease{30000};      // row lease; renewed every lease/3 while in flight
  int max_attempts = 5;                        // failed attempts before a message is failed for good
  BackoffPolicy backoff = &DefaultBackoff;     // delay before retry `attempt`
  int record_retries = 5;                      // tries to record outcomes before giving up
  std::chrono::milliseconds record_retry_delay{100};  // first delay between those tries (doubles)
  int park_lookahead = 500;  // parked rows one batch may hold while claiming past them
  std::chrono::milliseconds park_retry{2000};  // how long a store with only parked rows is skipped
};

// Per-worker memory between iterations (the strategy's "last processed store").
struct WorkerState {
  std::string last_store;
  int last_count = 0;
};

class Dispatcher {
 public:
  Dispatcher(const StoreProvider* provider, const RoutingState* routing,
             SelectionStrategy* strategy, LeaseKeeper* leases, DispatchCounters* counters,
             DispatchOptions options);

  // Processes at most one batch from one store. Returns the number of rows whose outcome was
  // decided (dispatched, rescheduled, failed); 0 when there was nothing to do or the store failed.
  int RunOnce(WorkerState* worker, const std::atomic<bool>& stopping);

  const DispatchOptions& options() const { return options_; }

 private:
  struct Batch;
  void ClaimPastParked(Batch* batch, const std::atomic<bool>& stopping);
  void Deliver(Batch* batch, const std::atomic<bool>& stopping);
  void Record(Batch* batch);
  bool SkipParked(const std::string& store_id, uint64_t routing_version,
                  std::chrono::steady_clock::time_point now);
  void ParkStore(const std::string& store_id, uint64_t routing_version,
                 std::chrono::steady_clock::time_point now);

  const StoreProvider* const provider_;
  const RoutingState* const routing_;
  SelectionStrategy* const strategy_;
  LeaseKeeper* const leases_;
  DispatchCounters* const counters_;
  const DispatchOptions options_;

  struct ParkGate {
    uint64_t routing_version;  // the gate holds while the routing is still this version
    std::chrono::steady_clock::time_point until;
  };
  std::mutex park_mu_;
  std::unordered_map<std::string, ParkGate> park_gates_;  // by store id; guarded by park_mu_
  std::atomic<int> park_gate_count_{0};  // park_gates_.size(): skips the lock when zero
};

// A random 128-bit owner token, 32 lower-case hex digits; unique per claimed batch.
std::string NewOwnerToken();

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_DISPATCHER_H_
