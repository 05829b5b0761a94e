#include "dispatch/lease_keeper.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace outboxd {

LeaseKeeper::LeaseKeeper(std::chrono::milliseconds lease) : lease_(lease) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Register(const std::string& owner_token, std::shared_ptr<Tenant> store) {
  const auto now = std::chrono::steady_clock::now();
  MutexLock lock(&mu_);
  batches_[owner_token] = Held{std::move(store), now};
}

void LeaseKeeper::Unregister(const std::string& owner_token) {
  MutexLock lock(&mu_);
  batches_.erase(owner_token);
}

void LeaseKeeper::RenewAll() {
  std::vector<std::pair<std::string, std::shared_ptr<Tenant>>> batches;
  {
    MutexLock lock(&mu_);
    for (const auto& [token, held] : batches_) batches.emplace_back(token, held.store);
  }
  for (const auto& [token, store] : batches) {
    int64_t renewed = 0;
    const auto start = std::chrono::steady_clock::now();
    Status s = store->store().RenewLease(token, lease_, &renewed);
    if (!s.ok()) {
      spdlog::warn("Could not renew leases in outbox database '{}': {}", store->id(), s.message());
      continue;
    }
    MutexLock lock(&mu_);
    renewals_ += renewed;
    auto it = batches_.find(token);
    if (it != batches_.end()) it->second.since = std::max(it->second.since, start);
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

std::optional<std::chrono::steady_clock::time_point> LeaseKeeper::HeldUntil(
    const std::string& owner_token) const {
  MutexLock lock(&mu_);
  auto it = batches_.find(owner_token);
  if (it == batches_.end()) return std::nullopt;
  return it->second.since + lease_;
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
