// Chaos 6: a long idle-in-transaction lock on tenant-0's outbox table, under a steady stream with
// two outboxd processes and two tenants, two ways (one test each):
//  - row locks: 20 messages (due 1 s later, so no claim takes them first) are locked FOR UPDATE by
//    a client that then sits idle in its transaction for 4 s and commits. The claim skips locked
//    rows (FOR UPDATE SKIP LOCKED): the rest of tenant-0's stream is delivered meanwhile, the 20
//    are not, and they are delivered once the lock is gone;
//  - a table lock: the client takes LOCK TABLE (ACCESS EXCLUSIVE, as a migration does), idles 4 s
//    in its transaction and commits. Producers and claims on tenant-0 wait; tenant-1 is not locked
//    and must keep being delivered (a lock on one tenant's table must not stall the fleet).
// Printed: deliveries during the hold, and the recovery from the commit (first delivery of what
// was locked, and every message created before the commit done). The ledger checks
// (chaos_env.h) hold.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "integration/support/chaos_env.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::ChaosRig;
using testing::PgProbe;
using testing::Process;
using testing::RealtimeMs;

constexpr milliseconds kHold{4000};

class ChaosLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string url;  // not used: the scenario runs on a private cluster
    OBX_REQUIRE_TEST_POSTGRES(&url);
  }
  void Start(const std::string& scenario) {
    ChaosRig::Options options;
    options.lease = "15s";  // outlasts the hold with a wide margin on a loaded machine
    rig_ = std::make_unique<ChaosRig>(scenario, options);
    ASSERT_TRUE(rig_->Init());
    a_ = rig_->StartRelay("A");
    b_ = rig_->StartRelay("B");
    ASSERT_FALSE(HasFailure());
    rig_->StartProducers();
    ASSERT_TRUE(rig_->WaitForFlow(100, {a_.get(), b_.get()})) << Tails();
    holder_ = std::make_unique<PgProbe>(rig_->AdminUrl(0, "chaos-lock-holder"));
  }
  std::string Tails() { return ChaosRig::LogTails({a_.get(), b_.get()}); }

  std::unique_ptr<ChaosRig> rig_;
  std::unique_ptr<Process> a_, b_;
  std::unique_ptr<PgProbe> holder_;
};

TEST_F(ChaosLockTest, RowLocksHeldIdleInTransaction) {
  ASSERT_NO_FATAL_FAILURE(Start("idle-in-transaction row locks on outbox rows"));
  ChaosRig& rig = *rig_;
  ASSERT_TRUE(rig.InsertBurst(0, 20, "now() + interval '1 second'"));
  const std::string locked = rig.burst_prefix();
  ASSERT_TRUE(holder_->Exec("BEGIN")) << holder_->last_error();
  const std::optional<std::vector<std::vector<std::string>>> rows = holder_->Rows(
      "SELECT id FROM infra.outbox WHERE message_id LIKE '" + locked + "%' FOR UPDATE");
  ASSERT_TRUE(rows.has_value()) << holder_->last_error();
  ASSERT_EQ(rows->size(), 20u);
  const int64_t locked_ms = RealtimeMs();
  std::this_thread::sleep_for(kHold);  // idle in transaction: paced by time
  const int64_t commit_ms = RealtimeMs();
  const size_t others = rig.DeliveriesBetween(locked_ms, commit_ms, "tenant-0-");
  const size_t locked_delivered = rig.DeliveriesBetween(locked_ms, commit_ms, locked);
  ASSERT_TRUE(holder_->Exec("COMMIT")) << holder_->last_error();
  EXPECT_EQ(locked_delivered, 0u) << "a row locked by another transaction was delivered";
  EXPECT_GT(others, 0u) << "the rest of tenant-0's stream stalled behind 20 locked rows" << Tails();
  const std::optional<int64_t> first =
      rig.FirstDeliveryAfter(commit_ms, milliseconds(60000), locked);
  const std::optional<int64_t> drained = rig.WaitBacklogDone(commit_ms);
  EXPECT_TRUE(first.has_value()) << "the locked rows were never delivered";
  EXPECT_TRUE(drained.has_value()) << Tails();
  EXPECT_TRUE(rig.WaitForFlow(100, {a_.get(), b_.get()})) << Tails();

  rig.Finish({a_.get(), b_.get()},
             "20 rows locked FOR UPDATE, held 4 s idle in transaction: " + std::to_string(others) +
                 " other tenant-0 deliveries meanwhile; recovery: first locked row delivered " +
                 testing::MsBetween(commit_ms, first) + " after the commit, backlog done " +
                 testing::MsBetween(commit_ms, drained) + " after it");
}

TEST_F(ChaosLockTest, TableLockHeldIdleInTransaction) {
  ASSERT_NO_FATAL_FAILURE(Start("idle-in-transaction ACCESS EXCLUSIVE lock on one outbox table"));
  ChaosRig& rig = *rig_;
  ASSERT_TRUE(holder_->Exec("BEGIN; LOCK TABLE infra.outbox IN ACCESS EXCLUSIVE MODE"))
      << holder_->last_error();
  const int64_t locked_ms = RealtimeMs();
  std::this_thread::sleep_for(kHold);  // idle in transaction: paced by time
  const int64_t commit_ms = RealtimeMs();
  // Deliveries from 0.5 s into the hold (what was in flight at the lock is done by then).
  const size_t t0 = rig.DeliveriesBetween(locked_ms + 500, commit_ms, "tenant-0-");
  const size_t t1 = rig.DeliveriesBetween(locked_ms + 500, commit_ms, "tenant-1-");
  // Who waits on the lock at the end of the hold (outboxd's backends, and on what statement).
  PgProbe admin(rig.ServerAdminUrl());
  const auto waiting = admin.Rows(
      "SELECT datname, left(regexp_replace(query, '\\s+', ' ', 'g'), 50) FROM pg_stat_activity "
      "WHERE application_name = 'outboxd' AND wait_event_type = 'Lock' ORDER BY 1, 2");
  std::string waiters = std::to_string(waiting ? waiting->size() : 0) + " outboxd backends waiting on a lock";
  if (waiting) {
    for (const auto& row : *waiting) waiters += " [" + row[0] + ": " + row[1] + "...]";
  }
  ASSERT_TRUE(holder_->Exec("COMMIT")) << holder_->last_error();
  const std::optional<int64_t> first =
      rig.FirstDeliveryAfter(commit_ms, milliseconds(60000), "tenant-0-");
  const std::optional<int64_t> drained = rig.WaitBacklogDone(commit_ms);
  EXPECT_TRUE(drained.has_value()) << Tails();
  EXPECT_TRUE(rig.WaitForFlow(100, {a_.get(), b_.get()})) << Tails();

  rig.Finish({a_.get(), b_.get()},
             "tenant-0's table locked ACCESS EXCLUSIVE, held 4 s idle in transaction: deliveries "
             "from 0.5 s into the hold: tenant-0 " + std::to_string(t0) + ", tenant-1 " +
                 std::to_string(t1) + " (" + waiters + "); recovery: first tenant-0 delivery " +
                 testing::MsBetween(commit_ms, first) +
                 " after the commit, backlog done " + testing::MsBetween(commit_ms, drained) +
                 " after it");
  // The unlocked tenant must not wait for the locked one.
  EXPECT_GT(t1, 0u) << "tenant-1 got no delivery while tenant-0's outbox table was locked: every "
                       "worker of both relays was waiting on tenant-0's lock";
}

}  // namespace
}  // namespace outboxd
