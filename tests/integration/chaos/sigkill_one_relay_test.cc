// Chaos 1: two outboxd processes (A and K) share two tenants under a steady stream; K is SIGKILLed
// mid-stream and started again. A keeps delivering; what K held comes back after its lease (2 s)
// and is delivered again with the lost attempt counted; the ledger checks (chaos_env.h) hold.
// Recovery: from the kill to the first reclaimed delivery, and to the moment every message created
// before the kill is done.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "integration/support/chaos_env.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::ChaosRig;
using testing::RealtimeMs;

TEST(ChaosTest, SigkillOneOfTwoRelays) {
  std::string url;  // not used: the scenario runs on a private cluster
  OBX_REQUIRE_TEST_POSTGRES(&url);
  ChaosRig rig("sigkill one of two relays", ChaosRig::Options{});
  ASSERT_TRUE(rig.Init());
  std::unique_ptr<testing::Process> a = rig.StartRelay("A");
  std::unique_ptr<testing::Process> k = rig.StartRelay("K");
  ASSERT_FALSE(::testing::Test::HasFailure());
  rig.StartProducers();
  ASSERT_TRUE(rig.WaitForFlow(200, {a.get(), k.get()})) << ChaosRig::LogTails({a.get(), k.get()});

  // A burst in both tenants; K is killed as soon as it has delivered one of them, in the middle
  // of a full batch: it dies holding leased messages, one of them delivered but not recorded.
  ASSERT_TRUE(rig.InsertBurst(0, 40));
  ASSERT_TRUE(rig.InsertBurst(1, 40));
  ASSERT_TRUE(rig.WaitMidBatch(k.get())) << ChaosRig::LogTails({a.get(), k.get()});
  const int64_t kill_ms = RealtimeMs();
  const int k_pid = k->pid();
  const size_t k_delivered = rig.DeliveriesBy(k_pid);
  rig.Kill(k.get());
  std::unique_ptr<testing::Process> k2 = rig.StartRelay("K");
  ASSERT_FALSE(::testing::Test::HasFailure());

  const std::optional<int64_t> drained = rig.WaitBacklogDone(kill_ms);
  EXPECT_TRUE(drained.has_value()) << "messages created before the kill still not done"
                                   << ChaosRig::LogTails({a.get(), k2.get()});
  const std::optional<int64_t> reclaimed =
      rig.FirstDeliveryAfter(kill_ms, milliseconds(0), "", /*reclaimed_only=*/true);
  // The stream keeps flowing through both relays after the restart.
  EXPECT_TRUE(rig.WaitForFlow(100, {a.get(), k2.get()})) << ChaosRig::LogTails({a.get(), k2.get()});

  rig.Finish({a.get(), k2.get()},
             "SIGKILL of K (pid " + std::to_string(k_pid) + ", " + std::to_string(k_delivered) +
                 " deliveries) and restart; recovery: first reclaimed delivery " +
                 testing::MsBetween(kill_ms, reclaimed) + " after the kill (lease " +
                 rig.options().lease + "), backlog from before the kill done " +
                 testing::MsBetween(kill_ms, drained) + " after it");
  EXPECT_TRUE(reclaimed.has_value()) << "K held nothing when it was killed: nothing was reclaimed";
}

}  // namespace
}  // namespace outboxd
