// TenantSet: the dynamic set of tenant stores, kept in step with a DiscoverySource.
//
// Refresh() asks discovery for the current list and diffs it against the current set by identifier:
//  - a new identifier gets a new store ("Discovered new outbox database: <id>"), its schema is
//    created (a failure is logged; the store is kept and retried on use);
//  - a missing identifier is dropped ("Outbox database removed: <id>");
//  - an identifier whose connection string, schema or table changed gets a new store;
//  - discovery failing keeps the current set (error logged, returned to the caller);
//  - discovery returning nothing while stores exist keeps the current set with a warning, unless
//    allow_empty (hardening B5).
// It then publishes a new immutable snapshot atomically and logs
// "Discovery complete. Managing <n> outbox databases". Refresh is single-flight (B6): a caller that
// arrives while a refresh runs waits for it and shares its result instead of starting another.
//
// OWNERSHIP: borrows the DiscoverySource (must outlive the tenant set). Snapshots are shared_ptrs to
// immutable vectors; holding one keeps its stores alive.
// THREADING: thread-safe. No lock is held across discovery or any database call.
#ifndef OUTBOXD_DISCOVERY_TENANT_SET_H_
#define OUTBOXD_DISCOVERY_TENANT_SET_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "discovery/discovery_source.h"
#include "discovery/tenant.h"

namespace outboxd {

using TenantList = std::vector<std::shared_ptr<Tenant>>;
using StoreFactory =
    std::function<Status(const TenantLocation& location, std::unique_ptr<OutboxStore>* out)>;

// What discovery did, for metrics (outboxd_discovery_*). Lock-free; read from any thread.
struct DiscoveryCounters {
  std::atomic<int64_t> errors{0};      // failed discovery runs
  std::atomic<int64_t> added{0};       // new identifiers
  std::atomic<int64_t> removed{0};     // identifiers gone
  std::atomic<int64_t> recreated{0};   // identifiers whose target changed
  std::atomic<int64_t> last_success_unix_ms{0};  // wall clock of the last successful run; 0: none
};

struct TenantSetOptions {
  // Accept an empty discovery result as "no tenants" (drops every store). Default: keep the set.
  bool allow_empty = false;
  // Create the schema of a newly discovered store during the refresh.
  bool ensure_schema_on_discovery = true;
  // Counted into when set (borrowed; must outlive the tenant set).
  DiscoveryCounters* counters = nullptr;
};

class TenantSet {
 public:
  TenantSet(DiscoverySource* source, StoreFactory factory, TenantSetOptions options = {});

  // The current set (never null; empty before the first successful refresh).
  std::shared_ptr<const TenantList> Snapshot() const;

  // Runs discovery and applies the diff; single-flight.
  Status Refresh() EXCLUDES(flight_mu_);

  // Called after each published change (e.g. to wake idle workers). Set before the first Refresh.
  void SetOnChange(std::function<void()> on_change) { on_change_ = std::move(on_change); }

  uint64_t refresh_count() const { return refreshes_.load(); }
  // Callers currently waiting for an in-flight refresh to finish.
  int waiting_for_test() const { return waiting_.load(); }

 private:
  Status RefreshOnce() EXCLUDES(flight_mu_);  // runs discovery: no lock held
  void Publish(std::shared_ptr<const TenantList> set);

  DiscoverySource* const source_;
  const StoreFactory factory_;
  const TenantSetOptions options_;
  std::function<void()> on_change_;

  mutable Mutex snapshot_mu_;  // pointer swap only
  std::shared_ptr<const TenantList> snapshot_ GUARDED_BY(snapshot_mu_);

  Mutex flight_mu_;  // single-flight bookkeeping
  CondVar flight_cv_;
  bool in_flight_ GUARDED_BY(flight_mu_) = false;
  uint64_t flight_generation_ GUARDED_BY(flight_mu_) = 0;
  Status last_result_ GUARDED_BY(flight_mu_);
  std::atomic<uint64_t> refreshes_{0};
  std::atomic<int> waiting_{0};
};

}  // namespace outboxd

#endif  // OUTBOXD_DISCOVERY_TENANT_SET_H_
