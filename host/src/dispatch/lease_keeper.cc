#include "dispatch/lease_keeper.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace outboxd {

LeaseKeeper::LeaseKeeper(std::chrono::milliseconds lease) : lease_(lease) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Register(const std::string& owner_token, std::shared_ptr<TenantStore> store) {
  std::lock_guard<std::mutex> lock(mu_);
  batches_[owner_token] = std::move(store);
}

void LeaseKeeper::Unregister(const std::string& owner_token) {
  std::lock_guard<std::mutex> lock(mu_);
  batches_.erase(owner_token);
}

void LeaseKeeper::RenewAll() {
  std::vector<std::pair<std::string, std::shared_ptr<TenantStore>>> batches;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batches.assign(batches_.begin(), batches_.end());
  }
  for (const auto& [token, store] : batches) {
    int64_t renewed = 0;
    Status s = store->store().RenewLease(token, lease_, &renewed);
    if (!s.ok()) {
      spdlog::warn("Could not renew leases in outbox database '{}': {}", store->id(), s.message());
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    renewals_ += renewed;
  }
}

void LeaseKeeper::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (heartbeat_.joinable()) return;
  stopping_ = false;
  heartbeat_ = std::thread([this] {
    const auto interval = std::max(std::chrono::milliseconds(10), lease_ / 3);
    std::unique_lock<std::mutex> guard(mu_);
    while (!cv_.wait_for(guard, interval, [this] { return stopping_; })) {
      guard.unlock();
      RenewAll();
      guard.lock();
    }
  });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

std::size_t LeaseKeeper::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_.size();
}

int64_t LeaseKeeper::renewals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return renewals_;
}

}  // namespace outboxd
