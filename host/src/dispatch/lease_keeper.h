// LeaseKeeper: keeps the leases of in-flight batches alive while their handlers run, so a slow
// handler is not taken over by another process, while a crashed process's leases lapse within one
// lease period. Workers Register a batch (owner token + store) before claiming and Unregister it
// after recording its outcomes; a heartbeat thread renews every registered batch each lease/3.
// HeldUntil says until when a batch's lease surely holds (the start of its last successful
// renewal, or of its registration, plus the lease): the dispatcher keeps trying to record outcomes
// until then, since nobody else can take the rows over before.
//
// OWNERSHIP: holds shared_ptrs to the stores of registered batches.
// THREADING: thread-safe. The registry lock is held only to copy entries, never across RenewLease.
#ifndef OUTBOXD_DISPATCH_LEASE_KEEPER_H_
#define OUTBOXD_DISPATCH_LEASE_KEEPER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "discovery/tenant.h"

namespace outboxd {

class LeaseKeeper {
 public:
  explicit LeaseKeeper(std::chrono::milliseconds lease);
  ~LeaseKeeper();  // stops the heartbeat

  void Register(const std::string& owner_token, std::shared_ptr<Tenant> store) EXCLUDES(mu_);
  void Unregister(const std::string& owner_token) EXCLUDES(mu_);

  // Renews every registered batch once (the heartbeat calls this; tests may call it directly).
  // Copies the registry under the lock, renews without it (a database call per store).
  void RenewAll() EXCLUDES(mu_);

  void Start() EXCLUDES(mu_);  // starts the heartbeat thread (interval lease/3)
  void Stop() EXCLUDES(mu_);

  // When the lease of `owner_token`'s rows lapses at the earliest (steady clock); nullopt when it
  // is not registered.
  std::optional<std::chrono::steady_clock::time_point> HeldUntil(const std::string& owner_token)
      const EXCLUDES(mu_);

  std::size_t in_flight() const EXCLUDES(mu_);
  int64_t renewals() const EXCLUDES(mu_);

 private:
  const std::chrono::milliseconds lease_;
  mutable Mutex mu_;
  CondVar cv_;
  struct Held {
    std::shared_ptr<Tenant> store;
    std::chrono::steady_clock::time_point since;  // the lease holds from at least then
  };
  std::map<std::string, Held> batches_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  int64_t renewals_ GUARDED_BY(mu_) = 0;
  std::thread heartbeat_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_LEASE_KEEPER_H_
