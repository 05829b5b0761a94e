// TenantSchedule: when each tenant store is visited next, one timer per tenant instead of a
// fleet-wide sweep, so idle cost is tenants ÷ interval and one busy tenant costs only its own
// visits.
//
// Every tenant (keyed by identifier) is in exactly one of three places: WAITING in a timer set
// ordered by next-visit time (a balanced tree used as a heap that also supports removal), READY in
// the SelectionStrategy's queue (dispatch/selection_strategy.h decides the order), or being
// VISITED by one or more workers. Take() moves every waiting tenant whose time has come to the
// ready queue (oldest first) and hands out the strategy's next one.
//
// Made ready at once: a new tenant (Sync), a NOTIFY for it (Notify; one that arrives while the
// tenant is being visited makes it ready when the visit ends), a claim that came back full (per
// the strategy: fair/round-robin on a full batch, drain-first on any row), a handler-requested or
// back-off retry due sooner than the next poll (Result::retry_in: the tenant is due then), and
// recovery: a NOTIFY (the listener connects or reconnects after a server outage and notifies every
// store it watches) or a tenant whose store succeeds after failures makes every backed-off tenant
// on the same server (host:port of its connection string; SQLite files have none) due at once.
//
// After an empty claim only that tenant is pushed back: its idle delay starts at poll_interval and
// doubles up to max_poll_interval (notify_safety_interval once a NOTIFY was received for it, i.e.
// its listener is live), and the visit is scheduled after delay × U[0.5, 1.0] (jitter: 1,000
// tenants spread over the interval instead of polling in phase). A claim that returned rows but not
// a full batch resets the delay to poll_interval. A failed visit backs the tenant off by
// options.failure_backoff(consecutive failures) (dispatch/backoff.h) and forgets the listener
// until the next NOTIFY.
//
// Concurrency rule: a tenant being visited is not handed to a second worker, except when its last
// visit came back full and a worker asks while no tenant at all is ready (the extra worker claims
// the same tenant's next batch in parallel; SKIP LOCKED / leases keep the batches apart). So a
// backlog is drained by every otherwise idle worker, and never at the expense of a ready tenant.
// Except for a store that writes one at a time (OutboxStore::serializes_writes: SQLite) whose last
// visit spent more time in store calls than in handlers: extra workers would only queue for its
// writer and switch its connections (measured on one SQLite file with a no-op handler: 1 worker
// 96.6k-102.1k msg/s, 4 workers 70.8k-79.7k), so it keeps one worker until its handlers are what
// takes the time (then parallel visits overlap them).
//
// Time comes from an injectable clock (tests use a fake one); Take never blocks: WorkerPool sleeps
// until NextDue() or the on_ready callback.
//
// OWNERSHIP: holds shared_ptrs to the stores of the last Sync (a removed store lives until its
// visits end). THREADING: thread-safe; on_ready is called with no lock held, from the calling
// thread.
#ifndef OUTBOXD_DISPATCH_TENANT_SCHEDULE_H_
#define OUTBOXD_DISPATCH_TENANT_SCHEDULE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "discovery/tenant.h"
#include "dispatch/backoff.h"
#include "dispatch/selection_strategy.h"

namespace outboxd {

// The schedule's time source; steady. Tests substitute a fake one.
class ScheduleClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~ScheduleClock() = default;
  virtual TimePoint Now() const = 0;
  static const ScheduleClock* Steady();  // std::chrono::steady_clock
};

struct ScheduleOptions {
  std::chrono::milliseconds poll_interval{250};
  std::chrono::milliseconds max_poll_interval{2000};
  // Idle interval of a tenant whose NOTIFY listener is live. The daemon passes 10 x
  // stores.notify_safety_interval: the listener probes such a tenant's table itself every
  // notify_safety_interval and wakes it when a claim would find rows, so this is only a backstop.
  std::chrono::milliseconds notify_safety_interval{60000};
  int batch_size = 50;  // a claim of this many rows is "full"
  // Delay after `n` consecutive failed visits: DefaultBackoff(n + 1), i.e. 1 s, 2 s, 4 s ... 60 s
  // (+ [0, 250) ms jitter), the steps Tenant::RecordFailure logs.
  BackoffPolicy failure_backoff = [](int n) { return DefaultBackoff(n + 1); };
  // Uniform in [0, 1) (the idle jitter); default: a thread-local generator.
  std::function<double()> uniform;
};

// The host:port a connection string connects to ("" for SQLite or when there is none); tenants
// with the same key share a server for recovery.
std::string ServerKeyOf(const std::string& connection_string);

class TenantSchedule {
 public:
  using TimePoint = ScheduleClock::TimePoint;

  TenantSchedule(std::unique_ptr<SelectionStrategy> strategy, ScheduleOptions options,
                 const ScheduleClock* clock = ScheduleClock::Steady());

  // Called (no lock held) whenever a tenant becomes ready, or a visit's end makes the earliest due
  // time earlier than before.
  void SetOnReady(std::function<void()> on_ready);

  // Makes the tenant set equal to `stores`: new identifiers (or a store recreated under the same
  // identifier) are ready at once, missing ones are removed.
  void Sync(const std::vector<std::shared_ptr<Tenant>>& stores);
  // A NOTIFY for `id`: ready at once (when the visit ends, if being visited); marks its listener
  // live. Unknown ids are ignored.
  void Notify(const std::string& id);
  // `id`'s listener is live (connected; it will probe and notify): the tenant's idle interval
  // becomes notify_safety_interval from its next visit on. Does not make it ready.
  void MarkListened(const std::string& id);
  // Every tenant due at once (handlers changed, SIGHUP).
  void WakeAll();

  struct Visit {
    std::shared_ptr<Tenant> store;
    uint64_t serial = 0;  // the tenant's incarnation (a store recreated under its id is another)
  };
  // The next tenant to visit now, if any.
  std::optional<Visit> Take();
  // When Take may next return a visit without a wake (nullopt: never, e.g. no tenants).
  std::optional<TimePoint> NextDue() const;

  struct Result {
    int claimed = 0;      // rows the claim returned
    bool failed = false;  // the store failed
    std::chrono::milliseconds retry_in{-1};  // earliest retry recorded (< 0: none)
    // The visit spent more of its time in store calls than in handler calls.
    bool store_bound = false;
  };
  void Done(const Visit& visit, const Result& result);

  const ScheduleClock* clock() const { return clock_; }

  // Tenants being visited or ready right now (WorkerPool: "is everything quiet").
  int busy() const;

  // Introspection (tests, status): nullopt for an unknown id or a tenant not waiting.
  std::optional<TimePoint> DueAt(const std::string& id) const;
  int failures(const std::string& id) const;
  bool listened(const std::string& id) const;
  std::size_t size() const;

 private:
  struct Slot {
    std::shared_ptr<Tenant> store;
    uint64_t serial = 0;
    std::string server;
    bool waiting = false;  // in timers_ at `due`
    TimePoint due{};
    uint64_t timer_seq = 0;
    bool ready = false;  // in the strategy's queue
    int visits = 0;
    bool hot = false;       // last visit came back full
    bool serial_writes = false;  // the store runs one write at a time (OutboxStore)
    bool store_bound = false;    // last visit's time went to store calls rather than handlers
    bool wake_after = false;  // notified while visited
    bool listened = false;
    int failures = 0;
    std::chrono::milliseconds idle_delay{0};  // the next idle delay (before jitter)
  };
  using TimerKey = std::tuple<TimePoint, uint64_t, std::string>;

  void Promote(TimePoint now) REQUIRES(mu_);
  void MakeReady(const std::string& id, Slot* t) REQUIRES(mu_);
  // Whether `due` is now the earliest timer (sleeping workers must look again).
  bool ScheduleAt(const std::string& id, Slot* t, TimePoint due) REQUIRES(mu_);
  void Unwait(const std::string& id, Slot* t) REQUIRES(mu_);
  // Whether a free worker may join `t`'s visit: its last visit came back full, and a second
  // worker would not just queue behind the first for a store that writes one at a time.
  static bool Joinable(const Slot& t) { return t.hot && !(t.serial_writes && t.store_bound); }
  std::chrono::milliseconds Jitter(std::chrono::milliseconds delay) const;
  void FireReady();

  const std::unique_ptr<SelectionStrategy> strategy_;
  const ScheduleOptions options_;
  const ScheduleClock* const clock_;
  std::function<void()> on_ready_;

  mutable Mutex mu_;
  std::unordered_map<std::string, Slot> tenants_ GUARDED_BY(mu_);
  std::set<TimerKey> timers_ GUARDED_BY(mu_);
  uint64_t next_seq_ GUARDED_BY(mu_) = 0;
  uint64_t next_serial_ GUARDED_BY(mu_) = 0;
  int visiting_ GUARDED_BY(mu_) = 0;  // tenants with visits > 0
  std::set<std::string> hot_ GUARDED_BY(mu_);  // visited tenants whose last visit was full
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_TENANT_SCHEDULE_H_
