// Chaos 4: every backend of outboxd (application_name 'outboxd') killed with pg_terminate_backend
// twice a second for 8 s, under a steady stream with two outboxd processes. Deliveries go on
// between the kills; the ledger checks (chaos_env.h) hold. Printed: backends terminated,
// deliveries during the chaos against messages produced, and the recovery from the last
// termination (first delivery after it, and every message created before it done).
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
using testing::SteadyClock;

constexpr int kRounds = 16;
constexpr milliseconds kEvery{500};

TEST(ChaosTest, BackendsTerminatedTwiceASecond) {
  std::string url;  // not used: the scenario runs on a private cluster
  OBX_REQUIRE_TEST_POSTGRES(&url);
  ChaosRig::Options options;
  options.lease = "15s";  // outlasts the disruption with a wide margin on a loaded machine
  ChaosRig rig("pg_terminate_backend twice a second", options);
  ASSERT_TRUE(rig.Init());
  std::unique_ptr<Process> a = rig.StartRelay("A");
  std::unique_ptr<Process> b = rig.StartRelay("B");
  ASSERT_FALSE(::testing::Test::HasFailure());
  rig.StartProducers();
  ASSERT_TRUE(rig.WaitForFlow(100, {a.get(), b.get()})) << ChaosRig::LogTails({a.get(), b.get()});

  PgProbe killer(rig.ServerAdminUrl());
  int64_t terminated = 0;
  const int64_t chaos_start_ms = RealtimeMs();
  const int64_t produced_before = rig.Acked();
  int64_t last_ms = 0;
  auto next = SteadyClock::now();
  for (int i = 0; i < kRounds; ++i) {
    std::this_thread::sleep_until(next);  // the disruption is paced by time
    next += kEvery;
    last_ms = RealtimeMs();
    std::optional<int64_t> n = killer.Scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'outboxd' AND pid <> pg_backend_pid()");
    ASSERT_TRUE(n.has_value()) << killer.last_error();
    terminated += *n;
  }
  const size_t during = rig.DeliveriesBetween(chaos_start_ms, last_ms);
  const int64_t produced = rig.Acked() - produced_before;
  EXPECT_GT(terminated, 0) << "no outboxd backend to terminate";

  const std::optional<int64_t> first = rig.FirstDeliveryAfter(last_ms, milliseconds(60000));
  const std::optional<int64_t> drained = rig.WaitBacklogDone(last_ms);
  EXPECT_TRUE(drained.has_value()) << "messages created before the last termination not done"
                                   << ChaosRig::LogTails({a.get(), b.get()});
  EXPECT_TRUE(rig.WaitForFlow(100, {a.get(), b.get()})) << ChaosRig::LogTails({a.get(), b.get()});

  rig.Finish({a.get(), b.get()},
             std::to_string(terminated) + " outboxd backends terminated in " +
                 std::to_string(kRounds) + " rounds every " + std::to_string(kEvery.count()) +
                 " ms; " + std::to_string(during) + " deliveries during the " +
                 std::to_string(last_ms - chaos_start_ms) + " ms of chaos (" +
                 std::to_string(produced) + " produced); recovery: first delivery " +
                 testing::MsBetween(last_ms, first) + " after the last termination, backlog done " +
                 testing::MsBetween(last_ms, drained) + " after it; " +
                 std::to_string(rig.CountInLogs("unavailable")) + " 'unavailable' log lines");
}

}  // namespace
}  // namespace outboxd
