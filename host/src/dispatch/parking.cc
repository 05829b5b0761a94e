#include "dispatch/parking.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace outboxd {

Parking::Parking(Options options, LeaseKeeper* leases, DispatchCounters* counters)
    : options_(options), leases_(leases), counters_(counters) {}

bool Parking::Skip(const std::string& store_id, uint64_t routing_version, TimePoint now) {
  if (gate_count_.load(std::memory_order_acquire) == 0) return false;
  MutexLock lock(&mu_);
  auto it = gates_.find(store_id);
  if (it == gates_.end()) return false;
  if (it->second.routing_version == routing_version && now < it->second.until) return true;
  gates_.erase(it);
  gate_count_.store(static_cast<int>(gates_.size()), std::memory_order_release);
  return false;
}

void Parking::Gate(const std::string& store_id, uint64_t routing_version, TimePoint now) {
  spdlog::debug("Store '{}' has only messages of parked topics due; skipping it for {} ms or "
                "until a handler is loaded",
                store_id, options_.retry.count());
  MutexLock lock(&mu_);
  gates_[store_id] = GateEntry{routing_version, now + options_.retry};
  gate_count_.store(static_cast<int>(gates_.size()), std::memory_order_release);
}

std::size_t Parking::Hold(const std::shared_ptr<Tenant>& store,
                          const std::string& owner_token, uint64_t routing_version,
                          const std::vector<int64_t>& ids,
                          const std::vector<TopicObserver*>& topics, TimePoint now) {
  const std::string& id = store->id();
  MutexLock lock(&mu_);
  Lot& lot = lots_[id];
  if (lot.holds.empty()) {
    lot.routing_version = routing_version;
    lot.since = now;
  }
  const std::size_t room = static_cast<std::size_t>(std::max(0, options_.lookahead - lot.rows));
  const std::size_t n = std::min(room, ids.size());
  if (n == 0) {
    if (lot.holds.empty()) lots_.erase(id);
    return 0;
  }
  Held held{store, owner_token, std::vector<int64_t>(ids.begin(), ids.begin() + n), {}};
  if (!topics.empty()) held.topics.assign(topics.begin(), topics.begin() + n);
  lot.holds.push_back(std::move(held));
  lot.rows += static_cast<int>(n);
  lot_count_.store(static_cast<int>(lots_.size()), std::memory_order_release);
  return n;
}

void Parking::Release(uint64_t routing_version, TimePoint now) {
  if (lot_count_.load(std::memory_order_acquire) == 0) return;
  ReleaseLots(routing_version, now, /*all=*/false);
}

void Parking::ReleaseAll() { ReleaseLots(0, TimePoint{}, /*all=*/true); }

int Parking::HeldRows(const std::string& store_id) {
  if (lot_count_.load(std::memory_order_acquire) == 0) return 0;
  MutexLock lock(&mu_);
  auto it = lots_.find(store_id);
  return it == lots_.end() ? 0 : it->second.rows;
}

int Parking::HeldRows() {
  MutexLock lock(&mu_);
  int rows = 0;
  for (const auto& [id, lot] : lots_) rows += lot.rows;
  return rows;
}

void Parking::ReleaseLots(uint64_t routing_version, TimePoint now, bool all) {
  std::vector<Held> release;
  {
    MutexLock lock(&mu_);
    for (auto it = lots_.begin(); it != lots_.end();) {
      const Lot& lot = it->second;
      if (!all && lot.routing_version == routing_version && now - lot.since < options_.hold) {
        ++it;
        continue;
      }
      for (Held& held : it->second.holds) release.push_back(std::move(held));
      it = lots_.erase(it);
    }
    lot_count_.store(static_cast<int>(lots_.size()), std::memory_order_release);
  }
  for (Held& held : release) ReleaseHeld(&held);
}

void Parking::ReleaseHeld(Held* held) {
  std::vector<Completion> completions;
  for (int64_t id : held->ids) {
    Completion c;
    c.id = id;
    c.kind = Completion::Kind::kRelease;
    completions.push_back(std::move(c));
  }
  CompletionReport report;
  Status s = held->store->store().Complete(held->owner_token, completions, &report);
  if (s.ok()) {
    counters_->released += static_cast<int64_t>(report.applied.size());
    if (!held->topics.empty()) {
      std::vector<int64_t> applied = report.applied;
      std::sort(applied.begin(), applied.end());
      for (std::size_t i = 0; i < held->ids.size(); ++i) {
        if (std::binary_search(applied.begin(), applied.end(), held->ids[i])) {
          held->topics[i]->Count(MessageOutcome::kReleased, 1);
        }
      }
    }
  } else {
    ++counters_->store_errors;
    held->store->CountError();
    spdlog::warn("Releasing {} parked messages in store '{}' failed ({}); they are claimed again "
                 "once their lease expires",
                 completions.size(), held->store->id(), s.message());
  }
  leases_->Unregister(held->owner_token);
}

}  // namespace outboxd
