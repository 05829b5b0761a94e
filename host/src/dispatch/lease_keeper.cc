#include "dispatch/lease_keeper.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace outboxd {

LeaseKeeper::LeaseKeeper(std::chrono::milliseconds lease) : lease_(lease) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Register(const std::string& owner_token, std::shared_ptr<TenantStore> store) {
  MutexLock lock(&mu_);
  batches_[owner_token] = std::move(store);
}

void LeaseKeeper::Unregister(const std::string& owner_token) {
  MutexLock lock(&mu_);
  batches_.erase(owner_token);
}

void LeaseKeeper::RenewAll() {
  std::vector<std::pair<std::string, std::shared_ptr<TenantStore>>> batches;
  {
    MutexLock lock(&mu_);
    batches.assign(batches_.begin(), batches_.end());
  }
  for (const auto& [token, store] : batches) {
    int64_t renewed = 0;
    Status s = store->store().RenewLease(token, lease_, &renewed);
    if (!s.ok()) {
      spdlog::warn("Could not renew leases in outbox database '{}': {}", store->id(), s.message());
      continue;
    }
    MutexLock lock(&mu_);
    renewals_ += renewed;
  }
}

void LeaseKeeper::Start() {
  MutexLock lock(&mu_);
  if (heartbeat_.joinable()) return;
  stopping_ = false;
  heartbeat_ = std::thread([this] {
    const auto interval = std::max(std::chrono::milliseconds(10), lease_ / 3);
    MutexLock guard(&mu_);
    while (!cv_.WaitFor(&mu_, interval, [this]() REQUIRES(mu_) { return stopping_; })) {
      guard.Unlock();
      RenewAll();
      guard.Lock();
    }
  });
}

void LeaseKeeper::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (heartbeat_.joinable()) heartbeat_.join();
}

std::size_t LeaseKeeper::in_flight() const {
  MutexLock lock(&mu_);
  return batches_.size();
}

int64_t LeaseKeeper::renewals() const {
  MutexLock lock(&mu_);
  return renewals_;
}

}  // namespace outboxd
