// BacklogTracker: the per-tenant backlog gauges (outboxd_tenant_ready_messages,
// _in_progress_messages, _failed_messages, _oldest_ready_age_seconds) without making the counting
// the load.
//
// One thread refreshes each tenant once per `interval` (http.backlog_interval, default 30 s): each
// tenant gets a random phase in the interval and a little jitter per round, so N tenants cost an
// even N / interval queries per second, one cheap indexed statement each (OutboxStore::GetBacklog)
// through the store's own pool and so within stores.max_connections: never an extra connection.
// Backed-off tenants are not queried (their outboxd_tenant_up is 0 and their last numbers stay).
// Where a worker's own claim already gave the answer, no query is made: an empty claim means
// nothing is ready and due, so a tenant whose last sample had nothing in progress, that saw an
// empty claim and no claim with rows since, is refreshed from that (ready 0, age 0; in progress
// and failed kept) for up to `max_skips` rounds in a row; then one real query catches what other
// processes or producers changed.
//
// OWNERSHIP: borrows the tenant set (must outlive the tracker). Start() runs a thread; Stop() (or the
// destructor) joins it.
// THREADING: thread-safe. OnClaim is called by workers (one short lock, no I/O); no lock is held
// across a database call.
#ifndef OUTBOXD_OBSERVE_BACKLOG_TRACKER_H_
#define OUTBOXD_OBSERVE_BACKLOG_TRACKER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "discovery/tenant_set.h"
#include "store/outbox_message.h"

namespace outboxd {

struct BacklogTrackerOptions {
  // How often each tenant is refreshed. Default 30 s (http.backlog_interval).
  std::chrono::milliseconds interval{30000};
  // Rounds in a row a tenant may be refreshed from empty claims instead of a query. Default 9.
  int max_skips = 9;
};

// One tenant's last known backlog.
struct TenantBacklog {
  StoreBacklog backlog;
  bool known = false;  // false until the first sample
  std::chrono::steady_clock::time_point sampled_at{};
};

class BacklogTracker {
 public:
  using Clock = std::chrono::steady_clock;

  BacklogTracker(const TenantSet* tenant_set, BacklogTrackerOptions options);
  ~BacklogTracker();
  BacklogTracker(const BacklogTracker&) = delete;
  BacklogTracker& operator=(const BacklogTracker&) = delete;

  void Start();
  void Stop();

  // A worker's claim on `tenant` returned `rows` rows (ok claims only).
  void OnClaim(const std::string& tenant, int64_t rows);

  // Refreshes every tenant whose turn has come by `now` (the thread calls this; tests call it
  // directly without Start). Returns when the next tenant is due.
  Clock::time_point RunDue(Clock::time_point now);

  // The last known backlog of `tenant` (known = false when never sampled).
  TenantBacklog Get(const std::string& tenant) const;

  int64_t queries() const { return queries_.load(); }   // GetBacklog calls made
  int64_t skipped() const { return skipped_.load(); }   // refreshes answered by empty claims

 private:
  struct Entry {
    TenantBacklog value;
    Clock::time_point next_due{};
    Clock::time_point last_empty_claim{};
    Clock::time_point last_rows_claim{};
    int skips = 0;
  };
  void Loop();
  // Uniform in [0, range).
  std::chrono::milliseconds Jitter(std::chrono::milliseconds range) REQUIRES(mu_);

  const TenantSet* const tenant_set_;
  const BacklogTrackerOptions options_;
  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mu_);
  std::mt19937_64 rng_ GUARDED_BY(mu_) = std::mt19937_64{std::random_device{}()};
  std::atomic<int64_t> queries_{0};
  std::atomic<int64_t> skipped_{0};
  std::thread thread_;
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_BACKLOG_TRACKER_H_
