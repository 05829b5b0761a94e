#include "observe/backlog_tracker.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace outboxd {

namespace {

BacklogTrackerOptions Sanitized(BacklogTrackerOptions options) {
  options.interval = std::max(options.interval, std::chrono::milliseconds(1));
  options.max_skips = std::max(options.max_skips, 0);
  return options;
}

}  // namespace

BacklogTracker::BacklogTracker(const TenantSet* tenant_set, BacklogTrackerOptions options)
    : tenant_set_(tenant_set), options_(Sanitized(options)) {}

BacklogTracker::~BacklogTracker() { Stop(); }

void BacklogTracker::Start() {
  MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void BacklogTracker::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

std::chrono::milliseconds BacklogTracker::Jitter(std::chrono::milliseconds range) {
  if (range.count() <= 1) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<int64_t>(rng_() % static_cast<uint64_t>(range.count())));
}

void BacklogTracker::OnClaim(const std::string& tenant, int64_t rows) {
  const Clock::time_point now = Clock::now();
  MutexLock lock(&mu_);
  auto it = entries_.find(tenant);
  if (it == entries_.end()) return;  // not tracked yet: the next round adds it
  if (rows > 0) {
    it->second.last_rows_claim = now;
  } else {
    it->second.last_empty_claim = now;
  }
}

TenantBacklog BacklogTracker::Get(const std::string& tenant) const {
  MutexLock lock(&mu_);
  auto it = entries_.find(tenant);
  return it == entries_.end() ? TenantBacklog{} : it->second.value;
}

BacklogTracker::Clock::time_point BacklogTracker::RunDue(Clock::time_point now) {
  std::shared_ptr<const TenantList> stores = tenant_set_->Snapshot();
  std::vector<std::shared_ptr<Tenant>> due;
  {
    MutexLock lock(&mu_);
    std::unordered_set<std::string> live;
    for (const auto& store : *stores) {
      live.insert(store->id());
      auto [it, added] = entries_.try_emplace(store->id());
      if (added) it->second.next_due = now + Jitter(options_.interval);  // a random phase
      Entry& e = it->second;
      if (e.next_due > now) continue;
      e.next_due = now + options_.interval + Jitter(options_.interval / 20) -
                   options_.interval / 40;  // +-2.5 % so the phases drift apart
      if (e.value.known && e.value.backlog.in_progress == 0 && e.skips < options_.max_skips &&
          e.last_empty_claim > e.value.sampled_at && e.last_rows_claim < e.value.sampled_at) {
        // A claim found nothing ready and due since the last sample, and nothing was claimed.
        e.value.backlog.ready_due = 0;
        e.value.backlog.oldest_ready_age_ms = 0;
        e.value.sampled_at = e.last_empty_claim;  // the instant the answer is true of
        ++e.skips;
        ++skipped_;
        continue;
      }
      due.push_back(store);
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = live.count(it->first) == 0 ? entries_.erase(it) : std::next(it);
    }
  }
  for (const auto& store : due) {
    if (!store->Available(Clock::now())) continue;  // backed off: up = 0, numbers kept
    StoreBacklog backlog;
    const Clock::time_point started = Clock::now();
    ++queries_;
    Status s = store->store().GetBacklog(&backlog);
    if (!s.ok()) {
      store->RecordFailure(s, Clock::now());
      continue;
    }
    MutexLock lock(&mu_);
    auto it = entries_.find(store->id());
    if (it == entries_.end()) continue;
    it->second.value = TenantBacklog{backlog, true, started};
    it->second.skips = 0;
  }
  MutexLock lock(&mu_);
  Clock::time_point next = now + options_.interval;
  for (const auto& [id, e] : entries_) next = std::min(next, e.next_due);
  return next;
}

void BacklogTracker::Loop() {
  for (;;) {
    const Clock::time_point next = RunDue(Clock::now());
    MutexLock lock(&mu_);
    // At least 10 ms between rounds: tenants due together are taken in one round.
    const Clock::time_point wake = std::max(next, Clock::now() + std::chrono::milliseconds(10));
    if (cv_.WaitUntil(&mu_, wake, [this]() REQUIRES(mu_) { return stop_; })) return;
  }
}

}  // namespace outboxd
