#include "observe/backlog_tracker.h"

#include <gtest/gtest.h>

#include "fakes/fake_outbox_store.h"
#include "fakes/fake_tenant_set.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::FakeTenantSet;
using Op = testing::FakeOutboxStore::Op;
using Clock = BacklogTracker::Clock;

constexpr milliseconds kInterval{1000};

class BacklogTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tenants_.Start({"a", "b", "c"}).ok());
    tracker_ = std::make_unique<BacklogTracker>(tenants_.tenant_set(),
                                                BacklogTrackerOptions{kInterval, 2});
  }

  // One round in which every tenant is due (phases lie within one interval, plus jitter).
  void Round() {
    now_ += kInterval + kInterval / 10;
    tracker_->RunDue(now_);
  }
  int Queries(const std::string& id) { return tenants_.store(id).calls(Op::kBacklog); }

  FakeTenantSet tenants_;
  std::unique_ptr<BacklogTracker> tracker_;
  Clock::time_point now_ = Clock::now();
};

TEST_F(BacklogTrackerTest, EachTenantIsQueriedOncePerIntervalWithItsRealCounts) {
  tenants_.store("a").Add("t");
  tenants_.store("a").Add("t");
  tracker_->RunDue(now_);  // assigns the phases
  Round();
  EXPECT_EQ(Queries("a"), 1);
  EXPECT_EQ(Queries("b"), 1);
  EXPECT_EQ(Queries("c"), 1);
  TenantBacklog a = tracker_->Get("a");
  EXPECT_TRUE(a.known);
  EXPECT_EQ(a.backlog.ready_due, 2);
  tracker_->RunDue(now_);  // nothing is due again yet
  EXPECT_EQ(Queries("a"), 1);
  Round();
  EXPECT_EQ(Queries("a"), 2);
  EXPECT_EQ(tracker_->queries(), 6);
}

TEST_F(BacklogTrackerTest, AnEmptyClaimAnswersInsteadOfAQueryUpToMaxSkips) {
  tracker_->RunDue(now_);
  Round();
  ASSERT_EQ(Queries("b"), 1);
  tracker_->OnClaim("b", 0);
  Round();
  EXPECT_EQ(Queries("b"), 1) << "the empty claim told the answer";
  EXPECT_EQ(tracker_->skipped(), 1);
  tracker_->OnClaim("b", 0);
  Round();
  EXPECT_EQ(Queries("b"), 1);
  tracker_->OnClaim("b", 0);
  Round();
  EXPECT_EQ(Queries("b"), 2) << "max_skips (2) reached: one real query";
  tracker_->OnClaim("b", 5);
  tracker_->OnClaim("b", 0);
  Round();
  EXPECT_EQ(Queries("b"), 3) << "rows were claimed since the last sample: query";
  EXPECT_EQ(Queries("c"), 5) << "no claim at all: queried every round";
}

TEST_F(BacklogTrackerTest, AFailingQueryBacksTheTenantOffAndCountsAnError) {
  tracker_->RunDue(now_);
  tenants_.store("c").FailNext(Op::kBacklog, Status::Unavailable("gone"));
  Round();
  std::shared_ptr<Tenant> c;
  const std::shared_ptr<const TenantList> snapshot = tenants_.tenant_set()->Snapshot();
  for (const auto& s : *snapshot) {
    if (s->id() == "c") c = s;
  }
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->errors(), 1);
  EXPECT_EQ(c->health().failures, 1);
  EXPECT_EQ(c->health().last_error, "gone");
  EXPECT_FALSE(tracker_->Get("c").known);
  Round();
  EXPECT_EQ(Queries("c"), 1) << "backed off: not queried";
}

}  // namespace
}  // namespace outboxd
