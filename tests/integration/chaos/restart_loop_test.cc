// Chaos 2: a restart loop. Two outboxd processes (A and B) share two tenants under a steady
// stream; every 2.5 s one of them (alternately) is SIGKILLed mid-batch and started again at once,
// six times. Every kill leaves leased messages behind, reclaimed after the lease (2 s) by whoever
// is alive; the ledger checks (chaos_env.h) hold: at least once, duplicates only from the killed
// processes' leases (at most workers x batch_size per kill), nothing failed, nothing left.
// Recovery: from the last kill to the moment every message created before it is done.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "integration/support/chaos_env.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::ChaosRig;
using testing::Process;
using testing::RealtimeMs;
using testing::SteadyClock;

constexpr int kKills = 6;
constexpr milliseconds kEvery{2500};

TEST(ChaosTest, RepeatedSigkillRestartLoop) {
  std::string url;  // not used: the scenario runs on a private cluster
  OBX_REQUIRE_TEST_POSTGRES(&url);
  ChaosRig rig("repeated SIGKILL (restart loop)", ChaosRig::Options{});
  ASSERT_TRUE(rig.Init());
  std::unique_ptr<Process> relays[2] = {rig.StartRelay("A"), rig.StartRelay("B")};
  ASSERT_FALSE(::testing::Test::HasFailure());
  rig.StartProducers();
  ASSERT_TRUE(rig.WaitForFlow(100, {relays[0].get(), relays[1].get()}))
      << ChaosRig::LogTails({relays[0].get(), relays[1].get()});

  int64_t last_kill_ms = 0;
  int mid_batch = 0;
  auto next = SteadyClock::now();
  for (int i = 0; i < kKills; ++i) {
    std::this_thread::sleep_until(next);  // the disruption is paced by time
    next += kEvery;
    std::unique_ptr<Process>& victim = relays[i % 2];
    // A burst, so that the victim is killed in the middle of a full batch when it can be.
    ASSERT_TRUE(rig.InsertBurst(i % rig.tenants(), 30));
    mid_batch += rig.WaitMidBatch(victim.get(), milliseconds(2000)) ? 1 : 0;
    last_kill_ms = RealtimeMs();
    rig.Kill(victim.get());
    victim = rig.StartRelay(i % 2 == 0 ? "A" : "B");
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
  const std::optional<int64_t> drained = rig.WaitBacklogDone(last_kill_ms);
  EXPECT_TRUE(drained.has_value()) << "messages created before the last kill still not done"
                                   << ChaosRig::LogTails({relays[0].get(), relays[1].get()});
  EXPECT_TRUE(rig.WaitForFlow(100, {relays[0].get(), relays[1].get()}))
      << ChaosRig::LogTails({relays[0].get(), relays[1].get()});
  size_t reclaimed = 0;
  for (const testing::LedgerLine& d : rig.Ledger()) reclaimed += d.attempt >= 2 ? 1 : 0;

  rig.Finish({relays[0].get(), relays[1].get()},
             std::to_string(kKills) + " SIGKILLs every " + std::to_string(kEvery.count()) +
                 " ms, alternating A and B, each restarted at once (" + std::to_string(mid_batch) +
                 " mid-batch); " + std::to_string(reclaimed) +
                 " reclaimed deliveries; recovery: backlog from before the last kill done " +
                 testing::MsBetween(last_kill_ms, drained) + " after it (lease " +
                 rig.options().lease + ")");
  EXPECT_GT(reclaimed, 0u) << "no kill left a leased message behind: the loop tested nothing";
}

}  // namespace
}  // namespace outboxd
