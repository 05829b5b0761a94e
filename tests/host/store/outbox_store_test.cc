// Store semantics on a fresh tenant of each engine (a SQLite file; a PostgreSQL schema): the
// reference acceptance scenarios that apply to a store (numbers in the test comments refer to
// outbox-semantics.md "Acceptance scenarios"). Engine-only behaviour is in sqlite_*_test.cc and
// postgres_*_test.cc.
#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/sql/sql_outbox_store.h"
#include "store_test_backend.h"

namespace outboxd::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kLongLease = seconds(30);

class OutboxStoreTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = NewDb();
    store_ = db_->Open();
    ASSERT_NE(store_, nullptr);
  }

  std::vector<OutboxMessage> Claim(int limit, const std::string& owner = "owner-A",
                                   milliseconds lease = kLongLease, OutboxStore* store = nullptr) {
    std::vector<OutboxMessage> out;
    Status status = (store != nullptr ? store : store_.get())->ClaimDue(limit, lease, owner, &out);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return out;
  }

  CompletionReport Complete(const std::string& owner, const std::vector<Completion>& completions) {
    CompletionReport report;
    Status status = store_->Complete(owner, completions, &report);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return report;
  }

  int64_t EnqueueOne(const std::string& topic = "Test.Topic",
                     const std::string& payload = "test payload") {
    NewMessage message;
    message.topic = topic;
    message.payload = payload;
    std::string message_id;
    Status status = store_->Enqueue(message, &message_id);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return db_->QueryInt("SELECT MAX(id) FROM " + db_->Table());
  }

  std::unique_ptr<StoreTestDb> db_;
  std::unique_ptr<OutboxStore> store_;  // destroyed before db_
};

OBX_INSTANTIATE_FOR_ENGINES(OutboxStoreTest);

// 1
TEST_P(OutboxStoreTest, ClaimOnEmptyOutboxReturnsNothing) {
  EXPECT_TRUE(Claim(10).empty());
}

// 2
TEST_P(OutboxStoreTest, ClaimReturnsTheEnqueuedMessageWhole) {
  NewMessage message;
  message.topic = "Test.Topic";
  message.payload = "test payload";
  message.correlation_id = "corr-1";
  std::string message_id;
  ASSERT_TRUE(store_->Enqueue(message, &message_id).ok());

  std::vector<OutboxMessage> claimed = Claim(10);
  ASSERT_EQ(claimed.size(), 1u);
  const OutboxMessage& m = claimed[0];
  EXPECT_EQ(m.topic, "Test.Topic");
  EXPECT_EQ(m.payload, "test payload");
  EXPECT_EQ(m.message_id, message_id);
  EXPECT_EQ(m.correlation_id, std::optional<std::string>("corr-1"));
  EXPECT_EQ(m.attempts, 0);
  EXPECT_FALSE(m.due_at_ms.has_value());
  EXPECT_FALSE(m.last_error.has_value());
  EXPECT_GT(m.created_at_ms, 0);

  StoredRow row = db_->Row(m.id);
  EXPECT_EQ(row.status, 1);
  EXPECT_EQ(row.attempts, 0);
  EXPECT_FALSE(row.processed_at.has_value());  // not processed
}

// 3
TEST_P(OutboxStoreTest, MessageDueInTheFutureIsNotClaimed) {
  NewMessage message;
  message.topic = "Test.Topic";
  message.payload = "later";
  message.delay = std::chrono::minutes(10);
  std::string message_id;
  int64_t before = db_->DbNow();
  ASSERT_TRUE(store_->Enqueue(message, &message_id).ok());
  int64_t after = db_->DbNow();

  EXPECT_TRUE(Claim(10).empty());
  StoredRow row = db_->Row(db_->QueryInt("SELECT MAX(id) FROM " + db_->Table()));
  ASSERT_TRUE(row.due_at.has_value());
  EXPECT_GE(*row.due_at, before + 600000);
  EXPECT_LE(*row.due_at, after + 600000);
}

// 4: The database clock cannot be frozen, so the boundary is observed from both sides: not claimable
// before due_at, claimable once the database clock has reached it; a row whose due_at is the
// database's now at insert time is claimable at once.
TEST_P(OutboxStoreTest, MessageBecomesClaimableWhenDbClockReachesDueAt) {
  int64_t id = db_->InsertRow("topic, payload, due_at", "'t', 'p', " + db_->NowPlus(500));
  int64_t due_at = *db_->Row(id).due_at;
  ASSERT_TRUE(Claim(1).empty());

  std::vector<OutboxMessage> claimed;
  ASSERT_TRUE(WaitFor([&] {
    claimed = Claim(1);
    return !claimed.empty();
  }));
  EXPECT_EQ(claimed[0].id, id);
  EXPECT_GE(db_->DbNow(), due_at);

  int64_t due_now = db_->InsertRow("topic, payload, due_at", "'t', 'p', " + db_->NowPlus(0));
  claimed = Claim(1);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, due_now);
}

// 5
TEST_P(OutboxStoreTest, PastDueAtAndCorrelationIdRoundTrip) {
  int64_t due_at = db_->DbNow() - 60000;
  int64_t id = db_->InsertRow("topic, payload, due_at, correlation_id",
                             "'t', 'p', " + db_->Time(due_at) + ", 'corr-42'");
  std::vector<OutboxMessage> claimed = Claim(10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
  EXPECT_EQ(claimed[0].due_at_ms, std::optional<int64_t>(due_at));
  EXPECT_EQ(claimed[0].correlation_id, std::optional<std::string>("corr-42"));
}

// 6
TEST_P(OutboxStoreTest, ClaimTakesOldestCreatedAtFirstUpToTheLimit) {
  std::vector<int64_t> ids;
  for (int created_at : {1000, 5000, 2000, 4000, 3000}) {
    ids.push_back(
        db_->InsertRow("topic, payload, created_at", "'t', 'p', " + db_->Time(created_at)));
  }
  std::vector<OutboxMessage> first = Claim(2);
  EXPECT_EQ(Ids(first), (std::vector<int64_t>{ids[0], ids[2]}));
  std::vector<OutboxMessage> rest = Claim(10, "owner-B");
  EXPECT_EQ(Ids(rest), (std::vector<int64_t>{ids[4], ids[3], ids[1]}));
}

// 7
TEST_P(OutboxStoreTest, ClaimRejectsBadArguments) {
  std::vector<OutboxMessage> out;
  for (int limit : {0, -1}) {
    Status status = store_->ClaimDue(limit, kLongLease, "owner-A", &out);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << limit;
    EXPECT_NE(status.message().find("store 'customer-001': claim failed"), std::string::npos)
        << status.message();
  }
  EXPECT_EQ(store_->ClaimDue(1, milliseconds(0), "owner-A", &out).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->ClaimDue(1, kLongLease, "", &out).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

// 8
TEST_P(OutboxStoreTest, ClaimLeasesRowsToTheOwnerOnTheDbClock) {
  EnqueueN(store_.get(), 3);
  int64_t before = db_->DbNow();
  std::vector<OutboxMessage> claimed = Claim(10, "owner-A", kLongLease);
  int64_t after = db_->DbNow();
  ASSERT_EQ(claimed.size(), 3u);
  for (const OutboxMessage& m : claimed) {
    StoredRow row = db_->Row(m.id);
    EXPECT_EQ(row.status, 1);
    EXPECT_EQ(row.owner_token, std::optional<std::string>("owner-A"));
    ASSERT_TRUE(row.locked_until.has_value());
    EXPECT_GE(*row.locked_until, before + 30000);
    EXPECT_LE(*row.locked_until, after + 30000);
  }
  EXPECT_TRUE(Claim(10, "owner-B").empty());
}

// 10
TEST_P(OutboxStoreTest, DispatchedRowIsDoneAndNeverClaimedAgain) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  int64_t before = db_->DbNow();
  CompletionReport report = Complete("owner-A", {Dispatched(id)});
  int64_t after = db_->DbNow();
  EXPECT_EQ(report.applied, std::vector<int64_t>{id});
  EXPECT_TRUE(report.lease_lost.empty());

  StoredRow row = db_->Row(id);
  EXPECT_EQ(row.status, 2);
  ASSERT_TRUE(row.processed_at.has_value());
  EXPECT_GE(*row.processed_at, before);
  EXPECT_LE(*row.processed_at, after);
  EXPECT_EQ(row.processed_by, std::optional<std::string>("test-worker"));
  EXPECT_FALSE(row.owner_token.has_value());
  EXPECT_FALSE(row.locked_until.has_value());
  EXPECT_TRUE(Claim(10, "owner-B").empty());
}

// 11 and B2: completions under a lease that is not (or no longer) held change nothing.
TEST_P(OutboxStoreTest, CompletionsFromAnotherOwnerAreReportedLeaseLost) {
  EnqueueN(store_.get(), 4);
  std::vector<int64_t> ids = Ids(Claim(4, "owner-A"));
  ASSERT_EQ(ids.size(), 4u);
  CompletionReport report =
      Complete("owner-B", {Dispatched(ids[0]), Rescheduled(ids[1], milliseconds(0), "boom"),
                           Failed(ids[2], "bad"), Released(ids[3])});
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(report.lease_lost, ids);
  for (int64_t id : ids) {
    StoredRow row = db_->Row(id);
    EXPECT_EQ(row.status, 1);
    EXPECT_EQ(row.owner_token, std::optional<std::string>("owner-A"));
    EXPECT_EQ(row.attempts, 0);
    EXPECT_FALSE(row.last_error.has_value());
    EXPECT_FALSE(row.processed_at.has_value());
  }
}

// 12
TEST_P(OutboxStoreTest, RepeatedDispatchIsLeaseLostAndTheRowStaysDone) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  EXPECT_EQ(Complete("owner-A", {Dispatched(id)}).applied, std::vector<int64_t>{id});
  int64_t processed_at = *db_->Row(id).processed_at;
  CompletionReport again = Complete("owner-A", {Dispatched(id)});
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.lease_lost, std::vector<int64_t>{id});
  EXPECT_EQ(db_->Row(id).status, 2);
  EXPECT_EQ(*db_->Row(id).processed_at, processed_at);
}

// 13
TEST_P(OutboxStoreTest, EmptyCompletionListIsANoOp) {
  CompletionReport report;
  EXPECT_TRUE(store_->Complete("owner-A", {}, &report).ok());
  EXPECT_TRUE(report.applied.empty());
  EXPECT_TRUE(report.lease_lost.empty());
}

// 13: duplicates are tolerated; the first completion of an id wins and it is reported once.
TEST_P(OutboxStoreTest, DuplicateIdsAreAppliedAndReportedOnce) {
  EnqueueN(store_.get(), 2);
  std::vector<int64_t> ids = Ids(Claim(2));
  ASSERT_EQ(ids.size(), 2u);
  CompletionReport report =
      Complete("owner-A", {Dispatched(ids[0]), Dispatched(ids[0]), Failed(ids[1], "x"),
                           Dispatched(ids[1])});
  EXPECT_EQ(report.applied, ids);
  EXPECT_TRUE(report.lease_lost.empty());
  EXPECT_EQ(db_->Row(ids[0]).status, 2);
  EXPECT_EQ(db_->Row(ids[1]).status, 3);
}

// 15
TEST_P(OutboxStoreTest, RescheduleWithZeroDelayIsClaimableAgainWithAttemptAndError) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  EXPECT_EQ(Complete("owner-A", {Rescheduled(id, milliseconds(0), "Test error")}).applied,
            std::vector<int64_t>{id});
  std::vector<OutboxMessage> again = Claim(1, "owner-B");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, id);
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(again[0].last_error, std::optional<std::string>("Test error"));
}

// 16
TEST_P(OutboxStoreTest, NegativeRescheduleDelayIsRejectedBeforeTouchingTheDatabase) {
  EnqueueN(store_.get(), 2);
  std::vector<int64_t> ids = Ids(Claim(2));
  CompletionReport report;
  Status status = store_->Complete(
      "owner-A", {Dispatched(ids[0]), Rescheduled(ids[1], milliseconds(-1), "e")}, &report);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(report.applied.empty());
  EXPECT_TRUE(report.lease_lost.empty());
  EXPECT_EQ(db_->Row(ids[0]).status, 1);  // nothing of the batch was applied
  EXPECT_EQ(db_->Row(ids[1]).status, 1);
}

// 17 and B3: the retry time is database now + delay, and eligibility follows the database clock.
TEST_P(OutboxStoreTest, RescheduleDelayIsCountedFromTheDbClock) {
  constexpr int64_t kDelayMs = 400;
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  int64_t before = db_->DbNow();
  Complete("owner-A", {Rescheduled(id, milliseconds(kDelayMs), "later")});
  int64_t after = db_->DbNow();

  StoredRow row = db_->Row(id);
  EXPECT_EQ(row.status, 0);
  EXPECT_EQ(row.attempts, 1);
  ASSERT_TRUE(row.next_attempt_at.has_value());
  EXPECT_GE(*row.next_attempt_at, before + kDelayMs);
  EXPECT_LE(*row.next_attempt_at, after + kDelayMs);
  EXPECT_FALSE(row.due_at.has_value());  // the original schedule is kept apart

  EXPECT_TRUE(Claim(1, "owner-B").empty());
  std::vector<OutboxMessage> again;
  ASSERT_TRUE(WaitFor([&] {
    again = Claim(1, "owner-B");
    return !again.empty();
  }));
  EXPECT_GE(db_->DbNow(), *row.next_attempt_at);
  EXPECT_EQ(again[0].id, id);
}

// 18
TEST_P(OutboxStoreTest, FailedRowIsTerminal) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  EXPECT_EQ(Complete("owner-A", {Failed(id, "poison")}).applied, std::vector<int64_t>{id});
  StoredRow row = db_->Row(id);
  EXPECT_EQ(row.status, 3);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.last_error, std::optional<std::string>("poison"));
  EXPECT_EQ(row.processed_by, std::optional<std::string>("test-worker:FAILED"));
  EXPECT_TRUE(row.processed_at.has_value());
  EXPECT_FALSE(row.owner_token.has_value());
  EXPECT_TRUE(Claim(10, "owner-B").empty());
  EXPECT_EQ(Complete("owner-A", {Dispatched(id)}).lease_lost, std::vector<int64_t>{id});
  EXPECT_EQ(db_->Row(id).status, 3);
}

// Completion batches travel as JSON text: error texts must come back byte for byte.
TEST_P(OutboxStoreTest, ErrorTextsRoundTripExactlyThroughABatch) {
  EnqueueN(store_.get(), 4);
  std::vector<int64_t> ids = Ids(Claim(4));
  ASSERT_EQ(ids.size(), 4u);
  const std::string tricky =
      "quote\" back\\slash\nnew\tline \xc3\xbcnic\xc3\xb6" "de \xe6\x97\xa5 '; --";
  const std::string long_text(2048, 'x');
  CompletionReport report =
      Complete("owner-A", {Rescheduled(ids[0], milliseconds(0), tricky),
                           Rescheduled(ids[1], milliseconds(60000), ""), Failed(ids[2], long_text),
                           Failed(ids[3], tricky)});
  EXPECT_EQ(report.applied, ids);
  EXPECT_EQ(db_->Row(ids[0]).last_error, std::optional<std::string>(tricky));
  EXPECT_EQ(db_->Row(ids[1]).last_error, std::optional<std::string>(""));
  EXPECT_EQ(db_->Row(ids[2]).last_error, std::optional<std::string>(long_text));
  EXPECT_EQ(db_->Row(ids[3]).last_error, std::optional<std::string>(tricky));
  EXPECT_EQ(*db_->Row(ids[1]).next_attempt_at - *db_->Row(ids[0]).next_attempt_at, 60000);
}

// A large mixed batch is one transaction with one statement per kind.
TEST_P(OutboxStoreTest, LargeMixedBatchIsAppliedWhole) {
  EnqueueN(store_.get(), 200);
  std::vector<int64_t> ids = Ids(Claim(200));
  ASSERT_EQ(ids.size(), 200u);
  std::vector<Completion> completions;
  for (size_t i = 0; i < ids.size(); ++i) {
    switch (i % 4) {
      case 0: completions.push_back(Dispatched(ids[i])); break;
      case 1: completions.push_back(Rescheduled(ids[i], milliseconds(i), "r")); break;
      case 2: completions.push_back(Failed(ids[i], "f")); break;
      default: completions.push_back(Released(ids[i])); break;
    }
  }
  CompletionReport report = Complete("owner-A", completions);
  EXPECT_EQ(report.applied, ids);
  StoreStats stats;
  ASSERT_TRUE(store_->GetStats(&stats).ok());
  EXPECT_EQ(stats.done, 50);
  EXPECT_EQ(stats.failed, 50);
  EXPECT_EQ(stats.ready, 100);
  EXPECT_EQ(stats.in_progress, 0);
}

TEST_P(OutboxStoreTest, ReleaseMakesTheRowReadyWithoutCountingAnAttempt) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  EXPECT_EQ(Complete("owner-A", {Released(id)}).applied, std::vector<int64_t>{id});
  StoredRow row = db_->Row(id);
  EXPECT_EQ(row.status, 0);
  EXPECT_EQ(row.attempts, 0);
  EXPECT_FALSE(row.owner_token.has_value());
  EXPECT_FALSE(row.locked_until.has_value());
  std::vector<OutboxMessage> again = Claim(1, "owner-B");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 0);
}

// 20, B1 and B2: an expired lease is taken over by the next claim (attempt counted); the previous
// owner's late completion is reported lost and changes nothing.
TEST_P(OutboxStoreTest, ExpiredLeaseIsReclaimedByTheNextClaim) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1, "owner-A", milliseconds(200)).size(), 1u);
  EXPECT_TRUE(Claim(1, "owner-B").empty());  // lease still active

  std::vector<OutboxMessage> taken;
  ASSERT_TRUE(WaitFor([&] {
    taken = Claim(1, "owner-B");
    return !taken.empty();
  }));
  ASSERT_EQ(taken[0].id, id);
  EXPECT_EQ(taken[0].attempts, 1);
  ASSERT_TRUE(taken[0].last_error.has_value());
  EXPECT_NE(taken[0].last_error->find("lease expired"), std::string::npos) << *taken[0].last_error;
  EXPECT_EQ(db_->Row(id).owner_token, std::optional<std::string>("owner-B"));

  CompletionReport late = Complete("owner-A", {Dispatched(id)});
  EXPECT_TRUE(late.applied.empty());
  EXPECT_EQ(late.lease_lost, std::vector<int64_t>{id});
  EXPECT_EQ(db_->Row(id).status, 1);
  EXPECT_EQ(db_->Row(id).owner_token, std::optional<std::string>("owner-B"));

  EXPECT_EQ(Complete("owner-B", {Dispatched(id)}).applied, std::vector<int64_t>{id});
}

// 22
TEST_P(OutboxStoreTest, DoneAndFailedRowsAreUntouchedByReclaiming) {
  EnqueueN(store_.get(), 3);
  std::vector<int64_t> ids = Ids(Claim(3, "owner-A", milliseconds(100)));
  ASSERT_EQ(ids.size(), 3u);
  Complete("owner-A", {Dispatched(ids[0]), Failed(ids[1], "bad")});
  StoredRow done = db_->Row(ids[0]);
  StoredRow failed = db_->Row(ids[1]);

  std::vector<OutboxMessage> taken;
  ASSERT_TRUE(WaitFor([&] {
    taken = Claim(10, "owner-B");
    return !taken.empty();
  }));
  EXPECT_EQ(Ids(taken), std::vector<int64_t>{ids[2]});
  for (const StoredRow* before : {&done, &failed}) {
    StoredRow now = db_->Row(before->id);
    EXPECT_EQ(now.status, before->status);
    EXPECT_EQ(now.attempts, before->attempts);
    EXPECT_EQ(now.processed_at, before->processed_at);
    EXPECT_EQ(now.last_error, before->last_error);
    EXPECT_EQ(now.owner_token, before->owner_token);
  }
}

// 23
TEST_P(OutboxStoreTest, SeededFuzzNeverReturnsATerminalId) {
  EnqueueN(store_.get(), 40);
  std::mt19937 rng(20240601);
  std::set<int64_t> terminal;
  for (int step = 0; step < 40; ++step) {
    int limit = std::uniform_int_distribution<int>(1, 5)(rng);
    std::vector<OutboxMessage> claimed = Claim(limit, "owner-" + std::to_string(step));
    std::vector<Completion> completions;
    for (const OutboxMessage& m : claimed) {
      ASSERT_EQ(terminal.count(m.id), 0u) << "terminal id " << m.id << " claimed at step " << step;
      switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
        case 0: completions.push_back(Dispatched(m.id)); break;
        case 1: completions.push_back(Rescheduled(m.id, milliseconds(0), "retry")); break;
        case 2: completions.push_back(Failed(m.id, "fail")); break;
        default: completions.push_back(Released(m.id)); break;
      }
    }
    CompletionReport report = Complete("owner-" + std::to_string(step), completions);
    EXPECT_EQ(report.applied.size(), completions.size());
    for (const Completion& c : completions) {
      if (c.kind == Completion::Kind::kDispatched || c.kind == Completion::Kind::kFail) {
        terminal.insert(c.id);
      }
    }
  }
  for (int64_t id : terminal) EXPECT_TRUE(db_->Row(id).status == 2 || db_->Row(id).status == 3);
}

TEST_P(OutboxStoreTest, RenewLeaseExtendsOnlyTheOwnersRows) {
  EnqueueN(store_.get(), 3);
  ASSERT_EQ(Claim(2, "owner-A", milliseconds(200)).size(), 2u);
  std::vector<int64_t> b_ids = Ids(Claim(1, "owner-B", milliseconds(200)));
  ASSERT_EQ(b_ids.size(), 1u);

  int64_t renewed = -1;
  int64_t before = db_->DbNow();
  ASSERT_TRUE(store_->RenewLease("owner-A", kLongLease, &renewed).ok());
  EXPECT_EQ(renewed, 2);
  EXPECT_EQ(db_->CountRows("owner_token = 'owner-A' AND locked_until >= " +
                           db_->Time(before + 30000)),
            2);

  // Only B's row expires and is taken over.
  std::vector<OutboxMessage> taken;
  ASSERT_TRUE(WaitFor([&] {
    taken = Claim(10, "owner-C");
    return !taken.empty();
  }));
  EXPECT_EQ(Ids(taken), b_ids);

  ASSERT_TRUE(store_->RenewLease("nobody", kLongLease, &renewed).ok());
  EXPECT_EQ(renewed, 0);
  EXPECT_EQ(store_->RenewLease("owner-A", milliseconds(0), &renewed).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->RenewLease("", kLongLease, &renewed).code(), Status::Code::kInvalidArgument);
}

TEST_P(OutboxStoreTest, EnqueueStoresTheMessageAndReturnsItsId) {
  static const std::regex kUuidV4(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  NewMessage generated;
  generated.topic = "Orders.Created";
  generated.payload = R"({"order":1})";
  std::string generated_id;
  ASSERT_TRUE(store_->Enqueue(generated, &generated_id).ok());
  EXPECT_TRUE(std::regex_match(generated_id, kUuidV4)) << generated_id;

  NewMessage given = generated;
  given.message_id = "my-own-id";
  given.correlation_id = "corr-7";
  given.delay = milliseconds(5000);
  std::string given_id;
  int64_t before = db_->DbNow();
  ASSERT_TRUE(store_->Enqueue(given, &given_id).ok());
  int64_t after = db_->DbNow();
  EXPECT_EQ(given_id, "my-own-id");
  StoredRow row = db_->Row(db_->QueryInt("SELECT id FROM " + db_->Table() +
                                         " WHERE message_id = 'my-own-id'"));
  EXPECT_EQ(row.topic, "Orders.Created");
  EXPECT_EQ(row.payload, R"({"order":1})");
  EXPECT_EQ(row.correlation_id, std::optional<std::string>("corr-7"));
  ASSERT_TRUE(row.due_at.has_value());
  EXPECT_GE(*row.due_at, before + 5000);
  EXPECT_LE(*row.due_at, after + 5000);
  EXPECT_GE(row.created_at, before);
  EXPECT_EQ(row.status, 0);

  NewMessage empty_id = generated;
  empty_id.message_id = "";
  std::string empty_id_result;
  ASSERT_TRUE(store_->Enqueue(empty_id, &empty_id_result).ok());
  EXPECT_TRUE(std::regex_match(empty_id_result, kUuidV4)) << empty_id_result;

  NewMessage no_topic;
  no_topic.payload = "x";
  std::string unused;
  EXPECT_EQ(store_->Enqueue(no_topic, &unused).code(), Status::Code::kInvalidArgument);
  NewMessage negative = generated;
  negative.delay = milliseconds(-5);
  EXPECT_EQ(store_->Enqueue(negative, &unused).code(), Status::Code::kInvalidArgument);
}

TEST_P(OutboxStoreTest, GetStatsCountsEachStatus) {
  EnqueueN(store_.get(), 6);
  std::vector<int64_t> ids = Ids(Claim(4));
  Complete("owner-A", {Dispatched(ids[0]), Dispatched(ids[1]), Failed(ids[2], "x")});
  StoreStats stats;
  ASSERT_TRUE(store_->GetStats(&stats).ok());
  EXPECT_EQ(stats.ready, 2);
  EXPECT_EQ(stats.in_progress, 1);
  EXPECT_EQ(stats.done, 2);
  EXPECT_EQ(stats.failed, 1);
}

TEST_P(OutboxStoreTest, CountReadyByTopicCountsEveryReadyRowPerTopicAndNothingElse) {
  std::map<std::string, int64_t> counts = {{"stale", 1}};
  ASSERT_TRUE(store_->CountReadyByTopic(&counts).ok());
  EXPECT_TRUE(counts.empty()) << "an empty table has no ready rows, and *counts is replaced";

  // Claimed first (oldest): one goes done, one failed, one stays in progress, one is retried later.
  const int64_t done = EnqueueOne("orders");
  const int64_t failed = EnqueueOne("refunds");
  EnqueueOne("orders");
  const int64_t retried = EnqueueOne("late");
  ASSERT_EQ(Claim(4).size(), 4u);
  Complete("owner-A", {Dispatched(done), Failed(failed, "x"),
                       Rescheduled(retried, milliseconds(600000), "later")});
  EnqueueOne("orders");
  EnqueueOne("orders");
  EnqueueOne("Orders");  // topics are counted as stored
  db_->InsertRow("topic, payload, due_at", "'emails', 'p', " + db_->NowPlus(600000));

  ASSERT_TRUE(store_->CountReadyByTopic(&counts).ok());
  const std::map<std::string, int64_t> expected = {
      {"orders", 2}, {"Orders", 1}, {"emails", 1}, {"late", 1}};
  EXPECT_EQ(counts, expected) << "ready rows only (due or not, retried ones included); no done, "
                                 "failed or in-progress row";
}

TEST_P(OutboxStoreTest, HasPendingWorkSeesDueAndInProgressRowsOnly) {
  bool pending = true;
  ASSERT_TRUE(store_->HasPendingWork(&pending).ok());
  EXPECT_FALSE(pending);

  db_->InsertRow("topic, payload, due_at", "'t', 'p', " + db_->NowPlus(600000));
  ASSERT_TRUE(store_->HasPendingWork(&pending).ok());
  EXPECT_FALSE(pending) << "a row due in 10 minutes is not pending work now";

  int64_t id = EnqueueOne();
  ASSERT_TRUE(store_->HasPendingWork(&pending).ok());
  EXPECT_TRUE(pending);
  ASSERT_EQ(Claim(10).size(), 1u);
  ASSERT_TRUE(store_->HasPendingWork(&pending).ok());
  EXPECT_TRUE(pending) << "in progress";
  Complete("owner-A", {Dispatched(id)});
  ASSERT_TRUE(store_->HasPendingWork(&pending).ok());
  EXPECT_FALSE(pending);
}

TEST_P(OutboxStoreTest, GetBacklogCountsReadyDueInProgressFailedAndTheOldestReadyAge) {
  StoreBacklog backlog;
  ASSERT_TRUE(store_->GetBacklog(&backlog).ok());
  EXPECT_EQ(backlog.ready_due, 0);
  EXPECT_EQ(backlog.in_progress, 0);
  EXPECT_EQ(backlog.failed, 0);
  EXPECT_EQ(backlog.oldest_ready_age_ms, 0);

  EnqueueN(store_.get(), 3);
  std::vector<int64_t> claimed = Ids(Claim(2));
  ASSERT_EQ(claimed.size(), 2u);
  Complete("owner-A", {Failed(claimed[0], "poison")});
  const int64_t old_id = db_->InsertRow("topic, payload, created_at", "'t', 'old', " + db_->NowPlus(-60000));
  db_->InsertRow("topic, payload, due_at", "'t', 'later', " + db_->NowPlus(600000));

  ASSERT_TRUE(store_->GetBacklog(&backlog).ok());
  EXPECT_EQ(backlog.ready_due, 2) << "one fresh row and the old one; the future one is not due";
  EXPECT_EQ(backlog.in_progress, 1);
  EXPECT_EQ(backlog.failed, 1);
  EXPECT_GE(backlog.oldest_ready_age_ms, 60000);
  EXPECT_LT(backlog.oldest_ready_age_ms, 120000);

  // A retry scheduled later is not ready-and-due; the age follows the oldest row that is.
  std::vector<OutboxMessage> old = Claim(1, "owner-B");
  ASSERT_EQ(old.size(), 1u);
  ASSERT_EQ(old[0].id, old_id);
  Complete("owner-B", {Rescheduled(old_id, milliseconds(600000), "later")});
  ASSERT_TRUE(store_->GetBacklog(&backlog).ok());
  EXPECT_EQ(backlog.ready_due, 1);
  EXPECT_EQ(backlog.in_progress, 1);
  EXPECT_LT(backlog.oldest_ready_age_ms, 60000);
}

// Issue 14 finding 15: --drain names when the latest lease of a tenant's in-progress rows ends.
TEST_P(OutboxStoreTest, GetBacklogGivesTheLatestLeaseEndOfInProgressRows) {
  StoreBacklog backlog;
  EnqueueN(store_.get(), 3);
  ASSERT_TRUE(store_->GetBacklog(&backlog).ok());
  EXPECT_EQ(backlog.latest_lease_left_ms, 0) << "nothing in progress";
  ASSERT_EQ(Claim(1, "owner-A", milliseconds(60000)).size(), 1u);
  ASSERT_EQ(Claim(1, "owner-B", milliseconds(3600000)).size(), 1u);
  ASSERT_TRUE(store_->GetBacklog(&backlog).ok());
  EXPECT_EQ(backlog.in_progress, 2);
  EXPECT_GT(backlog.latest_lease_left_ms, 3600000 - 60000) << "the hour-long lease, not the minute";
  EXPECT_LE(backlog.latest_lease_left_ms, 3600000);
}

// Issue 14 finding 19: a claim never reads a payload larger than StoreOptions::max_payload_bytes
// into outboxd; it returns the size in bytes (not characters) and an empty payload instead.
TEST_P(OutboxStoreTest, ClaimWithholdsAPayloadOverTheCapAndGivesItsSize) {
  StoreOptions options = StoreTestDb::Options();
  options.max_payload_bytes = 4096;
  std::unique_ptr<OutboxStore> capped = db_->Open(options);
  ASSERT_NE(capped, nullptr);
  std::string two_byte;
  for (int i = 0; i < 2049; ++i) two_byte += "\xc3\xa9";  // 2049 characters, 4098 bytes
  const int64_t at_cap = EnqueueOne("t", std::string(4096, 'a'));
  const int64_t over = EnqueueOne("t", std::string(4097, 'b'));
  const int64_t over_in_bytes = EnqueueOne("t", two_byte);
  const int64_t small = EnqueueOne("t", "{}");

  std::vector<OutboxMessage> claimed = Claim(10, "owner-A", kLongLease, capped.get());
  ASSERT_EQ(claimed.size(), 4u);
  EXPECT_EQ(claimed[0].id, at_cap);
  EXPECT_EQ(claimed[0].payload, std::string(4096, 'a'));
  EXPECT_EQ(claimed[0].payload_bytes, 4096);
  EXPECT_FALSE(claimed[0].payload_withheld);
  EXPECT_EQ(claimed[1].id, over);
  EXPECT_EQ(claimed[1].payload, "");
  EXPECT_EQ(claimed[1].payload_bytes, 4097);
  EXPECT_TRUE(claimed[1].payload_withheld);
  EXPECT_EQ(claimed[2].id, over_in_bytes);
  EXPECT_EQ(claimed[2].payload, "");
  EXPECT_EQ(claimed[2].payload_bytes, 4098);
  EXPECT_TRUE(claimed[2].payload_withheld);
  EXPECT_EQ(claimed[3].id, small);
  EXPECT_EQ(claimed[3].payload, "{}");
  EXPECT_EQ(claimed[3].payload_bytes, 2);
  EXPECT_FALSE(claimed[3].payload_withheld);

  // Without a cap (the default options) every payload comes whole.
  Complete("owner-A", {Released(at_cap), Released(over), Released(over_in_bytes), Released(small)});
  claimed = Claim(10, "owner-B");
  ASSERT_EQ(claimed.size(), 4u);
  EXPECT_EQ(claimed[1].payload, std::string(4097, 'b'));
  EXPECT_EQ(claimed[2].payload, two_byte);
  EXPECT_EQ(claimed[2].payload_bytes, 4098);
  for (const OutboxMessage& m : claimed) EXPECT_FALSE(m.payload_withheld) << m.id;
}

TEST_P(OutboxStoreTest, ClaimReturnsNextAttemptAtOfARetriedMessage) {
  int64_t id = EnqueueOne();
  std::vector<OutboxMessage> first = Claim(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].next_attempt_at_ms.has_value());
  Complete("owner-A", {Rescheduled(id, milliseconds(0), "again")});
  std::vector<OutboxMessage> again = Claim(1, "owner-B");
  ASSERT_EQ(again.size(), 1u);
  ASSERT_TRUE(again[0].next_attempt_at_ms.has_value());
  EXPECT_GE(*again[0].next_attempt_at_ms, again[0].created_at_ms);
}

// 50
TEST_P(OutboxStoreTest, CleanupDeletesOnlyDoneRowsOlderThanRetention) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  int64_t now_ms = db_->DbNow();
  std::vector<int64_t> done;
  for (int days : {30, 15, 7, 3, 1}) {
    done.push_back(db_->InsertRow("topic, payload, status, processed_at, processed_by",
                                 "'t', 'p', 2, " + db_->Time(now_ms - days * kDay) + ", 'w'"));
  }
  std::string old = db_->Time(now_ms - 40 * kDay);
  int64_t ready = db_->InsertRow("topic, payload, created_at", "'t', 'p', " + old);
  int64_t in_progress = db_->InsertRow(
      "topic, payload, status, owner_token, locked_until, created_at",
      "'t', 'p', 1, 'o', " + db_->Time(now_ms + kDay) + ", " + old);
  int64_t failed =
      db_->InsertRow("topic, payload, status, processed_at", "'t', 'p', 3, " + old);

  int64_t deleted = -1;
  ASSERT_TRUE(store_->Cleanup(std::chrono::hours(24 * 10), &deleted).ok());
  EXPECT_EQ(deleted, 2);
  std::vector<int64_t> remaining =
      db_->QueryInts("SELECT id FROM " + db_->Table() + " ORDER BY id");
  EXPECT_EQ(remaining, (std::vector<int64_t>{done[2], done[3], done[4], ready, in_progress,
                                             failed}));
  EXPECT_EQ(store_->Cleanup(milliseconds(-1), &deleted).code(), Status::Code::kInvalidArgument);
}

TEST_P(OutboxStoreTest, ConnectionsAreReusedAndBounded) {
  StoreOptions options = StoreTestDb::Options();
  options.max_connections = 2;
  std::unique_ptr<OutboxStore> store = db_->Open(options);
  auto* poco = dynamic_cast<sql_store::SqlOutboxStore*>(store.get());
  ASSERT_NE(poco, nullptr);
  for (int i = 0; i < 20; ++i) {
    StoreStats stats;
    ASSERT_TRUE(store->GetStats(&stats).ok());
  }
  EXPECT_EQ(poco->open_connections(), 1);
  EXPECT_EQ(poco->idle_connections(), 1);
}

// --- Row hygiene and the operator methods (issue 11) --------------------------------------------

TEST_P(OutboxStoreTest, DoneRowAfterEarlierFailuresCarriesNoLastError) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  Complete("owner-A", {Rescheduled(id, milliseconds(0), "transient: broker down")});
  std::vector<OutboxMessage> again = Claim(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].last_error, std::optional<std::string>("transient: broker down"))
      << "the retry still sees the previous attempt's error";
  Complete("owner-A", {Dispatched(id)});
  StoredRow row = db_->Row(id);
  EXPECT_EQ(row.status, 2);
  EXPECT_FALSE(row.last_error.has_value()) << "a done row must not read as a failure";
  EXPECT_EQ(row.attempts, 1) << "the failed attempts before success stay counted";
  EXPECT_EQ(row.processed_by, std::optional<std::string>("test-worker"));
}

TEST_P(OutboxStoreTest, OldestReadyAgeIsTheOldestStatusZeroRow) {
  StoreStats stats;
  ASSERT_TRUE(store_->GetStats(&stats).ok());
  EXPECT_FALSE(stats.oldest_ready_age_ms.has_value()) << "no ready row";
  // An older row in progress and an older failed row do not count.
  db_->InsertRow("topic, payload, status, owner_token, locked_until, created_at",
                 "'t', 'p', 1, 'o', " + db_->NowPlus(60000) + ", " + db_->NowPlus(-3600000));
  db_->InsertRow("topic, payload, status, processed_at, created_at",
                 "'t', 'p', 3, " + db_->NowPlus(0) + ", " + db_->NowPlus(-3600000));
  ASSERT_TRUE(store_->GetStats(&stats).ok());
  EXPECT_FALSE(stats.oldest_ready_age_ms.has_value());
  db_->InsertRow("topic, payload, created_at", "'t', 'p', " + db_->NowPlus(-60000));
  db_->InsertRow("topic, payload, created_at", "'t', 'p', " + db_->NowPlus(-1000));
  ASSERT_TRUE(store_->GetStats(&stats).ok());
  ASSERT_TRUE(stats.oldest_ready_age_ms.has_value());
  EXPECT_GE(*stats.oldest_ready_age_ms, 60000);
  EXPECT_LT(*stats.oldest_ready_age_ms, 60000 + 30000);
  EXPECT_EQ(stats.ready, 2);
}

TEST_P(OutboxStoreTest, ListFailedFiltersByTopicWindowAndLimitNewestFirst) {
  const int64_t now = db_->DbNow();
  const int64_t hour = 3600 * 1000;
  auto failed = [&](const std::string& topic, int64_t processed_at, const std::string& error) {
    return db_->InsertRow(
        "topic, payload, status, attempts, processed_at, processed_by, last_error, created_at",
        "'" + topic + "', 'body', 3, 4, " + db_->Time(processed_at) + ", 'w:FAILED', '" + error +
            "', " + db_->Time(processed_at - hour));
  };
  int64_t f1 = failed("a", now - 3 * hour, "e1");
  int64_t f2 = failed("b", now - 2 * hour, "e2");
  int64_t f3 = failed("a", now - 1 * hour, "boom\nsecond line");
  db_->InsertRow("topic, payload, status, processed_at", "'a', 'p', 2, " + db_->Time(now));
  db_->InsertRow("topic, payload", "'a', 'p'");

  auto list = [&](const FailedQuery& query) {
    std::vector<FailedMessage> out;
    Status status = store_->ListFailed(query, &out);
    EXPECT_TRUE(status.ok()) << status.ToString();
    std::vector<int64_t> ids;
    for (const FailedMessage& m : out) ids.push_back(m.id);
    return std::make_pair(ids, out);
  };
  auto [all, rows] = list(FailedQuery{});
  EXPECT_EQ(all, (std::vector<int64_t>{f3, f2, f1}));
  ASSERT_EQ(rows.size(), 3u);
  StoredRow raw = db_->Row(f3);
  EXPECT_EQ(rows[0].message_id, raw.message_id);
  EXPECT_EQ(rows[0].topic, "a");
  EXPECT_EQ(rows[0].attempts, 4);
  EXPECT_EQ(rows[0].processed_at_ms, *raw.processed_at);
  EXPECT_EQ(rows[0].created_at_ms, raw.created_at);
  EXPECT_EQ(rows[0].last_error, std::optional<std::string>("boom\nsecond line"));

  FailedQuery topic;
  topic.topic = "a";
  EXPECT_EQ(list(topic).first, (std::vector<int64_t>{f3, f1}));
  FailedQuery recent;
  recent.failed_within = std::chrono::minutes(90);
  EXPECT_EQ(list(recent).first, (std::vector<int64_t>{f3}));
  FailedQuery limited;
  limited.limit = 2;
  EXPECT_EQ(list(limited).first, (std::vector<int64_t>{f3, f2}));
  FailedQuery nothing;
  nothing.topic = "none";
  EXPECT_TRUE(list(nothing).first.empty());

  std::vector<FailedMessage> out;
  for (int bad : {0, -1, 100001}) {
    FailedQuery query;
    query.limit = bad;
    EXPECT_EQ(store_->ListFailed(query, &out).code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(out.empty());
}

TEST_P(OutboxStoreTest, FindByMessageIdReturnsTheWholeRow) {
  NewMessage message;
  message.topic = "Orders.Created";
  message.payload = "{\"order\": 7}";
  message.correlation_id = "corr-7";
  message.message_id = "msg-7";
  std::string message_id;
  ASSERT_TRUE(store_->Enqueue(message, &message_id).ok());
  std::vector<OutboxMessage> claimed = Claim(1);
  ASSERT_EQ(claimed.size(), 1u);
  Complete("owner-A", {Failed(claimed[0].id, "poison")});

  std::vector<StoredMessage> found;
  ASSERT_TRUE(store_->FindByMessageId("msg-7", &found).ok());
  ASSERT_EQ(found.size(), 1u);
  const StoredMessage& m = found[0];
  StoredRow raw = db_->Row(claimed[0].id);
  EXPECT_EQ(m.id, claimed[0].id);
  EXPECT_EQ(m.message_id, "msg-7");
  EXPECT_EQ(m.topic, "Orders.Created");
  EXPECT_EQ(m.payload, "{\"order\": 7}");
  EXPECT_EQ(m.correlation_id, std::optional<std::string>("corr-7"));
  EXPECT_EQ(m.created_at_ms, raw.created_at);
  EXPECT_FALSE(m.due_at_ms.has_value());
  EXPECT_EQ(m.status, MessageStatus::kFailed);
  EXPECT_EQ(m.attempts, 1);
  EXPECT_FALSE(m.next_attempt_at_ms.has_value());
  EXPECT_FALSE(m.locked_until_ms.has_value());
  EXPECT_FALSE(m.owner_token.has_value());
  EXPECT_EQ(m.processed_at_ms, raw.processed_at);
  EXPECT_EQ(m.processed_by, std::optional<std::string>("test-worker:FAILED"));
  EXPECT_EQ(m.last_error, std::optional<std::string>("poison"));
  EXPECT_EQ(m.replay_count, 0);
  EXPECT_FALSE(m.replayed_at_ms.has_value());

  found.clear();
  ASSERT_TRUE(store_->FindByMessageId("no-such-message", &found).ok());
  EXPECT_TRUE(found.empty());
}

TEST_P(OutboxStoreTest, ReplayMovesOnlySelectedFailedRowsBackAsFirstAttempts) {
  // Failed rows made by the store itself: a retry, then a failure (attempts 2).
  auto make_failed = [&](const std::string& topic) {
    int64_t id = EnqueueOne(topic);
    EXPECT_EQ(Claim(1).size(), 1u);
    Complete("owner-A", {Rescheduled(id, milliseconds(0), "first")});
    EXPECT_EQ(Claim(1).size(), 1u);
    Complete("owner-A", {Failed(id, "gave up: " + topic)});
    return id;
  };
  int64_t a1 = make_failed("a");
  int64_t a2 = make_failed("a");
  int64_t b1 = make_failed("b");
  // Rows of the same topic in every other status must not change.
  int64_t done = EnqueueOne("a");
  ASSERT_EQ(Claim(1).size(), 1u);
  Complete("owner-A", {Dispatched(done)});
  int64_t in_progress = EnqueueOne("a");
  ASSERT_EQ(Claim(1).size(), 1u);
  int64_t ready = db_->InsertRow("topic, payload, attempts, next_attempt_at",
                                 "'a', 'p', 3, " + db_->NowPlus(600000));
  std::vector<StoredRow> others_before = {db_->Row(done), db_->Row(in_progress), db_->Row(ready)};

  int64_t count = -1;
  ReplaySelection by_topic;
  by_topic.topic = "a";
  ASSERT_TRUE(store_->ReplayFailed(by_topic, /*dry_run=*/true, &count).ok());
  EXPECT_EQ(count, 2);
  EXPECT_EQ(db_->CountRows("status = 3"), 3) << "a dry run changes nothing";

  ReplaySelection by_id;
  by_id.message_ids = {db_->Row(b1).message_id, "not-there"};
  const int64_t before = db_->DbNow();
  ASSERT_TRUE(store_->ReplayFailed(by_id, false, &count).ok());
  EXPECT_EQ(count, 1);
  StoredRow row = db_->Row(b1);
  EXPECT_EQ(row.status, 0);
  EXPECT_EQ(row.attempts, 0);
  EXPECT_FALSE(row.next_attempt_at.has_value());
  EXPECT_FALSE(row.locked_until.has_value());
  EXPECT_FALSE(row.owner_token.has_value());
  EXPECT_FALSE(row.processed_at.has_value());
  EXPECT_FALSE(row.processed_by.has_value());
  EXPECT_EQ(row.last_error, std::optional<std::string>("gave up: b")) << "kept as history";
  EXPECT_EQ(db_->QueryInt("SELECT replay_count FROM " + db_->Table() + " WHERE id = " +
                          std::to_string(b1)),
            1);
  const int64_t replayed_at = db_->QueryInt("SELECT " + db_->MsOf("replayed_at") + " FROM " +
                                            db_->Table() + " WHERE id = " + std::to_string(b1));
  EXPECT_GE(replayed_at, before);
  EXPECT_LE(replayed_at, db_->DbNow());

  ASSERT_TRUE(store_->ReplayFailed(by_topic, false, &count).ok());
  EXPECT_EQ(count, 2);
  ReplaySelection all;
  all.all = true;
  ASSERT_TRUE(store_->ReplayFailed(all, false, &count).ok());
  EXPECT_EQ(count, 0) << "nothing failed is left";
  std::vector<StoredRow> others_after = {db_->Row(done), db_->Row(in_progress), db_->Row(ready)};
  for (size_t i = 0; i < others_before.size(); ++i) {
    EXPECT_EQ(others_after[i].status, others_before[i].status) << i;
    EXPECT_EQ(others_after[i].attempts, others_before[i].attempts) << i;
    EXPECT_EQ(others_after[i].owner_token, others_before[i].owner_token) << i;
    EXPECT_EQ(others_after[i].processed_at, others_before[i].processed_at) << i;
    EXPECT_EQ(others_after[i].next_attempt_at, others_before[i].next_attempt_at) << i;
  }
  EXPECT_EQ(db_->CountRows("replay_count > 0"), 3);

  // The replayed rows run again as first attempts, at once.
  std::vector<OutboxMessage> again = Claim(10, "owner-B");
  std::vector<int64_t> again_ids = Ids(again);
  std::sort(again_ids.begin(), again_ids.end());
  EXPECT_EQ(again_ids, (std::vector<int64_t>{a1, a2, b1}));
  for (const OutboxMessage& m : again) EXPECT_EQ(m.attempts, 0) << m.id;

  // A second failure after a replay counts from zero again; the next replay counts 2.
  Complete("owner-B", {Failed(a1, "again")});
  EXPECT_EQ(db_->Row(a1).attempts, 1);
  ASSERT_TRUE(store_->ReplayFailed(all, false, &count).ok());
  EXPECT_EQ(count, 1);
  EXPECT_EQ(db_->QueryInt("SELECT replay_count FROM " + db_->Table() + " WHERE id = " +
                          std::to_string(a1)),
            2);

  for (const ReplaySelection& bad : {ReplaySelection{}, [] {
         ReplaySelection s;
         s.all = true;
         s.topic = "a";
         return s;
       }()}) {
    EXPECT_EQ(store_->ReplayFailed(bad, true, &count).code(), Status::Code::kInvalidArgument);
  }
}

TEST_P(OutboxStoreTest, PurgeDeletesExactlyTheMatchingFailedRowsInBatches) {
  const int64_t now = db_->DbNow();
  const int64_t day = 24LL * 3600 * 1000;
  auto failed = [&](const std::string& topic, int64_t processed_at) {
    return db_->InsertRow("topic, payload, status, processed_at",
                          "'" + topic + "', 'p', 3, " + db_->Time(processed_at));
  };
  std::vector<int64_t> old_a;
  for (int i = 0; i < 7; ++i) old_a.push_back(failed("a", now - 2 * day - i));
  int64_t old_b1 = failed("b", now - 3 * day);
  int64_t old_b2 = failed("b", now - 3 * day);
  int64_t recent_a = failed("a", now - 1000);
  int64_t done = db_->InsertRow("topic, payload, status, processed_at",
                                "'a', 'p', 2, " + db_->Time(now - 5 * day));
  int64_t ready = db_->InsertRow("topic, payload", "'a', 'p'");

  PurgeSelection old_topic_a;
  old_topic_a.topic = "a";
  old_topic_a.older_than = std::chrono::hours(24);
  old_topic_a.batch_size = 3;
  int64_t count = -1;
  ASSERT_TRUE(store_->PurgeFailed(old_topic_a, /*dry_run=*/true, &count).ok());
  EXPECT_EQ(count, 7);
  EXPECT_EQ(db_->CountRows(), 12) << "a dry run deletes nothing";

  ASSERT_TRUE(store_->PurgeFailed(old_topic_a, false, &count).ok());
  EXPECT_EQ(count, 7) << "three batches of 3, 3 and 1";
  EXPECT_EQ(db_->QueryInts("SELECT id FROM " + db_->Table() + " ORDER BY id"),
            (std::vector<int64_t>{old_b1, old_b2, recent_a, done, ready}));

  PurgeSelection everything;
  ASSERT_TRUE(store_->PurgeFailed(everything, true, &count).ok());
  EXPECT_EQ(count, 3);
  ASSERT_TRUE(store_->PurgeFailed(everything, false, &count).ok());
  EXPECT_EQ(count, 3);
  EXPECT_EQ(db_->QueryInts("SELECT id FROM " + db_->Table() + " ORDER BY id"),
            (std::vector<int64_t>{done, ready}));
  ASSERT_TRUE(store_->PurgeFailed(everything, false, &count).ok());
  EXPECT_EQ(count, 0);

  for (int bad : {0, 100001}) {
    PurgeSelection selection;
    selection.batch_size = bad;
    EXPECT_EQ(store_->PurgeFailed(selection, false, &count).code(),
              Status::Code::kInvalidArgument);
  }
  PurgeSelection negative;
  negative.older_than = milliseconds(-1);
  EXPECT_EQ(store_->PurgeFailed(negative, false, &count).code(), Status::Code::kInvalidArgument);
}

TEST_P(OutboxStoreTest, SchemaStatusReportsTableAndBinaryVersions) {
  SchemaStatus status;
  ASSERT_TRUE(store_->GetSchemaStatus(&status).ok());
  EXPECT_EQ(status.current_version, kOutboxSchemaVersion);
  EXPECT_EQ(status.binary_version, kOutboxSchemaVersion);

  std::unique_ptr<StoreTestDb> empty = NewDb("other_outbox");
  if (empty->is_postgres()) empty->Exec("CREATE SCHEMA \"" + empty->schema() + "\"");
  StoreOptions options = StoreTestDb::Options();
  options.create_schema = false;
  std::unique_ptr<OutboxStore> store = StoreTestDb::OpenAt(empty->Location(), options);
  ASSERT_TRUE(store->GetSchemaStatus(&status).ok());
  EXPECT_EQ(status.current_version, 0) << "no table yet";
  EXPECT_EQ(status.binary_version, kOutboxSchemaVersion);
  EXPECT_EQ(empty->QueryInt(empty->is_postgres()
                                ? "SELECT COUNT(*) FROM pg_tables WHERE schemaname = '" +
                                      empty->schema() + "'"
                                : "SELECT COUNT(*) FROM sqlite_master"),
            0)
      << "schema status creates nothing";
}

// Poison isolation (issue 14): a row whose lease expired is suspect (its owner crashed or stalled
// on it), so the claim takes it alone while it is the oldest claimable row; ready rows are
// claimed in batches again once no expired row is ahead of them.
TEST_P(OutboxStoreTest, ExpiredRowIsClaimedAloneAndReadyRowsStillInBatches) {
  EnqueueN(store_.get(), 3);
  std::vector<int64_t> first = Ids(Claim(3, "owner-A", milliseconds(100)));
  ASSERT_EQ(first.size(), 3u);
  std::vector<OutboxMessage> taken;
  ASSERT_TRUE(WaitFor([&] {
    taken = Claim(10, "owner-B");
    return !taken.empty();
  }));
  ASSERT_EQ(Ids(taken), std::vector<int64_t>{first[0]}) << "the oldest expired row alone";
  EXPECT_EQ(taken[0].attempts, 1);
  EnqueueN(store_.get(), 2);  // ready, newer than the expired rows
  EXPECT_EQ(Ids(Claim(10, "owner-C")), std::vector<int64_t>{first[1]});
  EXPECT_EQ(Ids(Claim(10, "owner-D")), std::vector<int64_t>{first[2]});
  EXPECT_EQ(Claim(10, "owner-E").size(), 2u) << "the ready rows, in one batch";
}

// Finding 8: a row whose attempts is at the column's integer limit (it passes every CHECK) must not
// make the claim fail; the count saturates, the row is given up like any exhausted one.
TEST_P(OutboxStoreTest, AttemptsAtTheIntegerLimitSaturateInsteadOfFailingEveryClaim) {
  const std::string limit = db_->is_postgres() ? "2147483647" : "9223372036854775807";
  int64_t expired = EnqueueOne("Test.Topic", "expired");
  db_->Exec("UPDATE " + db_->Table() + " SET attempts = " + limit);
  std::vector<OutboxMessage> claimed = Claim(1, "owner-A", milliseconds(100));
  ASSERT_EQ(Ids(claimed), std::vector<int64_t>{expired});
  EXPECT_EQ(claimed[0].attempts, 2147483647);
  std::vector<OutboxMessage> taken;
  ASSERT_TRUE(WaitFor([&] {
    taken = Claim(1, "owner-B");
    return !taken.empty();
  }));
  ASSERT_EQ(Ids(taken), std::vector<int64_t>{expired});
  EXPECT_EQ(taken[0].attempts, 2147483647);
  EXPECT_EQ(Complete("owner-B", {Failed(expired, "gave up")}).applied,
            std::vector<int64_t>{expired});
  EXPECT_EQ(db_->Row(expired).status, 3);

  int64_t retried = EnqueueOne("Test.Topic", "retried");
  db_->Exec("UPDATE " + db_->Table() + " SET attempts = " + limit + " WHERE status = 0");
  ASSERT_EQ(Ids(Claim(1, "owner-C")), std::vector<int64_t>{retried});
  EXPECT_EQ(Complete("owner-C", {Rescheduled(retried, milliseconds(0), "again")}).applied,
            std::vector<int64_t>{retried});
  EXPECT_EQ(Ids(Claim(1, "owner-D")), std::vector<int64_t>{retried});
}

// Finding 14: a message given up because its attempts are exhausted was not run again, so failing
// it does not count one more attempt (the column agrees with "Gave up after N attempts").
TEST_P(OutboxStoreTest, FailWithoutCountingAnAttemptKeepsTheAttemptCount) {
  int64_t id = EnqueueOne();
  ASSERT_EQ(Claim(1).size(), 1u);
  Completion c = Failed(id, "Gave up after 0 attempts");
  c.count_attempt = false;
  EXPECT_EQ(Complete("owner-A", {c}).applied, std::vector<int64_t>{id});
  EXPECT_EQ(db_->Row(id).status, 3);
  EXPECT_EQ(db_->Row(id).attempts, 0);
}

}  // namespace
}  // namespace outboxd::testing
