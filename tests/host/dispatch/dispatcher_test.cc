#include "dispatch/dispatcher.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "fakes/fake_discovery_source.h"
#include "fakes/fake_message_handler.h"
#include "fakes/fake_outbox_store.h"
#include "fakes/fake_schedule_clock.h"
#include "fakes/fake_tenant_set.h"
#include "support/log_capture.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::FakeDiscoverySource;
using testing::FakeMessageHandler;
using testing::FakeOutboxStore;
using testing::FakeScheduleClock;
using testing::FakeTenantSet;
using testing::LogCapture;
using Op = FakeOutboxStore::Op;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({"s1"}, "round-robin", 50); }

  void Start(const std::vector<std::string>& ids, const std::string& strategy, int batch,
             int max_attempts = 5) {
    tenants_ = std::make_unique<FakeTenantSet>();
    ASSERT_TRUE(tenants_->Start(ids).ok());
    tenant_set_ = tenants_->tenant_set();
    std::unique_ptr<SelectionStrategy> order;
    ASSERT_TRUE(MakeSelectionStrategy(strategy, &order).ok());
    DispatchOptions options;
    options.batch_size = batch;
    options.lease = milliseconds(30000);
    options.max_attempts = max_attempts;
    options.backoff = [](int attempt) { return ComputeBackoff(attempt, 0); };
    options.record_retry_delay = milliseconds(1);
    options.record_window = record_window_;
    ScheduleOptions schedule;
    schedule.batch_size = batch;
    schedule.failure_backoff = options.backoff;
    schedule.uniform = [] { return 1.0; };
    schedule_ = std::make_unique<TenantSchedule>(std::move(order), schedule, &clock_);
    schedule_->Sync(*tenant_set_->Snapshot());
    tenant_set_->SetOnChange([this] { schedule_->Sync(*tenant_set_->Snapshot()); });
    dispatcher_ = std::make_unique<Dispatcher>(&routing_, &leases_, &counters_, options);
  }

  void Route(std::vector<HandlerTable::Route> routes) {
    std::shared_ptr<const HandlerTable> table;
    ASSERT_TRUE(HandlerTable::Build(std::move(routes), &table).ok());
    routing_.Publish(table);
  }

  // One worker iteration: the next tenant the schedule hands out (time jumps to the earliest due
  // one when none is due yet, as a sleeping worker would wait for it).
  int RunOnce() {
    std::optional<TenantSchedule::Visit> visit = schedule_->Take();
    if (!visit) {
      std::optional<TenantSchedule::TimePoint> due = schedule_->NextDue();
      if (!due) return 0;
      clock_.Set(*due);
      visit = schedule_->Take();
      if (!visit) return 0;
    }
    const int decided = dispatcher_->RunOnce(&worker_, visit->store, stopping_);
    schedule_->Done(*visit, {worker_.claimed, worker_.failed, worker_.retry_in});
    return decided;
  }
  FakeOutboxStore& store(const std::string& id = "s1") { return tenants_->store(id); }

  std::unique_ptr<FakeTenantSet> tenants_;
  TenantSet* tenant_set_ = nullptr;
  RoutingState routing_;
  FakeScheduleClock clock_;
  std::unique_ptr<TenantSchedule> schedule_;
  LeaseKeeper leases_{milliseconds(30000)};
  DispatchCounters counters_;
  std::unique_ptr<Dispatcher> dispatcher_;
  WorkerState worker_;
  std::atomic<bool> stopping_{false};
  milliseconds record_window_{100};  // set before Start
  std::shared_ptr<FakeMessageHandler> handler_ = std::make_shared<FakeMessageHandler>("email");
};

TEST_F(DispatcherTest, SuccessMarksDispatchedOnce) {  // scenario 27
  LogCapture log;
  Route({{"Email.Send", handler_}});
  const int64_t id = store().Add("email.send");
  EXPECT_EQ(RunOnce(), 1);
  ASSERT_EQ(handler_->calls().size(), 1u);
  EXPECT_EQ(handler_->calls()[0].tenant, "s1");
  EXPECT_EQ(store().Get(id).status, MessageStatus::kDone);
  EXPECT_EQ(counters_.dispatched.load(), 1);
  EXPECT_TRUE(log.Contains("Processing 1 outbox messages from store 's1'"));
  EXPECT_EQ(leases_.in_flight(), 0u);
}

TEST_F(DispatcherTest, TheBatchLineIsWrittenOncePerStorePerMinuteAtInfoEveryBatchAtDebug) {
  Start({"s1"}, "round-robin", 1);
  Route({{"t", handler_}});
  LogCapture log;
  spdlog::set_level(spdlog::level::info);
  for (int i = 0; i < 50; ++i) store().Add("t");
  for (int i = 0; i < 50; ++i) ASSERT_EQ(RunOnce(), 1);
  int lines = 0;
  for (const std::string& line : log.Lines()) {
    if (line.find("Processing ") != std::string::npos) ++lines;
  }
  EXPECT_EQ(lines, 1) << "50 batches within a minute: one info line";
  spdlog::set_level(spdlog::level::debug);
  for (int i = 0; i < 3; ++i) store().Add("t");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(RunOnce(), 1);
  lines = 0;
  for (const std::string& line : log.Lines()) {
    if (line.find("Processing 1 outbox messages from store 's1'") != std::string::npos) ++lines;
  }
  spdlog::set_level(spdlog::level::info);
  EXPECT_EQ(lines, 4) << "at debug every batch has its line";
}

TEST_F(DispatcherTest, EmptyStoreReturnsZero) {
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(store().calls(Op::kClaim), 1);
}

TEST_F(DispatcherTest, NoHandlerFailsWithReferenceText) {  // scenario 26
  LogCapture log;
  const int64_t id = store().Add("unknown.topic");
  EXPECT_EQ(RunOnce(), 1);
  auto row = store().Get(id);
  EXPECT_EQ(row.status, MessageStatus::kFailed);
  EXPECT_EQ(row.message.last_error, "No handler registered for topic 'unknown.topic'");
  EXPECT_TRUE(log.Contains("warning No handler registered for topic 'unknown.topic'"));
}

TEST_F(DispatcherTest, RetryReschedulesWithBackoffAndError) {  // scenario 28
  Route({{"t", handler_}});
  handler_->Answer(HandlerOutcome::Retry("std::runtime_error: smtp down"));
  const int64_t id = store().Add("t");
  EXPECT_EQ(RunOnce(), 1);
  auto row = store().Get(id);
  EXPECT_EQ(row.status, MessageStatus::kReady);
  EXPECT_EQ(row.message.attempts, 1);
  EXPECT_EQ(row.message.last_error, "std::runtime_error: smtp down");
  EXPECT_EQ(row.next_attempt_at_ms - store().now_ms(), 500);  // backoff(1) without jitter
}

TEST_F(DispatcherTest, RetryAfterFromHandlerWins) {
  Route({{"t", handler_}});
  handler_->Answer(HandlerOutcome::Retry("busy", milliseconds(7000)));
  const int64_t id = store().Add("t");
  RunOnce();
  EXPECT_EQ(store().Get(id).next_attempt_at_ms - store().now_ms(), 7000);
}

TEST_F(DispatcherTest, LastAttemptFailsInsteadOfRescheduling) {  // scenario 29
  Start({"s1"}, "round-robin", 50, /*max_attempts=*/3);
  Route({{"t", handler_}});
  handler_->Answer(HandlerOutcome::Retry("nope"));
  const int64_t id = store().Add("t", "{}", /*attempts=*/2);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store().Get(id).status, MessageStatus::kFailed);
  EXPECT_EQ(counters_.rescheduled.load(), 0);
}

TEST_F(DispatcherTest, AlwaysFailingHandlerRunsExactlyMaxAttemptsTimes) {  // scenario 30
  Route({{"t", handler_}});
  handler_->Answer(HandlerOutcome::Retry("boom"));
  const int64_t id = store().Add("t");
  std::vector<int64_t> delays;
  for (int i = 0; i < 10; ++i) {
    const int64_t before = store().now_ms();
    RunOnce();
    auto row = store().Get(id);
    if (row.status == MessageStatus::kFailed) break;
    delays.push_back(row.next_attempt_at_ms - before);
    store().AdvanceClock(milliseconds(row.next_attempt_at_ms - before));
  }
  EXPECT_EQ(handler_->calls().size(), 5u);
  EXPECT_EQ(delays, (std::vector<int64_t>{500, 1000, 2000, 4000}));
  EXPECT_EQ(store().Get(id).status, MessageStatus::kFailed);
  EXPECT_EQ(store().Get(id).message.attempts, 5);
  for (size_t i = 0; i < handler_->calls().size(); ++i) {
    EXPECT_EQ(handler_->calls()[i].message.attempts, static_cast<int32_t>(i));
  }
}

TEST_F(DispatcherTest, PermanentFailureFailsAtOnce) {  // scenario 31
  Route({{"t", handler_}});
  handler_->Answer(HandlerOutcome::PermanentFailure("bad payload"));
  const int64_t id = store().Add("t");
  RunOnce();
  EXPECT_EQ(store().Get(id).status, MessageStatus::kFailed);
  EXPECT_EQ(store().Get(id).message.last_error, "bad payload");
  EXPECT_EQ(handler_->calls().size(), 1u);
}

TEST_F(DispatcherTest, LongErrorIsBounded) {  // scenario 33
  Route({{"t", handler_}});
  handler_->Answer(HandlerOutcome::Retry("std::runtime_error: " + std::string(4096, 'x')));
  const int64_t id = store().Add("t");
  RunOnce();
  const std::string err = *store().Get(id).message.last_error;
  EXPECT_LE(err.size(), 2048u);
  EXPECT_NE(err.find("std::runtime_error"), std::string::npos);
}

TEST_F(DispatcherTest, MessageWhoseLeasesKeptExpiringIsFailedWithoutRunning) {
  Route({{"t", handler_}});
  const int64_t id = store().Add("t", "{}", /*attempts=*/5);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_TRUE(handler_->calls().empty());
  EXPECT_EQ(store().Get(id).status, MessageStatus::kFailed);
  EXPECT_NE(store().Get(id).message.last_error->find("Gave up after 5 attempts"), std::string::npos);
}

// Finding 14: the message was not run again, so the column keeps the count the text names.
TEST_F(DispatcherTest, GivenUpMessageKeepsTheAttemptCountItsErrorNames) {
  Route({{"t", handler_}});
  const int64_t id = store().Add("t", "{}", /*attempts=*/5);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store().Get(id).message.attempts, 5);
}

// Poison isolation, recording side: with record_window 0 every outcome is recorded before the next
// handler call, so a crash in message 3 cannot make messages 1 and 2 run again.
TEST_F(DispatcherTest, OutcomesOlderThanTheRecordWindowAreRecordedBeforeTheNextHandlerCall) {
  record_window_ = milliseconds(0);
  Start({"s1"}, "round-robin", 50);
  Route({{"t", handler_}});
  const int64_t first = store().Add("t");
  const int64_t second = store().Add("t");
  const int64_t third = store().Add("t");
  std::vector<MessageStatus> seen;  // status of `first` and `second` when `third` runs
  handler_->Script([&](const OutboxMessage& m) {
    if (m.id == third) seen = {store().Get(first).status, store().Get(second).status};
    return HandlerOutcome::Ok();
  });
  EXPECT_EQ(RunOnce(), 3);
  EXPECT_EQ(seen, (std::vector<MessageStatus>{MessageStatus::kDone, MessageStatus::kDone}));
  EXPECT_EQ(store().calls(Op::kComplete), 3);
  EXPECT_EQ(counters_.dispatched.load(), 3);
}

// Issue 14 finding 9: a handler call that hangs must not hold back the outcomes decided before it
// in its batch: once they are record_window old they are recorded while it still runs (before,
// they stayed in progress until the call returned, and were redelivered after a restart).
TEST_F(DispatcherTest, HungCallDoesNotHoldBackTheOutcomesBeforeIt) {
  Route({{"t", handler_}});  // record_window 100 ms
  const int64_t first = store().Add("t");
  const int64_t second = store().Add("t");
  const int64_t third = store().Add("t");
  bool recorded_while_hung = false;
  handler_->Script([&](const OutboxMessage& m) {
    if (m.id != third) return HandlerOutcome::Ok();
    // "Hangs" until the two before it are done in the store (bounded, so the test can fail).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until && !recorded_while_hung) {
      recorded_while_hung = store().Get(first).status == MessageStatus::kDone &&
                            store().Get(second).status == MessageStatus::kDone;
      std::this_thread::yield();
    }
    return HandlerOutcome::Ok();
  });
  EXPECT_EQ(RunOnce(), 3);
  EXPECT_TRUE(recorded_while_hung);
  EXPECT_EQ(store().Get(third).status, MessageStatus::kDone);
  EXPECT_EQ(store().calls(Op::kComplete), 2);
  EXPECT_EQ(counters_.dispatched.load(), 3);
}

TEST_F(DispatcherTest, BatchFasterThanTheRecordWindowIsRecordedInOneCall) {
  record_window_ = milliseconds(3600 * 1000);
  Start({"s1"}, "round-robin", 50);
  Route({{"t", handler_}});
  for (int i = 0; i < 5; ++i) store().Add("t");
  EXPECT_EQ(RunOnce(), 5);
  EXPECT_EQ(store().calls(Op::kComplete), 1);
}

TEST_F(DispatcherTest, CompletionAfterLostLeaseChangesNothingAndIsCounted) {  // B2
  Route({{"t", handler_}});
  const int64_t id = store().Add("t");
  handler_->Script([this](const OutboxMessage&) {
    // While the handler runs, its lease expires and another process takes the row over.
    store().AdvanceClock(milliseconds(31000));
    std::vector<OutboxMessage> stolen;
    EXPECT_TRUE(store().ClaimDue(10, milliseconds(30000), "other-process", &stolen).ok());
    EXPECT_EQ(stolen.size(), 1u);
    return HandlerOutcome::Ok();
  });
  EXPECT_EQ(RunOnce(), 0);
  auto row = store().Get(id);
  EXPECT_EQ(row.status, MessageStatus::kInProgress);
  EXPECT_EQ(row.owner_token, "other-process");
  EXPECT_EQ(counters_.lease_lost.load(), 1);
  EXPECT_EQ(counters_.dispatched.load(), 0);
}

TEST_F(DispatcherTest, DatabaseErrorWhileRecordingDoesNotRerunHandler) {
  Route({{"t", handler_}});
  const int64_t id = store().Add("t");
  store().FailNext(Op::kComplete, Status::Unavailable("database is locked"), 2);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(handler_->calls().size(), 1u);
  EXPECT_EQ(store().Get(id).status, MessageStatus::kDone);
  EXPECT_EQ(store().Get(id).message.attempts, 0);
  EXPECT_EQ(counters_.rescheduled.load(), 0);
}

TEST_F(DispatcherTest, UnrecordableOutcomeIsLeftForLeaseExpiryNotCountedAsFailure) {
  Route({{"t", handler_}});
  const int64_t id = store().Add("t");
  store().FailNext(Op::kComplete, Status::Unavailable("disk I/O error"), 100);
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(handler_->calls().size(), 1u);
  EXPECT_EQ(store().Get(id).status, MessageStatus::kInProgress);
  EXPECT_EQ(counters_.unrecorded.load(), 1);
  EXPECT_EQ(counters_.failed.load(), 0);
}

TEST_F(DispatcherTest, StoppingReleasesRowsNotStarted) {
  Route({{"t", handler_}});
  const int64_t first = store().Add("t");
  const int64_t second = store().Add("t");
  const int64_t third = store().Add("t");
  handler_->Script([this](const OutboxMessage&) {
    stopping_ = true;
    return HandlerOutcome::Ok();
  });
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store().Get(first).status, MessageStatus::kDone);
  for (int64_t id : {second, third}) {
    EXPECT_EQ(store().Get(id).status, MessageStatus::kReady);
    EXPECT_EQ(store().Get(id).message.attempts, 0);
  }
  EXPECT_EQ(counters_.released.load(), 2);
}

TEST_F(DispatcherTest, FailingStoreIsBackedOffOthersContinue) {
  Start({"s1", "s2"}, "round-robin", 50);
  Route({{"t", handler_}});
  store("s1").Add("t");
  const int64_t id2 = store("s2").Add("t");
  store("s1").FailNext(Op::kClaim, Status::Unavailable("tenant database file missing"), 1000);
  EXPECT_EQ(RunOnce(), 0);  // s1 fails
  EXPECT_EQ(RunOnce(), 1);  // s2 processed
  EXPECT_EQ(store("s2").Get(id2).status, MessageStatus::kDone);
  EXPECT_EQ(RunOnce(), 0);  // s1 skipped while backed off: only s2 is polled
  EXPECT_EQ(store("s1").calls(Op::kClaim), 1);
}

TEST_F(DispatcherTest, RoundRobinServesEachStore) {  // scenario 36
  Start({"s1", "s2"}, "round-robin", 50);
  Route({{"t", handler_}});
  const int64_t a = store("s1").Add("t");
  const int64_t b = store("s2").Add("t");
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store("s1").Get(a).status, MessageStatus::kDone);
  EXPECT_EQ(store("s2").Get(b).status, MessageStatus::kDone);
}

TEST_F(DispatcherTest, DrainFirstOneStoreBatchOne) {  // scenario 39
  Start({"s1"}, "drain-first", 1);
  Route({{"t", handler_}});
  for (int i = 0; i < 3; ++i) store().Add("t");
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(RunOnce(), 0);
}

TEST_F(DispatcherTest, StoreRemovedMidBatchFinishesAndSelectionContinues) {  // B4
  Start({"s1", "s2"}, "round-robin", 50);
  Route({{"t", handler_}});
  const int64_t a = store("s1").Add("t");
  FakeOutboxStore* s1 = &store("s1");
  // Hold the old set: once its batch ends the tenant set drops the removed store for good.
  std::shared_ptr<const TenantList> before = tenant_set_->Snapshot();
  handler_->Script([this](const OutboxMessage&) {
    tenants_->discovery().Set({FakeDiscoverySource::Location("s2")});
    EXPECT_TRUE(tenant_set_->Refresh().ok());
    return HandlerOutcome::Ok();
  });
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(s1->Get(a).status, MessageStatus::kDone);  // the removed store finished its batch
  EXPECT_EQ(tenant_set_->Snapshot()->size(), 1u);
  handler_->Answer(HandlerOutcome::Ok());
  const int64_t b = store("s2").Add("t");
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store("s2").Get(b).status, MessageStatus::kDone);
}

TEST_F(DispatcherTest, LeaseKeeperRenewsInFlightBatch) {
  Route({{"t", handler_}});
  const int64_t id = store().Add("t");
  handler_->Script([this](const OutboxMessage&) {
    EXPECT_EQ(leases_.in_flight(), 1u);
    store().AdvanceClock(milliseconds(20000));
    leases_.RenewAll();  // what the heartbeat does every lease/3
    store().AdvanceClock(milliseconds(20000));  // 40 s after the claim, lease 30 s: still ours
    std::vector<OutboxMessage> stolen;
    EXPECT_TRUE(store().ClaimDue(10, milliseconds(30000), "other", &stolen).ok());
    EXPECT_TRUE(stolen.empty());
    return HandlerOutcome::Ok();
  });
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store().Get(id).status, MessageStatus::kDone);
  EXPECT_EQ(leases_.renewals(), 1);
}

// ---- parked topics (hot reload, issue 4) -------------------------------------------------------

TEST_F(DispatcherTest, ParkedTopicIsHeldWithoutAnAttemptAndDeliveredWhenItsHandlerReturns) {
  std::shared_ptr<const HandlerTable> parked;
  ASSERT_TRUE(HandlerTable::Build({}, {"email.send"}, &parked).ok());
  routing_.Publish(parked);
  const int64_t a = store().Add("email.send");
  const int64_t b = store().Add("Email.Send");
  EXPECT_EQ(RunOnce(), 0);
  const std::string token = store().Get(a).owner_token;
  for (int64_t id : {a, b}) {
    EXPECT_EQ(store().Get(id).status, MessageStatus::kInProgress) << "held in the parking lot";
    EXPECT_EQ(store().Get(id).message.attempts, 0);
  }
  EXPECT_EQ(counters_.parked.load(), 2);
  EXPECT_EQ(counters_.failed.load(), 0);
  EXPECT_EQ(leases_.in_flight(), 1u) << "the lease of held rows is kept alive";
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(store().Get(a).owner_token, token) << "held rows are not claimed again";
  EXPECT_EQ(counters_.parked.load(), 2);

  Route({{"email.send", handler_}});  // the handler is back: a new routing version
  EXPECT_EQ(RunOnce(), 2);
  EXPECT_EQ(store().Get(a).status, MessageStatus::kDone);
  EXPECT_EQ(store().Get(b).status, MessageStatus::kDone);
  EXPECT_EQ(store().Get(a).message.attempts, 0);
  EXPECT_EQ(handler_->calls().size(), 2u);
  EXPECT_EQ(leases_.in_flight(), 0u);
}

// dispatch.unknown_topic "park": a topic no handler ever served is parked like a removed one.
TEST_F(DispatcherTest, UnknownTopicParkHoldsThenReleasesWithAttemptsUnchanged) {
  std::shared_ptr<const HandlerTable> table;
  ASSERT_TRUE(HandlerTable::Build({{"other.topic", handler_}}, {}, /*park_unknown=*/true, &table)
                  .ok());
  routing_.Publish(table);
  const int64_t a = store().Add("never.seen");
  const int64_t b = store().Add("never.seen");
  EXPECT_EQ(RunOnce(), 0);
  for (int64_t id : {a, b}) {
    EXPECT_EQ(store().Get(id).status, MessageStatus::kInProgress) << "held in the parking lot";
    EXPECT_EQ(store().Get(id).message.attempts, 0);
    EXPECT_FALSE(store().Get(id).message.last_error.has_value());
  }
  EXPECT_EQ(counters_.parked.load(), 2);
  EXPECT_EQ(counters_.failed.load(), 0);
  dispatcher_->ReleaseParked();
  EXPECT_EQ(store().Get(a).status, MessageStatus::kReady);
  EXPECT_EQ(store().Get(a).message.attempts, 0);

  Route({{"other.topic", handler_}, {"never.seen", handler_}});  // a handler for it is loaded
  EXPECT_EQ(RunOnce(), 2);
  for (int64_t id : {a, b}) {
    EXPECT_EQ(store().Get(id).status, MessageStatus::kDone);
    EXPECT_EQ(store().Get(id).message.attempts, 0);
  }
  ASSERT_EQ(handler_->calls().size(), 2u);
  EXPECT_EQ(counters_.failed.load(), 0);
}

TEST_F(DispatcherTest, ReleaseParkedPutsHeldRowsBackToReadyWithoutAnAttempt) {
  std::shared_ptr<const HandlerTable> parked;
  ASSERT_TRUE(HandlerTable::Build({}, {"email.send"}, &parked).ok());
  routing_.Publish(parked);
  const int64_t a = store().Add("email.send");
  EXPECT_EQ(RunOnce(), 0);
  ASSERT_EQ(store().Get(a).status, MessageStatus::kInProgress);
  dispatcher_->ReleaseParked();
  EXPECT_EQ(store().Get(a).status, MessageStatus::kReady);
  EXPECT_EQ(store().Get(a).message.attempts, 0);
  EXPECT_EQ(leases_.in_flight(), 0u);
}

TEST_F(DispatcherTest, FullParkingLotReleasesTheRestAndSkipsTheStoreInsteadOfSpinning) {
  std::shared_ptr<const HandlerTable> parked;
  ASSERT_TRUE(HandlerTable::Build({}, {"email.send"}, &parked).ok());
  routing_.Publish(parked);
  DispatchOptions options = dispatcher_->options();
  options.park_lookahead = 2;
  dispatcher_ = std::make_unique<Dispatcher>(&routing_, &leases_, &counters_, options);
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(store().Add("email.send"));
  EXPECT_EQ(RunOnce(), 0);
  int held = 0;
  for (int64_t id : ids) {
    held += store().Get(id).status == MessageStatus::kInProgress ? 1 : 0;
    EXPECT_EQ(store().Get(id).message.attempts, 0);
  }
  EXPECT_EQ(held, 2);
  const int claims = store().calls(Op::kClaim);
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(store().calls(Op::kClaim), claims) << "a store with only parked rows is skipped";
  dispatcher_->ReleaseParked();
}

TEST_F(DispatcherTest, ClaimsPastParkedRowsToReachLiveOnes) {
  Start({"s1"}, "round-robin", /*batch=*/2);
  std::shared_ptr<const HandlerTable> table;
  ASSERT_TRUE(HandlerTable::Build({{"sms.send", handler_}}, {"email.send"}, &table).ok());
  routing_.Publish(table);
  std::vector<int64_t> parked;
  for (int i = 0; i < 5; ++i) parked.push_back(store().Add("email.send"));
  const int64_t live1 = store().Add("sms.send");
  const int64_t live2 = store().Add("sms.send");
  EXPECT_EQ(RunOnce(), 2);
  EXPECT_EQ(store().Get(live1).status, MessageStatus::kDone);
  EXPECT_EQ(store().Get(live2).status, MessageStatus::kDone);
  for (int64_t id : parked) {
    EXPECT_EQ(store().Get(id).status, MessageStatus::kInProgress) << "held, not re-claimed";
    EXPECT_EQ(store().Get(id).message.attempts, 0);
  }
  // The next batch does not see the held rows again.
  const int64_t live3 = store().Add("sms.send");
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store().Get(live3).status, MessageStatus::kDone);
  EXPECT_EQ(counters_.parked.load(), 5);
  dispatcher_->ReleaseParked();
  for (int64_t id : parked) EXPECT_EQ(store().Get(id).status, MessageStatus::kReady);
  EXPECT_EQ(leases_.in_flight(), 0u);
}

TEST_F(DispatcherTest, UnknownTopicStillFailsWhenOtherTopicsAreParked) {
  std::shared_ptr<const HandlerTable> table;
  ASSERT_TRUE(HandlerTable::Build({}, {"email.send"}, &table).ok());
  routing_.Publish(table);
  const int64_t id = store().Add("never.routed");
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(store().Get(id).status, MessageStatus::kFailed);
}

}  // namespace
}  // namespace outboxd
