#include "fakes/fake_outbox_store.h"

#include <algorithm>
#include <iterator>
#include <tuple>

namespace outboxd::testing {

FakeOutboxStore::FakeOutboxStore(std::string identifier) {
  location_.identifier = std::move(identifier);
  location_.connection_string = "fake:" + location_.identifier;
}

int64_t FakeOutboxStore::Add(const std::string& topic, const std::string& payload,
                             int32_t attempts) {
  std::lock_guard<std::mutex> lock(mu_);
  Row row;
  row.message.id = next_id_++;
  row.message.message_id = "m-" + std::to_string(row.message.id);
  row.message.topic = topic;
  row.message.payload = payload;
  row.message.created_at_ms = now_ms_ + row.message.id;  // strictly increasing
  row.message.attempts = attempts;
  rows_[row.message.id] = row;
  return row.message.id;
}

FakeOutboxStore::Row FakeOutboxStore::Get(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_.at(id);
}

std::vector<FakeOutboxStore::Row> FakeOutboxStore::Rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Row> out;
  for (const auto& [id, row] : rows_) out.push_back(row);
  return out;
}

void FakeOutboxStore::FailNext(Op op, Status status, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_[op] = {std::move(status), times};
}

int FakeOutboxStore::calls(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

Status FakeOutboxStore::Injected(Op op) {
  ++calls_[op];
  auto it = faults_.find(op);
  if (it == faults_.end() || it->second.second <= 0) return Status::OK();
  --it->second.second;
  return it->second.first;
}

Status FakeOutboxStore::EnsureSchema() {
  std::lock_guard<std::mutex> lock(mu_);
  return Injected(Op::kEnsureSchema);
}

Status FakeOutboxStore::ClaimDue(int limit, std::chrono::milliseconds lease,
                                 const std::string& owner_token, std::vector<OutboxMessage>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  OBX_RETURN_IF_ERROR(Injected(Op::kClaim));
  if (limit <= 0 || lease.count() <= 0 || owner_token.empty()) {
    return Status::InvalidArgument("bad claim arguments");
  }
  const int64_t now = now_ms_;
  // Poison isolation, as the real claim: an expired row that is the oldest claimable one is
  // claimed alone; otherwise only ready rows are claimed.
  bool first = true;
  for (auto& [id, row] : rows_) {
    if (limit == 0) break;
    const bool ready = row.status == MessageStatus::kReady && row.next_attempt_at_ms <= now;
    const bool expired = row.status == MessageStatus::kInProgress && row.locked_until_ms <= now;
    if (!ready && !expired) continue;
    if (expired && !first) continue;
    if (expired) {
      if (row.message.attempts < INT32_MAX) ++row.message.attempts;
      row.message.last_error = "lease expired";
      limit = 1;
    }
    first = false;
    row.status = MessageStatus::kInProgress;
    row.owner_token = owner_token;
    row.locked_until_ms = now + lease.count();
    out->push_back(row.message);
    --limit;
  }
  return Status::OK();
}

Status FakeOutboxStore::Complete(const std::string& owner_token,
                                 const std::vector<Completion>& completions,
                                 CompletionReport* report) {
  std::lock_guard<std::mutex> lock(mu_);
  OBX_RETURN_IF_ERROR(Injected(Op::kComplete));
  for (const Completion& c : completions) {
    auto it = rows_.find(c.id);
    if (it == rows_.end() || it->second.status != MessageStatus::kInProgress ||
        it->second.owner_token != owner_token) {
      report->lease_lost.push_back(c.id);
      continue;
    }
    Row& row = it->second;
    row.owner_token.clear();
    row.locked_until_ms = 0;
    switch (c.kind) {
      case Completion::Kind::kDispatched:
        row.status = MessageStatus::kDone;
        row.processed_by = "fake";
        row.processed_at_ms = now_ms_;
        row.message.last_error.reset();  // docs/store.md: a done row carries no last_error
        break;
      case Completion::Kind::kReschedule:
        row.status = MessageStatus::kReady;
        ++row.message.attempts;
        row.next_attempt_at_ms = now_ms_ + c.delay.count();
        row.message.next_attempt_at_ms = row.next_attempt_at_ms;
        row.message.last_error = c.error;
        break;
      case Completion::Kind::kFail:
        row.status = MessageStatus::kFailed;
        if (c.count_attempt) ++row.message.attempts;
        row.message.last_error = c.error;
        row.processed_by = "fake:FAILED";
        row.processed_at_ms = now_ms_;
        break;
      case Completion::Kind::kRelease:
        row.status = MessageStatus::kReady;
        break;
    }
    report->applied.push_back(c.id);
  }
  return Status::OK();
}

Status FakeOutboxStore::RenewLease(const std::string& owner_token, std::chrono::milliseconds lease,
                                   int64_t* renewed) {
  std::lock_guard<std::mutex> lock(mu_);
  OBX_RETURN_IF_ERROR(Injected(Op::kRenew));
  *renewed = 0;
  for (auto& [id, row] : rows_) {
    if (row.status == MessageStatus::kInProgress && row.owner_token == owner_token) {
      row.locked_until_ms = now_ms_ + lease.count();
      ++*renewed;
    }
  }
  return Status::OK();
}

Status FakeOutboxStore::Enqueue(const NewMessage& message, std::string* message_id) {
  const int64_t id = Add(message.topic, message.payload);
  *message_id = "m-" + std::to_string(id);
  return Status::OK();
}

Status FakeOutboxStore::CountReadyByTopic(std::map<std::string, int64_t>* counts) {
  std::lock_guard<std::mutex> lock(mu_);
  counts->clear();
  for (const auto& [id, row] : rows_) {
    if (row.status == MessageStatus::kReady) ++(*counts)[row.message.topic];
  }
  return Status::OK();
}

Status FakeOutboxStore::GetStats(StoreStats* stats) {
  std::lock_guard<std::mutex> lock(mu_);
  *stats = StoreStats{};
  for (const auto& [id, row] : rows_) {
    switch (row.status) {
      case MessageStatus::kReady:
        ++stats->ready;
        if (!stats->oldest_ready_age_ms ||
            now_ms_ - row.message.created_at_ms > *stats->oldest_ready_age_ms) {
          stats->oldest_ready_age_ms = std::max<int64_t>(0, now_ms_ - row.message.created_at_ms);
        }
        break;
      case MessageStatus::kInProgress: ++stats->in_progress; break;
      case MessageStatus::kDone: ++stats->done; break;
      case MessageStatus::kFailed: ++stats->failed; break;
    }
  }
  return Status::OK();
}

Status FakeOutboxStore::HasPendingWork(bool* pending) {
  std::lock_guard<std::mutex> lock(mu_);
  *pending = std::any_of(rows_.begin(), rows_.end(), [&](const auto& kv) {
    const Row& r = kv.second;
    return r.status == MessageStatus::kInProgress ||
           (r.status == MessageStatus::kReady && r.next_attempt_at_ms <= now_ms_);
  });
  return Status::OK();
}

Status FakeOutboxStore::GetBacklog(StoreBacklog* backlog) {
  std::lock_guard<std::mutex> lock(mu_);
  OBX_RETURN_IF_ERROR(Injected(Op::kBacklog));
  *backlog = StoreBacklog{};
  const int64_t now = now_ms_;
  std::optional<int64_t> oldest_due;
  for (const auto& [id, row] : rows_) {
    if (row.status == MessageStatus::kInProgress) ++backlog->in_progress;
    if (row.status == MessageStatus::kFailed) ++backlog->failed;
    if (row.status != MessageStatus::kReady || row.next_attempt_at_ms > now) continue;
    ++backlog->ready_due;
    const int64_t due = std::max(row.message.created_at_ms, row.next_attempt_at_ms);
    oldest_due = oldest_due ? std::min(*oldest_due, due) : due;
  }
  if (oldest_due) backlog->oldest_ready_age_ms = std::max<int64_t>(0, now - *oldest_due);
  return Status::OK();
}

Status FakeOutboxStore::Cleanup(std::chrono::milliseconds /*retention*/, int64_t* deleted) {
  *deleted = 0;
  return Status::OK();
}

namespace {

Status CheckReplaySelection(const ReplaySelection& selection) {
  const int selectors = (selection.message_ids.empty() ? 0 : 1) + (selection.topic ? 1 : 0) +
                        (selection.all ? 1 : 0);
  if (selectors != 1) {
    return Status::InvalidArgument(
        "replay needs exactly one of: message ids, a topic, or all failed rows");
  }
  return Status::OK();
}

}  // namespace

Status FakeOutboxStore::ListFailed(const FailedQuery& query, std::vector<FailedMessage>* out) {
  if (query.limit < 1 || query.limit > 100000) {
    return Status::InvalidArgument("limit must be in 1..100000, got " +
                                   std::to_string(query.limit));
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Row*> matching;
  for (const auto& [id, row] : rows_) {
    if (row.status != MessageStatus::kFailed) continue;
    if (query.topic && row.message.topic != *query.topic) continue;
    if (query.failed_within && row.processed_at_ms < now_ms_ - query.failed_within->count()) {
      continue;
    }
    matching.push_back(&row);
  }
  std::sort(matching.begin(), matching.end(), [](const Row* a, const Row* b) {
    return std::tie(a->processed_at_ms, a->message.id) > std::tie(b->processed_at_ms, b->message.id);
  });
  if (matching.size() > static_cast<size_t>(query.limit)) matching.resize(query.limit);
  for (const Row* row : matching) {
    FailedMessage m;
    m.id = row->message.id;
    m.message_id = row->message.message_id;
    m.topic = row->message.topic;
    m.attempts = row->message.attempts;
    m.processed_at_ms = row->processed_at_ms;
    m.last_error = row->message.last_error;
    m.created_at_ms = row->message.created_at_ms;
    out->push_back(std::move(m));
  }
  return Status::OK();
}

Status FakeOutboxStore::FindByMessageId(const std::string& message_id,
                                        std::vector<StoredMessage>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, row] : rows_) {
    if (row.message.message_id != message_id) continue;
    StoredMessage m;
    m.id = row.message.id;
    m.message_id = row.message.message_id;
    m.topic = row.message.topic;
    m.payload = row.message.payload;
    m.correlation_id = row.message.correlation_id;
    m.created_at_ms = row.message.created_at_ms;
    m.due_at_ms = row.message.due_at_ms;
    m.status = row.status;
    m.attempts = row.message.attempts;
    if (row.next_attempt_at_ms != 0) m.next_attempt_at_ms = row.next_attempt_at_ms;
    if (row.status == MessageStatus::kInProgress) {
      m.locked_until_ms = row.locked_until_ms;
      m.owner_token = row.owner_token;
    }
    if (row.status == MessageStatus::kDone || row.status == MessageStatus::kFailed) {
      m.processed_at_ms = row.processed_at_ms;
      m.processed_by = row.processed_by;
    }
    m.last_error = row.message.last_error;
    m.replay_count = row.replay_count;
    m.replayed_at_ms = row.replayed_at_ms;
    out->push_back(std::move(m));
  }
  return Status::OK();
}

Status FakeOutboxStore::ReplayFailed(const ReplaySelection& selection, bool dry_run,
                                     int64_t* count) {
  OBX_RETURN_IF_ERROR(CheckReplaySelection(selection));
  std::lock_guard<std::mutex> lock(mu_);
  *count = 0;
  for (auto& [id, row] : rows_) {
    if (row.status != MessageStatus::kFailed) continue;
    if (selection.topic && row.message.topic != *selection.topic) continue;
    if (!selection.message_ids.empty() &&
        std::find(selection.message_ids.begin(), selection.message_ids.end(),
                  row.message.message_id) == selection.message_ids.end()) {
      continue;
    }
    ++*count;
    if (dry_run) continue;
    row.status = MessageStatus::kReady;
    row.message.attempts = 0;
    row.next_attempt_at_ms = 0;
    row.locked_until_ms = 0;
    row.owner_token.clear();
    row.processed_at_ms = 0;
    row.processed_by.clear();
    ++row.replay_count;
    row.replayed_at_ms = now_ms_.load();
  }
  return Status::OK();
}

Status FakeOutboxStore::PurgeFailed(const PurgeSelection& selection, bool dry_run,
                                    int64_t* count) {
  if (selection.batch_size < 1 || selection.batch_size > 100000) {
    return Status::InvalidArgument("batch size must be in 1..100000, got " +
                                   std::to_string(selection.batch_size));
  }
  if (selection.older_than && selection.older_than->count() < 0) {
    return Status::InvalidArgument("older_than must not be negative");
  }
  std::lock_guard<std::mutex> lock(mu_);
  *count = 0;
  for (auto it = rows_.begin(); it != rows_.end();) {
    const Row& row = it->second;
    const bool match =
        row.status == MessageStatus::kFailed &&
        (!selection.topic || row.message.topic == *selection.topic) &&
        (!selection.older_than || row.processed_at_ms < now_ms_ - selection.older_than->count());
    if (!match) {
      ++it;
      continue;
    }
    ++*count;
    it = dry_run ? std::next(it) : rows_.erase(it);
  }
  return Status::OK();
}

Status FakeOutboxStore::GetSchemaStatus(SchemaStatus* status) {
  status->current_version = kOutboxSchemaVersion;
  status->binary_version = kOutboxSchemaVersion;
  return Status::OK();
}

}  // namespace outboxd::testing
