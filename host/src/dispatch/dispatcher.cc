#include "dispatch/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "common/exponential_backoff.h"
#include "dispatch/delivery_decision.h"

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
  std::shared_ptr<Tenant> store;
  // The routing (handler generations) this batch was claimed under; held until it is recorded.
  std::shared_ptr<const HandlerTable> table;
  uint64_t routing_version = 0;
  int parked = 0;  // rows of parked topics
  std::vector<int64_t> parked_ids;  // their ids, in claim order
  std::vector<TopicObserver*> parked_topics;  // parallel to parked_ids (observer only)
  std::vector<int64_t> held_ids;    // those kept claimed in the store's parking lot
  std::string owner_token;
  std::vector<OutboxMessage> messages;
  std::vector<Completion> completions;  // not recorded yet, in claim order
  int decided = 0;  // dispatched + rescheduled + failed
  int worker = 0;   // WorkerState::index
  // messages[0, started) were taken up by Deliver; `abandoned`: ReleaseUnstarted released the rest.
  // Both guarded by Dispatcher::in_flight_mu_.
  std::size_t started = 0;
  bool abandoned = false;
  std::vector<TopicObserver*> topics;  // parallel to messages (observer only)
  std::chrono::steady_clock::duration handler_time{};  // spent inside handler calls
};

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Due time of a claimed row: max(created_at, due_at, next_attempt_at), epoch milliseconds.
int64_t DueAtMs(const OutboxMessage& m) {
  int64_t due = m.created_at_ms;
  if (m.due_at_ms) due = std::max(due, *m.due_at_ms);
  if (m.next_attempt_at_ms) due = std::max(due, *m.next_attempt_at_ms);
  return due;
}

// The warning for a handler call's outcome (nothing for a success).
void LogDecision(const OutboxMessage& m, const std::string& tenant, const DeliveryDecision& d) {
  switch (d.verdict) {
    case DeliveryDecision::Verdict::kRescheduled:
      spdlog::warn("Outbox message {} (topic '{}') in store '{}' attempt {} failed, retrying in {} "
                   "ms: {}",
                   m.message_id, m.topic, tenant, d.attempt, d.completion.delay.count(),
                   d.completion.error);
      return;
    case DeliveryDecision::Verdict::kPoison:
      spdlog::warn("Outbox message {} (topic '{}') in store '{}' failed after {} attempts (poison): "
                   "{}",
                   m.message_id, m.topic, tenant, d.attempt, d.completion.error);
      return;
    case DeliveryDecision::Verdict::kPermanentFailure:
      spdlog::warn("Outbox message {} (topic '{}') in store '{}' failed permanently: {}",
                   m.message_id, m.topic, tenant, d.completion.error);
      return;
    default:
      return;
  }
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Dispatcher::Dispatcher(const RoutingState* routing, LeaseKeeper* leases,
                       DispatchCounters* counters, DispatchOptions options)
    : routing_(routing),
      leases_(leases),
      counters_(counters),
      options_(std::move(options)),
      parking_(Parking::Options{options_.park_lookahead, options_.park_hold, options_.park_retry},
               leases_, counters_),
      watchdog_(options_.handler_timeout, /*report=*/nullptr,
                [this](void* batch) { RecordDecided(static_cast<Batch*>(batch)); }) {}

int Dispatcher::RunOnce(WorkerState* worker, const std::shared_ptr<Tenant>& store_ptr,
                        const std::atomic<bool>& stopping) {
  const auto now = std::chrono::steady_clock::now();
  const uint64_t routing_version = routing_->version();
  worker->claimed = 0;
  worker->failed = false;
  worker->retry_in = std::chrono::milliseconds(-1);
  worker->store_bound = false;
  parking_.Release(routing_version, now);
  if (parking_.Skip(store_ptr->id(), routing_version, now)) return 0;

  Batch batch;
  batch.worker = worker->index;
  batch.store = store_ptr;
  OutboxStore& store = batch.store->store();

  Status s = store.EnsureSchema();
  if (s.ok()) {
    batch.owner_token = NewOwnerToken();
    leases_->Register(batch.owner_token, batch.store);
    const auto claim_start = std::chrono::steady_clock::now();
    s = store.ClaimDue(options_.batch_size, options_.lease, batch.owner_token, &batch.messages);
    if (options_.observer != nullptr) {
      options_.observer->OnClaim(batch.store->id(), SecondsSince(claim_start),
                                 static_cast<int64_t>(batch.messages.size()), s.ok());
    }
  }
  if (!s.ok()) {
    if (!batch.owner_token.empty()) leases_->Unregister(batch.owner_token);
    ++counters_->store_errors;
    batch.store->RecordFailure(s, std::chrono::steady_clock::now());
    worker->failed = true;
    return 0;
  }
  batch.store->RecordSuccess();
  worker->claimed = static_cast<int>(batch.messages.size());
  // The routing live once the claim is done: a message enqueued after a handler was published, and
  // claimed after that, always sees that handler. The version is read first, so it is never newer
  // than the table (a parking lot keyed on it is released, at worst, once too often).
  batch.routing_version = routing_->version();
  batch.table = routing_->Current();
  ClaimPastParked(&batch, stopping);
  if (batch.messages.empty()) {
    leases_->Unregister(batch.owner_token);
    return 0;
  }
  counters_->claimed += static_cast<int64_t>(batch.messages.size());
  LogBatch(batch.store->id(), batch.messages.size());
  {
    MutexLock lock(&in_flight_mu_);
    in_flight_.insert(&batch);
  }
  Deliver(&batch, stopping);
  {
    MutexLock lock(&in_flight_mu_);
    in_flight_.erase(&batch);
  }
  if (batch.parked > 0 && !stopping.load(std::memory_order_relaxed)) HoldParked(&batch);
  if (!batch.completions.empty()) Record(&batch, batch.completions);
  if (batch.held_ids.empty()) leases_->Unregister(batch.owner_token);
  if (batch.decided == 0 && batch.parked > static_cast<int>(batch.held_ids.size())) {
    parking_.Gate(batch.store->id(), batch.routing_version, std::chrono::steady_clock::now());
  }
  // Where the visit's time went (TenantSchedule's concurrency rule for stores that write one at a
  // time): store calls and the dispatcher's own work vs handler calls.
  const auto visit_time = std::chrono::steady_clock::now() - now;
  worker->store_bound = visit_time - batch.handler_time > batch.handler_time;
  for (const Completion& c : batch.completions) {
    if (c.kind != Completion::Kind::kReschedule) continue;
    if (worker->retry_in.count() < 0 || c.delay < worker->retry_in) worker->retry_in = c.delay;
  }
  return batch.decided;
}

void Dispatcher::ReleaseParked() { parking_.ReleaseAll(); }

int Dispatcher::HeldParkedRows() { return parking_.HeldRows(); }

void Dispatcher::HoldParked(Batch* batch) {
  const std::size_t n =
      parking_.Hold(batch->store, batch->owner_token, batch->routing_version, batch->parked_ids,
                    batch->parked_topics, std::chrono::steady_clock::now());
  if (n == 0) return;
  batch->held_ids.assign(batch->parked_ids.begin(), batch->parked_ids.begin() + n);
  std::vector<int64_t> held = batch->held_ids;
  std::sort(held.begin(), held.end());
  auto& cs = batch->completions;
  cs.erase(std::remove_if(cs.begin(), cs.end(),
                          [&held](const Completion& c) {
                            return c.kind == Completion::Kind::kRelease &&
                                   std::binary_search(held.begin(), held.end(), c.id);
                          }),
           cs.end());
}

void Dispatcher::ClaimPastParked(Batch* batch, const std::atomic<bool>& stopping) {
  const HandlerTable& table = *batch->table;
  auto parked_in = [&table](const std::vector<OutboxMessage>& rows, std::size_t from) {
    int n = 0;
    for (std::size_t i = from; i < rows.size(); ++i) {
      if (table.Find(rows[i].topic) == nullptr && table.IsParked(rows[i].topic)) ++n;
    }
    return n;
  };
  const int held = parking_.HeldRows(batch->store->id());
  int parked = parked_in(batch->messages, 0);
  while (parked > 0 && held + parked < options_.park_lookahead &&
         !stopping.load(std::memory_order_relaxed)) {
    const std::size_t before = batch->messages.size();
    if (static_cast<int>(before) - parked >= options_.batch_size) break;  // enough live rows
    Status s = batch->store->store().ClaimDue(options_.batch_size, options_.lease,
                                              batch->owner_token, &batch->messages);
    if (!s.ok()) {
      spdlog::debug("Claiming past parked messages in store '{}' failed: {}", batch->store->id(),
                    s.message());
      break;
    }
    if (batch->messages.size() == before) break;  // nothing more is due
    parked += parked_in(batch->messages, before);
  }
}

void Dispatcher::Deliver(Batch* batch, const std::atomic<bool>& stopping) {
  const HandlerTable* table = batch->table.get();
  const std::string& tenant = batch->store->id();
  DispatchObserver* const observer = options_.observer;
  batch->completions.reserve(batch->messages.size());
  TopicObserver* topic_observer = nullptr;
  // Outcomes decided and not recorded yet (releases excluded) are recorded before the next handler
  // call once the oldest of them is record_window old (see dispatcher.h, step 4).
  std::optional<std::chrono::steady_clock::time_point> pending_since;
  const DeliveryLimits limits{options_.max_attempts, options_.handler_timeout,
                              options_.max_payload_bytes};
  for (const OutboxMessage& m : batch->messages) {
    {
      MutexLock lock(&in_flight_mu_);
      if (batch->abandoned) break;  // released by ReleaseUnstarted
      ++batch->started;
    }
    if (observer != nullptr) {
      // Consecutive rows of one topic share the cached observer.
      if (topic_observer == nullptr || topic_observer->topic() != m.topic) {
        topic_observer = observer->Topic(m.topic);
      }
      batch->topics.push_back(topic_observer);
    }
    Completion c;
    c.id = m.id;
    if (stopping.load(std::memory_order_relaxed)) {
      c.kind = Completion::Kind::kRelease;
      batch->completions.push_back(std::move(c));
      continue;
    }
    std::optional<DeliveryDecision> decided = DecideBeforeDelivery(m, limits);
    if (decided) {
      spdlog::warn("Outbox message {} (topic '{}') in store '{}' failed permanently: {}",
                   m.message_id, m.topic, tenant, decided->completion.error);
    } else if (table->Find(m.topic) == nullptr && table->IsParked(m.topic)) {
      c.kind = Completion::Kind::kRelease;  // unless held (HoldParked): never an attempt counted
      ++batch->parked;
      batch->parked_ids.push_back(m.id);
      ++counters_->parked;
      if (observer != nullptr) {
        batch->parked_topics.push_back(topic_observer);
        topic_observer->Count(MessageOutcome::kParked, 1);
      }
      spdlog::debug("Outbox message {} (topic '{}') in store '{}' parked: no handler loaded",
                    m.message_id, m.topic, tenant);
    } else if (const MessageHandler* handler = table->Find(m.topic); handler == nullptr) {
      decided = DecideWithoutHandler(m);
      spdlog::warn("{} (message {} in store '{}')", decided->completion.error, m.message_id, tenant);
    } else {
      if (pending_since &&
          std::chrono::steady_clock::now() - *pending_since >= options_.record_window) {
        RecordDecided(batch);
        pending_since.reset();
      }
      spdlog::debug("Delivering outbox message {} (topic '{}', attempt {}) from store '{}' to {}",
                    m.message_id, m.topic, int64_t{m.attempts} + 1, tenant, handler->Describe());
      std::chrono::steady_clock::time_point handler_start;
      if (observer != nullptr) {
        observer->ObservePickupDelay(
            static_cast<double>(std::max<int64_t>(0, NowUnixMs() - DueAtMs(m))) / 1000.0);
        observer->HandlerStarted(batch->worker, topic_observer);
        handler_start = std::chrono::steady_clock::now();
      }
      const auto called_at = std::chrono::steady_clock::now();
      const auto deadline = called_at + options_.handler_timeout;
      // Outcomes still unrecorded when they reach record_window are recorded by the watchdog if
      // this call is still running then (a hung call must not hold them back).
      watchdog_.Enter(batch->worker, tenant, m, *handler, deadline,
                      pending_since ? batch : nullptr,
                      pending_since ? *pending_since + options_.record_window
                                    : std::chrono::steady_clock::time_point::max());
      const HandlerOutcome outcome = handler->Handle(m, tenant, deadline);
      const auto returned_at = std::chrono::steady_clock::now();
      batch->handler_time += returned_at - called_at;
      if (watchdog_.Leave(batch->worker)) pending_since.reset();  // they were recorded meanwhile
      if (observer != nullptr) {
        topic_observer->ObserveHandlerSeconds(
            std::chrono::duration<double>(returned_at - handler_start).count());
        observer->HandlerFinished(batch->worker);
      }
      decided =
          DecideAfterDelivery(m, outcome, limits, options_.backoff, returned_at, deadline);
      LogDecision(m, tenant, *decided);
    }
    if (decided) c = std::move(decided->completion);
    if (c.kind != Completion::Kind::kRelease && !pending_since) {
      pending_since = std::chrono::steady_clock::now();
    }
    batch->completions.push_back(std::move(c));
  }
}

int Dispatcher::ReleaseUnstarted() {
  struct Unstarted {
    std::shared_ptr<Tenant> store;
    std::string owner_token;
    std::vector<Completion> releases;
  };
  std::vector<Unstarted> work;
  {
    MutexLock lock(&in_flight_mu_);
    for (Batch* batch : in_flight_) {
      batch->abandoned = true;
      Unstarted u{batch->store, batch->owner_token, {}};
      for (std::size_t i = batch->started; i < batch->messages.size(); ++i) {
        Completion c;
        c.id = batch->messages[i].id;
        c.kind = Completion::Kind::kRelease;
        u.releases.push_back(std::move(c));
      }
      if (!u.releases.empty()) work.push_back(std::move(u));
    }
  }
  int released = 0;
  for (const Unstarted& u : work) {
    CompletionReport report;
    Status s = u.store->store().Complete(u.owner_token, u.releases, &report);
    if (!s.ok()) {
      ++counters_->store_errors;
      spdlog::warn("Releasing {} claimed messages not yet started in store '{}' failed ({}); they "
                   "are claimed again once their lease expires",
                   u.releases.size(), u.store->id(), s.message());
      continue;
    }
    counters_->released += static_cast<int64_t>(report.applied.size());
    released += static_cast<int>(report.applied.size());
  }
  return released;
}

void Dispatcher::RecordDecided(Batch* batch) {
  std::vector<Completion> decided;
  std::vector<Completion> releases;  // parked rows may still be held (HoldParked): kept for later
  for (Completion& c : batch->completions) {
    (c.kind == Completion::Kind::kRelease ? releases : decided).push_back(std::move(c));
  }
  batch->completions = std::move(releases);
  if (!decided.empty()) Record(batch, decided);
}

void Dispatcher::Record(Batch* batch, const std::vector<Completion>& completions) {
  CompletionReport report;
  Status s;
  // Tries at least record_retries times, and beyond that for as long as the lease surely holds
  // (nobody can take the rows over before it lapses): an outage shorter than the lease then costs
  // no redelivery. The delay doubles up to a tenth of the lease (at most 1 s), so the outcome is
  // recorded soon after the server is back.
  auto delay = options_.record_retry_delay;
  const auto max_delay = std::max(std::chrono::milliseconds(1),
                                  std::min(std::chrono::milliseconds(1000), options_.lease / 10));
  for (int tries = 0;; ++tries) {
    report = CompletionReport{};
    s = batch->store->store().Complete(batch->owner_token, completions, &report);
    if (s.ok()) break;
    if (tries + 1 >= options_.record_retries) {
      const auto held_until = leases_->HeldUntil(batch->owner_token);
      if (!held_until ||
          std::chrono::steady_clock::now() + delay + options_.lease / 10 >= *held_until) {
        break;
      }
    }
    ++counters_->store_errors;
    batch->store->CountError();
    spdlog::warn("Recording {} outcomes in store '{}' failed ({}); retrying in {} ms",
                 completions.size(), batch->store->id(), s.message(), delay.count());
    std::this_thread::sleep_for(delay);
    delay = NextExponentialDelay(delay, options_.record_retry_delay, max_delay);
  }
  if (!s.ok()) {
    ++counters_->store_errors;
    counters_->unrecorded += static_cast<int64_t>(completions.size());
    batch->store->RecordFailure(s, std::chrono::steady_clock::now());
    spdlog::error("Could not record the outcomes of {} messages in store '{}': {}; they will be "
                  "delivered again after their lease expires",
                  completions.size(), batch->store->id(), s.message());
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
  if (!batch->topics.empty()) CountOutcomes(*batch, completions, applied, report.lease_lost);
  for (const Completion& c : completions) {
    if (!std::binary_search(applied.begin(), applied.end(), c.id)) continue;
    switch (c.kind) {
      case Completion::Kind::kDispatched: ++counters_->dispatched; ++batch->decided; break;
      case Completion::Kind::kReschedule: ++counters_->rescheduled; ++batch->decided; break;
      case Completion::Kind::kFail: ++counters_->failed; ++batch->decided; break;
      case Completion::Kind::kRelease: ++counters_->released; break;
    }
  }
}

void Dispatcher::CountOutcomes(const Batch& batch, const std::vector<Completion>& completions,
                               const std::vector<int64_t>& applied_sorted,
                               std::vector<int64_t> lease_lost) {
  std::sort(lease_lost.begin(), lease_lost.end());
  // Completions keep the claim order of batch.messages (some rows dropped): one forward walk.
  std::size_t j = 0;
  for (const Completion& c : completions) {
    while (j < batch.messages.size() && batch.messages[j].id != c.id) ++j;
    if (j == batch.messages.size()) break;
    TopicObserver* topic = batch.topics[j];
    if (std::binary_search(lease_lost.begin(), lease_lost.end(), c.id)) {
      topic->Count(MessageOutcome::kLeaseLost, 1);
      continue;
    }
    if (!std::binary_search(applied_sorted.begin(), applied_sorted.end(), c.id)) continue;
    switch (c.kind) {
      case Completion::Kind::kDispatched: topic->Count(MessageOutcome::kDone, 1); break;
      case Completion::Kind::kReschedule: topic->Count(MessageOutcome::kRetried, 1); break;
      case Completion::Kind::kFail: topic->Count(MessageOutcome::kFailed, 1); break;
      case Completion::Kind::kRelease: topic->Count(MessageOutcome::kReleased, 1); break;
    }
  }
}

void Dispatcher::LogBatch(const std::string& store_id, std::size_t rows) {
  // The seed's line. At info level it is written at most once per store per
  // kBatchLogInterval (with the batches and rows since); every batch is logged at debug.
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("Processing {} outbox messages from store '{}'", rows, store_id);
    return;
  }
  if (!spdlog::should_log(spdlog::level::info)) return;
  const auto now = std::chrono::steady_clock::now();
  int64_t batches = 0;
  int64_t total = 0;
  {
    std::lock_guard<std::mutex> lock(batch_log_mu_);
    BatchLog& log = batch_log_[store_id];
    ++log.batches;
    log.rows += static_cast<int64_t>(rows);
    if (log.last != std::chrono::steady_clock::time_point{} && now - log.last < kBatchLogInterval) {
      return;
    }
    batches = log.batches;
    total = log.rows;
    log = BatchLog{};
    log.last = now;
  }
  if (batches == 1) {
    spdlog::info("Processing {} outbox messages from store '{}'", rows, store_id);
  } else {
    spdlog::info("Processing {} outbox messages from store '{}' ({} batches, {} messages since "
                 "the last such line)",
                 rows, store_id, batches, total);
  }
}

}  // namespace outboxd
