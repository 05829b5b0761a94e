#include "store/connection_budget.h"

#include <string>

namespace outboxd {

ConnectionBudget::ConnectionBudget(int limit) : limit_(limit) {}

void ConnectionBudget::Register(Holder* holder) {
  MutexLock lock(&mu_);
  holders_.emplace(holder, 0);
}

void ConnectionBudget::Unregister(Holder* holder) {
  MutexLock lock(&mu_);
  changed_.Wait(&mu_, [&]() REQUIRES(mu_) {
    auto it = holders_.find(holder);
    return it == holders_.end() || it->second == 0;
  });
  holders_.erase(holder);
}

bool ConnectionBudget::TryAcquire() {
  MutexLock lock(&mu_);
  if (limit_ > 0 && in_use_ >= limit_) return false;
  ++in_use_;
  return true;
}

Status ConnectionBudget::Acquire(Holder* requester, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  MutexLock lock(&mu_);
  while (true) {
    if (limit_ <= 0 || in_use_ < limit_) {
      ++in_use_;
      return Status::OK();
    }
    // Every slot is taken: evict the connection that has been idle longest, anywhere else.
    Holder* victim = nullptr;
    std::chrono::steady_clock::time_point oldest;
    for (const auto& [holder, calls] : holders_) {
      if (holder == requester) continue;
      std::optional<std::chrono::steady_clock::time_point> idle = holder->OldestIdle();
      if (idle.has_value() && (victim == nullptr || *idle < oldest)) {
        victim = holder;
        oldest = *idle;
      }
    }
    if (victim != nullptr) {
      ++holders_[victim];
      lock.Unlock();
      const bool closed = victim->CloseIdle();  // a database call: no budget lock held
      lock.Lock();
      --holders_[victim];
      changed_.NotifyAll();  // an Unregister may be waiting for this call to end
      if (closed) {
        ++evictions_;
        return Status::OK();  // the victim's slot is ours; in_use_ is unchanged
      }
      continue;  // it was taken meanwhile: look again
    }
    const uint64_t generation = idle_generation_;
    const int used = in_use_;
    if (!changed_.WaitUntil(&mu_, deadline, [&]() REQUIRES(mu_) {
          return in_use_ < used || idle_generation_ != generation;
        })) {
      return Status::Unavailable("all " + std::to_string(limit_) +
                                 " connections allowed by stores.max_connections are in use");
    }
  }
}

void ConnectionBudget::Release() {
  {
    MutexLock lock(&mu_);
    --in_use_;
  }
  changed_.NotifyAll();
}

void ConnectionBudget::NotifyIdle() {
  {
    MutexLock lock(&mu_);
    if (limit_ <= 0 || in_use_ < limit_) return;  // nobody can be waiting
    ++idle_generation_;
  }
  changed_.NotifyAll();
}

int ConnectionBudget::in_use() const {
  MutexLock lock(&mu_);
  return in_use_;
}

int64_t ConnectionBudget::evictions() const {
  MutexLock lock(&mu_);
  return evictions_;
}

}  // namespace outboxd
