#include "plugin/rejected_record_log.h"

#include <atomic>
#include <functional>
#include <string>

namespace outboxd {
namespace {

std::atomic<int64_t> g_rejected_total{0};
std::atomic<int64_t> g_rejected_last_listing{0};

}  // namespace

bool RejectedRecordLog::ShouldLog(std::string_view fingerprint, Clock::time_point now,
                                  bool* repeat) {
  // A hash, not the text: the fingerprint holds connection strings, which may hold passwords.
  const size_t key = std::hash<std::string_view>{}(fingerprint);
  g_rejected_total.fetch_add(1, std::memory_order_relaxed);
  MutexLock lock(&mu_);
  ++rejected_in_listing_;
  seen_in_listing_.insert(key);
  auto it = logged_at_.find(key);
  *repeat = it != logged_at_.end();
  if (*repeat && now - it->second < kRepeatEvery) return false;
  logged_at_[key] = now;
  return true;
}

void RejectedRecordLog::StartListing() {
  MutexLock lock(&mu_);
  seen_in_listing_.clear();
  rejected_in_listing_ = 0;
}

void RejectedRecordLog::EndListing() {
  MutexLock lock(&mu_);
  for (auto it = logged_at_.begin(); it != logged_at_.end();) {
    it = seen_in_listing_.count(it->first) != 0 ? std::next(it) : logged_at_.erase(it);
  }
  seen_in_listing_.clear();
  g_rejected_last_listing.store(rejected_in_listing_, std::memory_order_relaxed);
  rejected_in_listing_ = 0;
}

int64_t RejectedRecordLog::RejectedTotal() {
  return g_rejected_total.load(std::memory_order_relaxed);
}

int64_t RejectedRecordLog::RejectedInLastListing() {
  return g_rejected_last_listing.load(std::memory_order_relaxed);
}

}  // namespace outboxd
