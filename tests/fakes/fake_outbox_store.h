// FakeOutboxStore: an in-memory OutboxStore with the real store's semantics (claim of ready and
// expired rows, owner-token fencing, attempts, terminal states), a settable clock, and fault
// injection: FailNext(op, status) makes the next call(s) of one operation fail.
// THREADING: thread-safe (one mutex; there is no database call to hold it across).
#ifndef OUTBOXD_TESTS_FAKES_FAKE_OUTBOX_STORE_H_
#define OUTBOXD_TESTS_FAKES_FAKE_OUTBOX_STORE_H_

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/outbox_store.h"

namespace outboxd::testing {

class FakeOutboxStore : public OutboxStore {
 public:
  struct Row {
    OutboxMessage message;
    MessageStatus status = MessageStatus::kReady;
    int64_t next_attempt_at_ms = 0;
    int64_t locked_until_ms = 0;
    std::string owner_token;
    std::string processed_by;
    int64_t processed_at_ms = 0;  // set when done or failed
    int32_t replay_count = 0;
    std::optional<int64_t> replayed_at_ms;
  };
  enum class Op { kEnsureSchema, kClaim, kComplete, kRenew, kBacklog };

  explicit FakeOutboxStore(std::string identifier);

  // Inserts a ready row; returns its id.
  int64_t Add(const std::string& topic, const std::string& payload = "{}", int32_t attempts = 0);
  Row Get(int64_t id) const;
  std::vector<Row> Rows() const;

  void AdvanceClock(std::chrono::milliseconds d) { now_ms_ += d.count(); }
  // Gives row `id` to another owner (as if its lease expired and another process claimed it).
  void SetOwnerForTest(int64_t id, const std::string& owner) {
    std::lock_guard<std::mutex> lock(mu_);
    rows_.at(id).owner_token = owner;
  }
  int64_t now_ms() const { return now_ms_.load(); }
  void FailNext(Op op, Status status, int times = 1);
  int calls(Op op) const;

  const TenantLocation& location() const override { return location_; }
  Status EnsureSchema() override;
  Status ClaimDue(int limit, std::chrono::milliseconds lease, const std::string& owner_token,
                  std::vector<OutboxMessage>* out) override;
  Status Complete(const std::string& owner_token, const std::vector<Completion>& completions,
                  CompletionReport* report) override;
  Status RenewLease(const std::string& owner_token, std::chrono::milliseconds lease,
                    int64_t* renewed) override;
  Status Enqueue(const NewMessage& message, std::string* message_id) override;
  Status GetStats(StoreStats* stats) override;
  Status CountReadyByTopic(std::map<std::string, int64_t>* counts) override;
  Status HasPendingWork(bool* pending) override;
  Status GetBacklog(StoreBacklog* backlog) override;
  Status Cleanup(std::chrono::milliseconds retention, int64_t* deleted) override;
  Status ListFailed(const FailedQuery& query, std::vector<FailedMessage>* out) override;
  Status FindByMessageId(const std::string& message_id, std::vector<StoredMessage>* out) override;
  Status ReplayFailed(const ReplaySelection& selection, bool dry_run, int64_t* count) override;
  Status PurgeFailed(const PurgeSelection& selection, bool dry_run, int64_t* count) override;
  Status GetSchemaStatus(SchemaStatus* status) override;
  // As SQLite: one write at a time (set before the store is shared).
  bool serializes_writes() const override { return serializes_writes_; }
  void set_serializes_writes(bool serializes) { serializes_writes_ = serializes; }

 private:
  Status Injected(Op op);  // REQUIRES: mu_ held

  TenantLocation location_;
  mutable std::mutex mu_;
  std::map<int64_t, Row> rows_;
  int64_t next_id_ = 1;
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
  std::map<Op, std::pair<Status, int>> faults_;
  bool serializes_writes_ = false;
  std::map<Op, int> calls_;
};

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_FAKES_FAKE_OUTBOX_STORE_H_
