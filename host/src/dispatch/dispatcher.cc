#include "dispatch/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "dispatch/failure_text.h"

namespace outboxd {

std::string NewOwnerToken() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<uint64_t>(std::random_device{}()) << 32)};
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return std::string(buf, 32);
}

struct Dispatcher::Batch {
  std::shared_ptr<TenantStore> store;
  std::string owner_token;
  std::vector<OutboxMessage> messages;
  std::vector<Completion> completions;
  int decided = 0;  // dispatched + rescheduled + failed
};

Dispatcher::Dispatcher(const StoreProvider* provider, const RoutingState* routing,
                       SelectionStrategy* strategy, LeaseKeeper* leases,
                       DispatchCounters* counters, DispatchOptions options)
    : provider_(provider),
      routing_(routing),
      strategy_(strategy),
      leases_(leases),
      counters_(counters),
      options_(std::move(options)) {}

int Dispatcher::RunOnce(WorkerState* worker, const std::atomic<bool>& stopping) {
  const auto now = std::chrono::steady_clock::now();
  std::shared_ptr<const StoreSet> snapshot = provider_->Snapshot();
  std::vector<std::string> ids;
  std::vector<const std::shared_ptr<TenantStore>*> candidates;
  ids.reserve(snapshot->size());
  candidates.reserve(snapshot->size());
  for (const auto& store : *snapshot) {
    if (!store->Available(now)) continue;
    ids.push_back(store->id());
    candidates.push_back(&store);
  }
  std::optional<std::size_t> pick = strategy_->SelectNext(ids, worker->last_store, worker->last_count);
  if (!pick) return 0;

  Batch batch;
  batch.store = *candidates[*pick];
  worker->last_store = batch.store->id();
  worker->last_count = 0;
  OutboxStore& store = batch.store->store();

  Status s = store.EnsureSchema();
  if (s.ok()) {
    batch.owner_token = NewOwnerToken();
    leases_->Register(batch.owner_token, batch.store);
    s = store.ClaimDue(options_.batch_size, options_.lease, batch.owner_token, &batch.messages);
  }
  if (!s.ok()) {
    if (!batch.owner_token.empty()) leases_->Unregister(batch.owner_token);
    ++counters_->store_errors;
    batch.store->RecordFailure(s, std::chrono::steady_clock::now());
    return 0;
  }
  batch.store->RecordSuccess();
  if (batch.messages.empty()) {
    leases_->Unregister(batch.owner_token);
    return 0;
  }
  counters_->claimed += static_cast<int64_t>(batch.messages.size());
  spdlog::info("Processing {} outbox messages from store '{}'", batch.messages.size(),
               batch.store->id());
  Deliver(&batch, stopping);
  Record(&batch);
  leases_->Unregister(batch.owner_token);
  worker->last_count = batch.decided;
  return batch.decided;
}

void Dispatcher::Deliver(Batch* batch, const std::atomic<bool>& stopping) {
  const std::shared_ptr<const HandlerTable> table = routing_->Current();
  const std::string& tenant = batch->store->id();
  batch->completions.reserve(batch->messages.size());
  for (const OutboxMessage& m : batch->messages) {
    Completion c;
    c.id = m.id;
    if (stopping.load(std::memory_order_relaxed)) {
      c.kind = Completion::Kind::kRelease;
      batch->completions.push_back(std::move(c));
      continue;
    }
    const int attempt = m.attempts + 1;
    if (m.attempts >= options_.max_attempts) {
      c.kind = Completion::Kind::kFail;
      c.error = BoundFailureText("Gave up after " + std::to_string(m.attempts) +
                                 " attempts; last error: " + m.last_error.value_or("none"));
      spdlog::warn("Outbox message {} (topic '{}') in store '{}' failed permanently: {}",
                   m.message_id, m.topic, tenant, c.error);
    } else if (const MessageHandler* handler = table->Find(m.topic); handler == nullptr) {
      c.kind = Completion::Kind::kFail;
      c.error = "No handler registered for topic '" + m.topic + "'";
      spdlog::warn("{} (message {} in store '{}')", c.error, m.message_id, tenant);
    } else {
      spdlog::debug("Delivering outbox message {} (topic '{}', attempt {}) from store '{}' to {}",
                    m.message_id, m.topic, attempt, tenant, handler->Describe());
      Delivery d = handler->Handle(m, tenant);
      switch (d.outcome) {
        case Delivery::Outcome::kOk:
          c.kind = Completion::Kind::kDispatched;
          break;
        case Delivery::Outcome::kPermanentFailure:
          c.kind = Completion::Kind::kFail;
          c.error = BoundFailureText(d.error);
          spdlog::warn("Outbox message {} (topic '{}') in store '{}' failed permanently: {}",
                       m.message_id, m.topic, tenant, c.error);
          break;
        case Delivery::Outcome::kRetry:
          c.error = BoundFailureText(d.error);
          if (attempt >= options_.max_attempts) {
            c.kind = Completion::Kind::kFail;
            spdlog::warn("Outbox message {} (topic '{}') in store '{}' failed after {} attempts "
                         "(poison): {}", m.message_id, m.topic, tenant, attempt, c.error);
          } else {
            c.kind = Completion::Kind::kReschedule;
            c.delay = d.retry_after.count() > 0 ? d.retry_after : options_.backoff(attempt);
            spdlog::warn("Outbox message {} (topic '{}') in store '{}' attempt {} failed, retrying "
                         "in {} ms: {}", m.message_id, m.topic, tenant, attempt, c.delay.count(),
                         c.error);
          }
          break;
      }
    }
    batch->completions.push_back(std::move(c));
  }
}

void Dispatcher::Record(Batch* batch) {
  CompletionReport report;
  Status s;
  auto delay = options_.record_retry_delay;
  for (int tries = 0;; ++tries) {
    report = CompletionReport{};
    s = batch->store->store().Complete(batch->owner_token, batch->completions, &report);
    if (s.ok() || tries + 1 >= options_.record_retries) break;
    ++counters_->store_errors;
    spdlog::warn("Recording {} outcomes in store '{}' failed ({}); retrying in {} ms",
                 batch->completions.size(), batch->store->id(), s.message(), delay.count());
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, options_.lease / 3);
  }
  if (!s.ok()) {
    ++counters_->store_errors;
    counters_->unrecorded += static_cast<int64_t>(batch->completions.size());
    batch->store->RecordFailure(s, std::chrono::steady_clock::now());
    spdlog::error("Could not record the outcomes of {} messages in store '{}': {}; they will be "
                  "delivered again after their lease expires",
                  batch->completions.size(), batch->store->id(), s.message());
    return;
  }
  if (!report.lease_lost.empty()) {
    counters_->lease_lost += static_cast<int64_t>(report.lease_lost.size());
    spdlog::warn("{} outcomes in store '{}' were not applied: the lease had been lost (the rows "
                 "were taken over or completed elsewhere)",
                 report.lease_lost.size(), batch->store->id());
  }
  std::vector<int64_t> applied = report.applied;
  std::sort(applied.begin(), applied.end());
  for (const Completion& c : batch->completions) {
    if (!std::binary_search(applied.begin(), applied.end(), c.id)) continue;
    switch (c.kind) {
      case Completion::Kind::kDispatched: ++counters_->dispatched; ++batch->decided; break;
      case Completion::Kind::kReschedule: ++counters_->rescheduled; ++batch->decided; break;
      case Completion::Kind::kFail: ++counters_->failed; ++batch->decided; break;
      case Completion::Kind::kRelease: ++counters_->released; break;
    }
  }
}

}  // namespace outboxd
