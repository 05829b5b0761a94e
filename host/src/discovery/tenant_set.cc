#include "discovery/tenant_set.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace outboxd {

TenantSet::TenantSet(DiscoverySource* source, StoreFactory factory,
                             TenantSetOptions options)
    : source_(source),
      factory_(std::move(factory)),
      options_(options),
      snapshot_(std::make_shared<const TenantList>()) {}

std::shared_ptr<const TenantList> TenantSet::Snapshot() const {
  MutexLock lock(&snapshot_mu_);
  return snapshot_;
}

void TenantSet::Publish(std::shared_ptr<const TenantList> set) {
  {
    MutexLock lock(&snapshot_mu_);
    snapshot_ = std::move(set);
  }
  if (on_change_) on_change_();
}

Status TenantSet::Refresh() {
  MutexLock lock(&flight_mu_);
  if (in_flight_) {
    const uint64_t generation = flight_generation_;
    ++waiting_;
    flight_cv_.Wait(&flight_mu_,
                    [&]() REQUIRES(flight_mu_) { return flight_generation_ != generation; });
    --waiting_;
    return last_result_;
  }
  in_flight_ = true;
  lock.Unlock();
  Status result = RefreshOnce();
  lock.Lock();
  in_flight_ = false;
  ++flight_generation_;
  last_result_ = result;
  flight_cv_.NotifyAll();
  return result;
}

Status TenantSet::RefreshOnce() {
  ++refreshes_;
  std::shared_ptr<const TenantList> current = Snapshot();
  std::vector<TenantLocation> discovered;
  Status s = source_->Discover(&discovered);
  DiscoveryCounters* const counters = options_.counters;
  if (!s.ok()) {
    if (counters != nullptr) ++counters->errors;
    spdlog::error("Discovery through {} failed: {}; continuing with the current {} outbox databases",
                  source_->Describe(), s.message(), current->size());
    return s;
  }
  if (discovered.empty() && !current->empty() && !options_.allow_empty) {
    spdlog::warn("Discovery through {} returned no databases; keeping the current {} (set "
                 "discovery.allow_empty to accept an empty result)",
                 source_->Describe(), current->size());
    if (counters != nullptr) {
      counters->last_success_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count();
    }
    return Status::OK();
  }

  std::unordered_map<std::string, std::shared_ptr<Tenant>> existing;
  for (const auto& store : *current) existing.emplace(store->id(), store);

  auto next = std::make_shared<TenantList>();
  std::unordered_set<std::string> seen;
  bool changed = false;
  for (const TenantLocation& location : discovered) {
    if (!seen.insert(location.identifier).second) {
      spdlog::warn("Discovery listed outbox database '{}' twice; using the first entry",
                   location.identifier);
      continue;
    }
    auto it = existing.find(location.identifier);
    if (it != existing.end() && it->second->location().SameTarget(location)) {
      next->push_back(it->second);
      continue;
    }
    std::unique_ptr<OutboxStore> store;
    Status open = factory_(location, &store);
    if (!open.ok()) {
      spdlog::error("Cannot open outbox database '{}': {}", location.identifier,
                    RedactConnectionSecrets(open.message(), location.connection_string));
      if (it != existing.end()) next->push_back(it->second);  // keep the old target while the new is bad
      continue;
    }
    if (counters != nullptr) ++(it != existing.end() ? counters->recreated : counters->added);
    if (it != existing.end()) {
      const std::string& before = it->second->location().connection_string;
      spdlog::info("{}", RedactConnectionSecrets(
                             RedactConnectionSecrets(
                                 fmt::format("Outbox database changed: {} ({} -> {}); re-creating "
                                             "its store",
                                             location.identifier, before,
                                             location.connection_string),
                                 before),
                             location.connection_string));
    } else {
      spdlog::info("Discovered new outbox database: {}", location.identifier);
    }
    auto tenant = std::make_shared<Tenant>(location, std::move(store));
    if (options_.ensure_schema_on_discovery) {
      Status schema = tenant->store().EnsureSchema();
      if (!schema.ok()) tenant->RecordFailure(schema, std::chrono::steady_clock::now());
    }
    next->push_back(std::move(tenant));
    changed = true;
  }
  std::vector<std::string> removed;
  for (const auto& store : *current) {
    if (seen.count(store->id()) == 0) removed.push_back(store->id());
  }
  if (changed || !removed.empty()) Publish(std::move(next));
  if (counters != nullptr) {
    counters->removed += static_cast<int64_t>(removed.size());
    counters->last_success_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  }
  // Logged once the new set is live: from here on no worker picks a removed store.
  for (const std::string& id : removed) spdlog::info("Outbox database removed: {}", id);
  spdlog::info("Discovery complete. Managing {} outbox databases", Snapshot()->size());
  return Status::OK();
}

}  // namespace outboxd
