#include "dispatch/tenant_schedule.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "fakes/fake_outbox_store.h"
#include "fakes/fake_schedule_clock.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::FakeOutboxStore;
using testing::FakeScheduleClock;
using Visit = TenantSchedule::Visit;
using Result = TenantSchedule::Result;

constexpr int kBatch = 10;

Result Empty() { return Result{0, false, milliseconds(-1)}; }
Result Full() { return Result{kBatch, false, milliseconds(-1)}; }
Result Some(int n) { return Result{n, false, milliseconds(-1)}; }
Result Failed() { return Result{0, true, milliseconds(-1)}; }

class TenantScheduleTest : public ::testing::Test {
 protected:
  // `conn` by id: the connection string (server) of each tenant; "" = SQLite-like.
  void Build(const std::vector<std::string>& ids, const std::string& strategy = "fair",
             std::map<std::string, std::string> conn = {}) {
    std::unique_ptr<SelectionStrategy> order;
    ASSERT_TRUE(MakeSelectionStrategy(strategy, &order).ok());
    ScheduleOptions options;
    options.poll_interval = milliseconds(250);
    options.max_poll_interval = milliseconds(2000);
    options.notify_safety_interval = milliseconds(60000);
    options.batch_size = kBatch;
    options.failure_backoff = [](int n) { return milliseconds(1000) * n; };
    options.uniform = [this] { return uniform_; };
    schedule_ = std::make_unique<TenantSchedule>(std::move(order), options, &clock_);
    for (const std::string& id : ids) Add(id, conn.count(id) ? conn[id] : "sqlite:/" + id);
    schedule_->Sync(stores_);
  }
  void Add(const std::string& id, const std::string& conn, bool serializes_writes = false) {
    TenantLocation location;
    location.identifier = id;
    location.connection_string = conn;
    auto store = std::make_unique<FakeOutboxStore>(id);
    store->set_serializes_writes(serializes_writes);
    stores_.push_back(std::make_shared<Tenant>(location, std::move(store)));
  }
  std::string Take(Visit* visit = nullptr) {
    std::optional<Visit> v = schedule_->Take();
    if (!v) return "";
    if (visit != nullptr) *visit = *v;
    return v->store->id();
  }
  // Takes `id` (it must be next) and ends the visit with `r`.
  void VisitNext(const std::string& id, Result r) {
    Visit v;
    ASSERT_EQ(Take(&v), id);
    schedule_->Done(v, r);
  }
  milliseconds DueIn(const std::string& id) {
    std::optional<TenantSchedule::TimePoint> due = schedule_->DueAt(id);
    if (!due) return milliseconds(-1);
    return std::chrono::duration_cast<milliseconds>(*due - clock_.Now());
  }

  FakeScheduleClock clock_;
  double uniform_ = 1.0;  // jitter factor 1.0: delays exactly as configured
  std::vector<std::shared_ptr<Tenant>> stores_;
  std::unique_ptr<TenantSchedule> schedule_;
};

TEST_F(TenantScheduleTest, NewTenantsAreReadyAtOnceAndTakenOnce) {
  Build({"a", "b", "c"});
  EXPECT_EQ(Take(), "a");
  EXPECT_EQ(Take(), "b");
  EXPECT_EQ(Take(), "c");
  EXPECT_EQ(Take(), "");  // each is being visited: never handed out twice
}

TEST_F(TenantScheduleTest, OverdueOrderFollowsDueTime) {
  Build({"a", "b", "c"});
  Visit a, b, c;
  ASSERT_EQ(Take(&a), "a");
  ASSERT_EQ(Take(&b), "b");
  ASSERT_EQ(Take(&c), "c");
  schedule_->Done(c, Empty());  // c due at +250
  clock_.Advance(milliseconds(100));
  schedule_->Done(a, Empty());  // a due at +350
  clock_.Advance(milliseconds(10));
  schedule_->Done(b, Empty());  // b due at +360
  EXPECT_EQ(Take(), "");
  clock_.Advance(milliseconds(1000));
  EXPECT_EQ(Take(), "c");
  EXPECT_EQ(Take(), "a");
  EXPECT_EQ(Take(), "b");
}

TEST_F(TenantScheduleTest, IdleBackOffIsPerTenantAndDoublesToTheCeiling) {
  Build({"idle", "busy"});
  std::vector<milliseconds> delays;
  VisitNext("idle", Empty());
  VisitNext("busy", Some(3));
  EXPECT_EQ(DueIn("busy"), milliseconds(250));  // found work: back to poll_interval
  for (int i = 0; i < 5; ++i) {
    delays.push_back(DueIn("idle"));
    clock_.Set(*schedule_->DueAt("idle"));
    Visit v;
    while (Take(&v) != "") schedule_->Done(v, v.store->id() == "idle" ? Empty() : Some(3));
  }
  EXPECT_EQ(delays, (std::vector<milliseconds>{milliseconds(250), milliseconds(500),
                                               milliseconds(1000), milliseconds(2000),
                                               milliseconds(2000)}));
  EXPECT_LE(DueIn("busy"), milliseconds(250));  // the idle tenant's back-off is its own
}

TEST_F(TenantScheduleTest, EmptyClaimPushesBackOnlyThatTenant) {
  Build({"a", "b"});
  VisitNext("a", Empty());
  EXPECT_EQ(Take(), "b");  // b is still ready at once
  EXPECT_EQ(DueIn("a"), milliseconds(250));
}

TEST_F(TenantScheduleTest, JitterStaysWithinHalfToAllOfTheDelayAndSpreadsTenants) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back("t" + std::to_string(i));
  Build(ids);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  // Four empty claims each: the delay before jitter reaches the 2 s ceiling.
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 1000; ++i) {
      uniform_ = u(rng);
      Visit v;
      ASSERT_NE(Take(&v), "");
      schedule_->Done(v, Empty());
    }
    clock_.Advance(milliseconds(2000));
  }
  clock_.Advance(milliseconds(-2000));
  milliseconds lo = milliseconds::max(), hi = milliseconds::min();
  for (const std::string& id : ids) {
    // The last empty claim was at the clock's current time (all Done calls of the round share it).
    const milliseconds d = DueIn(id);
    EXPECT_GE(d, milliseconds(1000)) << id;  // 0.5 x 2000
    EXPECT_LE(d, milliseconds(2000)) << id;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, milliseconds(1100));  // spread over the interval, not in phase
  EXPECT_GT(hi, milliseconds(1900));
}

TEST_F(TenantScheduleTest, NotifyMakesAnIdleTenantReadyAtOnce) {
  Build({"a", "b"});
  VisitNext("a", Empty());
  VisitNext("b", Empty());
  EXPECT_EQ(Take(), "");
  schedule_->Notify("b");
  EXPECT_EQ(Take(), "b");  // no time passed
}

TEST_F(TenantScheduleTest, NotifyDuringAVisitMakesTheTenantReadyWhenItEnds) {
  Build({"a"});
  Visit v;
  ASSERT_EQ(Take(&v), "a");
  schedule_->Notify("a");   // the row may have been inserted after the claim
  EXPECT_EQ(Take(), "");    // still not handed to a second worker
  schedule_->Done(v, Empty());
  EXPECT_EQ(Take(), "a");
}

TEST_F(TenantScheduleTest, ListenedTenantIsPolledOnlyAtTheSafetyInterval) {
  Build({"a", "b"});
  schedule_->Notify("a");
  EXPECT_TRUE(schedule_->listened("a"));
  VisitNext("a", Empty());
  VisitNext("b", Empty());
  EXPECT_EQ(DueIn("a"), milliseconds(60000));
  EXPECT_EQ(DueIn("b"), milliseconds(250));
  // A failure forgets the listener until the next NOTIFY.
  schedule_->Notify("a");
  VisitNext("a", Failed());
  EXPECT_FALSE(schedule_->listened("a"));
}

TEST_F(TenantScheduleTest, FullClaimIsReadyAgainAtOnce) {
  Build({"a"});
  VisitNext("a", Full());
  EXPECT_EQ(Take(), "a");
}

TEST_F(TenantScheduleTest, ShortRetryMakesTheTenantDueThen) {
  Build({"a"});
  Visit v;
  ASSERT_EQ(Take(&v), "a");
  schedule_->Done(v, Result{1, false, milliseconds(40)});
  EXPECT_EQ(DueIn("a"), milliseconds(40));
}

TEST_F(TenantScheduleTest, FailureBackOffIsPerTenantAndGrows) {
  Build({"bad", "good"});
  VisitNext("bad", Failed());
  EXPECT_EQ(DueIn("bad"), milliseconds(1000));
  EXPECT_EQ(Take(), "good");
  clock_.Advance(milliseconds(1000));
  VisitNext("bad", Failed());
  EXPECT_EQ(DueIn("bad"), milliseconds(2000));
  EXPECT_EQ(schedule_->failures("bad"), 2);
}

TEST_F(TenantScheduleTest, ServerRecoveryRetriesItsBackedOffTenantsAtOnce) {
  Build({"a", "b", "other"}, "fair",
        {{"a", "postgresql://u:secret@db1:5432/t1"},
         {"b", "postgresql://u@db1:5432/t2?sslmode=disable"},
         {"other", "postgresql://db2:5432/t3"}});
  VisitNext("a", Failed());
  VisitNext("b", Failed());
  VisitNext("other", Failed());
  clock_.Advance(milliseconds(1000));
  VisitNext("a", Failed());  // a's second failure: due 2 s later; b and other due now
  // b succeeds after its failure: the server is back, a is retried at once; db2 is not concerned.
  Visit other;
  VisitNext("b", Empty());
  EXPECT_EQ(Take(&other), "other");  // it was due anyway (same time as b)
  schedule_->Done(other, Failed());
  EXPECT_EQ(Take(), "a");
  EXPECT_EQ(Take(), "");
  EXPECT_EQ(DueIn("other"), milliseconds(2000));
}

TEST_F(TenantScheduleTest, NotifyRecoversABackedOffTenant) {  // the listener reconnected
  Build({"a"});
  VisitNext("a", Failed());
  ASSERT_GT(DueIn("a"), milliseconds(0));
  schedule_->Notify("a");
  EXPECT_EQ(Take(), "a");
}

TEST_F(TenantScheduleTest, FairBacklogDelaysASingleMessageByOneBatchAtMost) {
  std::vector<std::string> ids = {"big"};
  for (int i = 0; i < 9; ++i) ids.push_back("s" + std::to_string(i));
  Build(ids);
  // Two workers. Everyone's first visit: big is full, the small tenants are empty.
  Visit w1, w2;
  ASSERT_EQ(Take(&w1), "big");
  for (int i = 0; i < 9; ++i) VisitNext("s" + std::to_string(i), Empty());
  schedule_->Done(w1, Full());
  // From now on big always comes back full. A small tenant gets a message (NOTIFY) while big's
  // batch runs on w1: the next free worker takes it before big's next batch.
  for (int round = 0; round < 20; ++round) {
    ASSERT_EQ(Take(&w1), "big");
    const std::string small = "s" + std::to_string(round % 9);
    schedule_->Notify(small);
    ASSERT_EQ(Take(&w2), small) << round;
    schedule_->Done(w1, Full());
    schedule_->Done(w2, Some(1));
  }
}

TEST_F(TenantScheduleTest, NoStarvationAmongBacklogs) {
  for (const char* strategy : {"fair", "round-robin"}) {
    stores_.clear();
    Build({"a", "b", "c"}, strategy);
    std::map<std::string, int> visits;
    for (int i = 0; i < 30; ++i) {
      Visit v;
      const std::string id = Take(&v);
      ASSERT_NE(id, "") << strategy;
      ++visits[id];
      schedule_->Done(v, Full());
    }
    EXPECT_EQ(visits, (std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}})) << strategy;
  }
}

TEST_F(TenantScheduleTest, DrainFirstStaysOnATenantWhileItHasRows) {
  Build({"a", "b"}, "drain-first");
  VisitNext("a", Some(3));
  VisitNext("a", Some(1));
  VisitNext("a", Empty());
  EXPECT_EQ(Take(), "b");
}

TEST_F(TenantScheduleTest, AFreeWorkerJoinsABacklogOnlyWhenNothingElseIsReady) {
  Build({"big", "x"});
  Visit w1, w2;
  ASSERT_EQ(Take(&w1), "big");
  VisitNext("x", Empty());
  schedule_->Done(w1, Full());
  ASSERT_EQ(Take(&w1), "big");  // hot, being visited
  EXPECT_EQ(Take(&w2), "big");  // nothing else ready: a second worker joins it
  schedule_->Done(w2, Full());
  schedule_->Notify("x");
  EXPECT_EQ(Take(&w2), "x");    // something ready: it goes first
}

TEST_F(TenantScheduleTest, AStoreThatWritesOneAtATimeGetsASecondWorkerOnlyWhileHandlersTakeTheTime) {
  Build({});
  Add("file", "sqlite:/file", /*serializes_writes=*/true);
  Add("server", "postgresql://h/db");
  schedule_->Sync(stores_);
  Result store_bound = Full();
  store_bound.store_bound = true;
  Visit w1, w2;
  ASSERT_EQ(Take(&w1), "file");
  schedule_->Done(w1, store_bound);
  VisitNext("server", Empty());
  ASSERT_EQ(Take(&w1), "file");  // a full batch: requeued
  EXPECT_EQ(Take(&w2), "") << "a second worker would only queue for the one writer";
  Result handler_bound = Full();  // store_bound false: the handlers took the time
  schedule_->Done(w1, handler_bound);
  ASSERT_EQ(Take(&w1), "file");
  EXPECT_EQ(Take(&w2), "file") << "slow handlers: a second worker overlaps them";
  schedule_->Done(w2, store_bound);
  schedule_->Done(w1, store_bound);
  // A store that writes in parallel (PostgreSQL) gets the second worker either way.
  schedule_->Notify("server");
  ASSERT_EQ(Take(&w1), "file");
  ASSERT_EQ(Take(&w2), "server");
  schedule_->Done(w2, store_bound);
  ASSERT_EQ(Take(&w2), "server");
  Visit w3;
  EXPECT_EQ(Take(&w3), "server");
}

TEST_F(TenantScheduleTest, AddedAndRemovedTenantsFollowDiscovery) {
  Build({"a", "b"});
  Visit a;
  ASSERT_EQ(Take(&a), "a");
  stores_.erase(stores_.begin());  // a removed while being visited, b removed while ready
  stores_.erase(stores_.begin());
  Add("c", "sqlite:/c");
  schedule_->Sync(stores_);
  EXPECT_EQ(schedule_->size(), 1u);
  schedule_->Done(a, Full());  // a stale visit is ignored
  EXPECT_EQ(Take(), "c");      // new: ready at once
  EXPECT_EQ(Take(), "");       // never a or b
  EXPECT_EQ(schedule_->busy(), 1);
}

TEST_F(TenantScheduleTest, RecreatedStoreUnderTheSameIdIsANewTenant) {
  Build({"a"});
  Visit old;
  ASSERT_EQ(Take(&old), "a");
  stores_.clear();
  Add("a", "sqlite:/a2");
  schedule_->Sync(stores_);
  Visit fresh;
  ASSERT_EQ(Take(&fresh), "a");
  EXPECT_EQ(fresh.store, stores_[0]);
  schedule_->Done(old, Full());  // the old incarnation's visit does not requeue the new one
  EXPECT_EQ(Take(), "");
}

TEST(ServerKeyTest, HostAndPortWithoutCredentials) {
  EXPECT_EQ(ServerKeyOf("postgresql://u:pw@db1:5432/x?sslmode=disable"), "pg:db1:5432");
  EXPECT_EQ(ServerKeyOf("postgres://db1/x"), "pg:db1");
  EXPECT_EQ(ServerKeyOf("host=db1 port=5433 dbname=x password=pw"), "pg:db1:5433");
  EXPECT_EQ(ServerKeyOf("sqlite:/var/lib/t.db"), "");
}

}  // namespace
}  // namespace outboxd
