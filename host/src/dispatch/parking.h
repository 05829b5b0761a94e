// Parking: where the dispatcher keeps the rows of *parked* topics (a topic whose handler plugin
// was removed and is expected back: hot reload, HandlerTable::IsParked; or any unknown topic with
// dispatch.unknown_topic "park"). Such rows are never delivered and never count an attempt.
//
// Parked rows would come back first at every claim (oldest first). So they are *held*: left in
// progress under their batch's owner token, lease renewed by the LeaseKeeper, in a per-store
// parking lot of at most `lookahead` rows, while the batch claims again to reach the rows behind
// them. Later claims skip held rows by themselves, so nothing is claimed twice while a topic stays
// parked. A lot is released (back to ready, no attempt counted) as soon as the routing changes (a
// handler may be back: the rows are claimed again at once), after `hold` (so that another outboxd
// process that has the handler gets its turn), and by ReleaseAll at shutdown. A parked row that
// does not fit in the lot is released by its batch at once, and a store whose claim then yielded
// nothing else is *gated*: skipped for `retry` or until the routing changes, so a parked topic
// never makes a worker spin on the same rows. A process that dies while holding parked rows loses
// their lease like any other claim (one attempt counted).
//
// OWNERSHIP: holds shared_ptrs to the stores of held rows until they are released; borrows the
// LeaseKeeper (a held batch's owner token stays registered until its lot is released) and the
// counters, which must outlive it.
// THREADING: thread-safe. The lock is never held across a store call; Skip and Release cost one
// atomic load while there is no gate / no lot at all.
#ifndef OUTBOXD_DISPATCH_PARKING_H_
#define OUTBOXD_DISPATCH_PARKING_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "discovery/tenant.h"
#include "dispatch/dispatch_counters.h"
#include "dispatch/dispatch_observer.h"
#include "dispatch/lease_keeper.h"

namespace outboxd {

class Parking {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Options {
    int lookahead = 500;                      // rows held per store (a lot's size)
    std::chrono::milliseconds hold{10000};    // a lot is released after this long
    std::chrono::milliseconds retry{2000};    // a gated store is skipped this long
  };

  Parking(Options options, LeaseKeeper* leases, DispatchCounters* counters);

  // True while `store_id` is gated under `routing_version` (a gate of another version, or one
  // whose time has come, is dropped).
  bool Skip(const std::string& store_id, uint64_t routing_version, TimePoint now) EXCLUDES(mu_);
  // Gates `store_id` until now + retry or until the routing leaves `routing_version`.
  void Gate(const std::string& store_id, uint64_t routing_version, TimePoint now) EXCLUDES(mu_);

  // Holds the first rows of `ids` (parked rows claimed under `owner_token`, in claim order) in
  // the store's lot, as many as fit; `topics` is parallel to ids (empty without an observer).
  // Returns how many were held. The caller keeps owner_token registered with the LeaseKeeper when
  // it is > 0 (Release unregisters it).
  std::size_t Hold(const std::shared_ptr<Tenant>& store, const std::string& owner_token,
                   uint64_t routing_version, const std::vector<int64_t>& ids,
                   const std::vector<TopicObserver*>& topics, TimePoint now) EXCLUDES(mu_);

  // Releases (back to ready, no attempt counted: one store call per held batch) the lots made
  // under another routing version or older than `hold`.
  void Release(uint64_t routing_version, TimePoint now) EXCLUDES(mu_);
  // Releases every lot (shutdown: after the workers stopped, before the LeaseKeeper stops).
  void ReleaseAll() EXCLUDES(mu_);

  int HeldRows(const std::string& store_id) EXCLUDES(mu_);  // in that store's lot
  int HeldRows() EXCLUDES(mu_);                             // over all stores

  const Options& options() const { return options_; }

 private:
  struct GateEntry {
    uint64_t routing_version;  // the gate holds while the routing is still this version
    TimePoint until;
  };
  struct Held {  // rows held under one batch's owner token
    std::shared_ptr<Tenant> store;
    std::string owner_token;
    std::vector<int64_t> ids;
    std::vector<TopicObserver*> topics;  // parallel to ids (empty without an observer)
  };
  struct Lot {
    uint64_t routing_version = 0;
    TimePoint since;
    int rows = 0;
    std::vector<Held> holds;
  };
  void ReleaseLots(uint64_t routing_version, TimePoint now, bool all) EXCLUDES(mu_);
  void ReleaseHeld(Held* held);

  const Options options_;
  LeaseKeeper* const leases_;
  DispatchCounters* const counters_;
  Mutex mu_;
  std::unordered_map<std::string, GateEntry> gates_ GUARDED_BY(mu_);  // by store id
  std::unordered_map<std::string, Lot> lots_ GUARDED_BY(mu_);     // by store id
  std::atomic<int> gate_count_{0};  // gates_.size(): skips the lock when zero
  std::atomic<int> lot_count_{0};   // lots_.size(): skips the lock when zero
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_PARKING_H_
