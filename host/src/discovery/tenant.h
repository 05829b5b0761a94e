// Tenant: one discovered tenant outbox as the dispatcher sees it: the store plus its health.
// A store whose database fails (missing file, locked, server down) is backed off: skipped by the
// dispatcher until its retry time, the delay doubling per consecutive failure (1 s .. 60 s), with one
// log line per back-off step and one when it recovers. The others keep going.
//
// OWNERSHIP: owns the OutboxStore. Shared (shared_ptr) by the tenant set's snapshots and by workers
// with a batch in flight, so a store removed by discovery finishes its in-flight batch.
// THREADING: thread-safe; the health lock is never held across a database call.
#ifndef OUTBOXD_DISCOVERY_TENANT_H_
#define OUTBOXD_DISCOVERY_TENANT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "common/status.h"
#include "store/outbox_store.h"

namespace outboxd {

class Tenant {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  Tenant(TenantLocation location, std::unique_ptr<OutboxStore> store);

  const std::string& id() const { return location_.identifier; }
  const TenantLocation& location() const { return location_; }
  OutboxStore& store() const { return *store_; }

  // False while the store is backed off after a failure.
  bool Available(TimePoint now) const;
  // Records a failed database call: backs off and logs once per step.
  void RecordFailure(const Status& status, TimePoint now);
  // Records a successful call: clears the back-off (logs recovery once).
  void RecordSuccess();
  int consecutive_failures() const;

  // For metrics and the status page: the back-off state and the last failure's message.
  struct Health {
    int failures = 0;        // consecutive; 0 = serving
    TimePoint retry_at{};    // meaningful when failures > 0
    std::string last_error;  // of the last RecordFailure ("" before any)
  };
  Health health() const;

  // Database calls of this store that failed (outboxd_store_errors_total{tenant}). RecordFailure
  // counts one; CountError counts a failure that does not back the store off (a retried write).
  void CountError() { errors_.fetch_add(1, std::memory_order_relaxed); }
  int64_t errors() const { return errors_.load(std::memory_order_relaxed); }

  static constexpr std::chrono::milliseconds kMinBackoff{1000};
  static constexpr std::chrono::milliseconds kMaxBackoff{60000};

 private:
  const TenantLocation location_;
  const std::unique_ptr<OutboxStore> store_;
  mutable Mutex mu_;
  int failures_ GUARDED_BY(mu_) = 0;
  TimePoint retry_at_ GUARDED_BY(mu_){};
  std::string last_error_ GUARDED_BY(mu_);
  std::atomic<int64_t> errors_{0};
};

}  // namespace outboxd

#endif  // OUTBOXD_DISCOVERY_TENANT_H_
