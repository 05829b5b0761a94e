// Dispatcher: one iteration of delivery for one worker (the reference's RunOnce, hardened).
//
//  1. visit the store the worker was handed (dispatch/tenant_schedule.h decides which and when);
//  2. claim up to batch_size due rows in one statement, with a fresh owner token and a lease (the
//     LeaseKeeper renews it while handlers run). A row whose lease expired is suspect (its owner
//     died or stalled on it): while it is the oldest claimable row the claim takes it alone, so a
//     poison message only ever runs, and counts lost leases, by itself (docs/semantics.md);
//  3. deliver each row to the handler for its topic (case-insensitive); what is recorded for it is
//     decided by the pure functions of dispatch/delivery_decision.h:
//       OK                -> dispatched
//       RETRY             -> rescheduled at db now + (retry_after or backoff(attempt)), or failed
//                            when attempt >= max_attempts
//       PERMANENT FAILURE -> failed at once
//       no handler        -> failed: "No handler registered for topic '<topic>'"
//       payload withheld  -> failed at once, not run, no attempt counted: "payload of N bytes
//                            exceeds dispatch.max_payload_bytes (M)" (the store's cap)
//       parked topic      -> parked: its handler plugin was removed and one is expected back
//                            (hot reload, HandlerTable::IsParked); never an attempt counted
//       attempts already exhausted (leases expired max_attempts times: the message keeps crashing
//       or stalling its worker) -> failed without running it again; attempts is not incremented
//       for it (not a new attempt: "Gave up after N attempts" and the column agree)
//     When stopping, rows not yet started are released (back to ready, no attempt counted); when
//     the shutdown grace runs out while handlers still run, ReleaseUnstarted does it for them.
//     Parked rows are held in the store's parking lot while the batch claims again past them, and
//     a store with nothing else due is skipped for a while: dispatch/parking.h.
//  4. record outcomes: before each handler call, the outcomes decided more than record_window ago
//     are recorded (one call), and so they are while a handler call is still running when they
//     reach that age (the HandlerWatchdog's thread records them: a hung call does not hold back
//     the messages handled before it); the rest at the end of the batch, with the releases (one
//     call). So a batch faster than record_window costs one call, and a process that dies in a
//     handler call re-runs only the messages decided within record_window before that call (and
//     the rows not yet started). Exact guarantee: docs/semantics.md. A database error there does
//     NOT turn into a handler failure: the call is retried (at least record_retries times, and
//     then for as long as LeaseKeeper::HeldUntil says the lease surely holds, so an outage shorter
//     than the lease costs no redelivery); if it still fails the outcome is given up (counted,
//     logged) and the row is redelivered after its lease expires.
//  5. every handler call has a deadline, handler_timeout after it starts: from then on the plugin's
//     should_abort returns non-zero, a RETRY or PERMANENT FAILURE it returns is recorded as a retry
//     naming the timeout (dispatch/delivery_decision.h), and the HandlerWatchdog logs the call
//     once (tenant, topic, message_id, plugin) as it passes the deadline, even if it never returns.
//
// OWNERSHIP: borrows everything it is given; they must outlive it.
// THREADING: RunOnce is thread-safe; each worker passes its own WorkerState (distinct indexes:
// the watchdog keeps one call per index).
#ifndef OUTBOXD_DISPATCH_DISPATCHER_H_
#define OUTBOXD_DISPATCH_DISPATCHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "discovery/tenant_set.h"
#include "dispatch/backoff.h"
#include "dispatch/dispatch_counters.h"
#include "dispatch/dispatch_observer.h"
#include "dispatch/handler_watchdog.h"
#include "dispatch/lease_keeper.h"
#include "dispatch/parking.h"
#include "dispatch/routing_state.h"

namespace outboxd {

struct DispatchOptions {
  int batch_size = 50;                         // rows claimed per batch
  std::chrono::milliseconds lease{30000};      // row lease; renewed every lease/3 while in flight
  int max_attempts = 5;                        // failed attempts before a message is failed for good
  // A handler call's deadline (dispatch.handler_timeout): past it should_abort returns non-zero and
  // a non-OK outcome becomes a retry naming the timeout (dispatch/delivery_decision.h).
  std::chrono::milliseconds handler_timeout{30000};
  // dispatch.max_payload_bytes, named in the failure of a message the store claimed with its
  // payload withheld (OutboxMessage::payload_withheld; the store enforces the cap).
  int64_t max_payload_bytes = 16 * 1024 * 1024;
  BackoffPolicy backoff = &DefaultBackoff;     // delay before retry `attempt`
  int record_retries = 5;  // tries to record outcomes before giving up, unless the lease still holds
  std::chrono::milliseconds record_retry_delay{100};  // first delay between those tries (doubles)
  // Outcomes of a batch are recorded before its next handler call once the oldest unrecorded one is
  // this old (step 4); a batch that runs through faster is recorded in one call at its end.
  std::chrono::milliseconds record_window{100};
  int park_lookahead = 500;  // parked rows held per store (the parking lot's size)
  std::chrono::milliseconds park_hold{10000};   // a parking lot is released after this long
  std::chrono::milliseconds park_retry{2000};   // a store with a full lot and nothing else: skipped
  DispatchObserver* observer = nullptr;  // metrics and health (borrowed); null: none
};

// One worker's identity, and what its last RunOnce saw (for the TenantSchedule).
struct WorkerState {
  int index = 0;  // 0-based worker number (DispatchObserver::HandlerStarted)
  int claimed = 0;      // rows the last claim returned
  bool failed = false;  // the last visit's store failed
  std::chrono::milliseconds retry_in{-1};  // the soonest retry the last batch recorded (< 0: none)
  bool store_bound = false;  // the last visit spent more time outside handler calls than in them
};

class Dispatcher {
 public:
  Dispatcher(const RoutingState* routing, LeaseKeeper* leases, DispatchCounters* counters,
             DispatchOptions options);

  // Processes at most one batch from `store` (skipped while its parked topics gate it). Returns the
  // number of rows whose outcome was decided (dispatched, rescheduled, failed); 0 when there was
  // nothing to do or the store failed. Fills worker->claimed, failed and retry_in.
  int RunOnce(WorkerState* worker, const std::shared_ptr<Tenant>& store,
              const std::atomic<bool>& stopping);

  // Releases every held parked row (back to ready, no attempt counted). Call after the workers
  // stopped, before the LeaseKeeper stops.
  void ReleaseParked();

  // Rows of parked topics held in parking lots right now, over all stores.
  int HeldParkedRows();

  // For a shutdown whose grace ran out while handlers still run (call with `stopping` set): the
  // claimed rows of every batch in flight that no handler started yet are released (back to ready,
  // no attempt counted) and will not be started; the rows in a handler call stay claimed. Returns
  // the rows released. Thread-safe; makes one store call per batch in flight.
  int ReleaseUnstarted();

  const DispatchOptions& options() const { return options_; }

 private:
  struct Batch;
  void ClaimPastParked(Batch* batch, const std::atomic<bool>& stopping);
  void Deliver(Batch* batch, const std::atomic<bool>& stopping);
  // Records `completions` (a subsequence of the batch's, in claim order) in one call.
  void Record(Batch* batch, const std::vector<Completion>& completions);
  // Records the batch's decided outcomes now (everything but releases) and drops them from it.
  // From the worker, or from the watchdog while the worker is inside a handler call.
  void RecordDecided(Batch* batch);
  // Holds the batch's parked rows in its store's parking lot (as many as fit) and drops their
  // releases from the batch.
  void HoldParked(Batch* batch);
  // Counts each recorded outcome on its topic (observer only).
  void CountOutcomes(const Batch& batch, const std::vector<Completion>& completions,
                     const std::vector<int64_t>& applied_sorted, std::vector<int64_t> lease_lost);
  // The per-batch "Processing N outbox messages" line: every batch at debug level, at most one
  // line per store per kBatchLogInterval at info level.
  void LogBatch(const std::string& store_id, std::size_t rows);
  static constexpr std::chrono::seconds kBatchLogInterval{60};

  const RoutingState* const routing_;
  LeaseKeeper* const leases_;
  DispatchCounters* const counters_;
  const DispatchOptions options_;

  Parking parking_;  // parked rows held per store, and stores skipped for them

  // Batches between claim and the end of delivery, for ReleaseUnstarted.
  Mutex in_flight_mu_;
  std::unordered_set<Batch*> in_flight_ GUARDED_BY(in_flight_mu_);

  struct BatchLog {
    std::chrono::steady_clock::time_point last{};
    int64_t batches = 0;  // since `last`
    int64_t rows = 0;
  };
  std::mutex batch_log_mu_;
  std::unordered_map<std::string, BatchLog> batch_log_;  // by store id; guarded by batch_log_mu_

  // Reports handler calls past options_.handler_timeout and records a stalled batch's outcomes
  // (RecordDecided, on its thread). Last member: its thread stops before anything else goes.
  HandlerWatchdog watchdog_;
};

// A random 128-bit owner token, 32 lower-case hex digits; unique per claimed batch.
std::string NewOwnerToken();

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_DISPATCHER_H_
