// Chaos 3: PostgreSQL stopped (pg_ctl stop -m fast) and started again 3 s later on the same port,
// under a steady stream with two outboxd processes. Before the stop, 20 messages per tenant are
// inserted due 1 s later, so that work is waiting the moment the server is back; and the stop comes
// while a relay is in the middle of a full batch (30 messages due at once), whose outcomes must be
// recorded once the server is back rather than delivered again: the lease (15 s) outlasts the
// outage, so any duplicate is an outcome outboxd dropped (strict ledger, chaos_env.h). Measured and
// printed (issue 13's target is <= 1 s; not asserted, the machine is shared): the time from the
// server accepting connections (first successful PQping, polled every 5 ms) to the first delivery
// after it. The ledger checks (chaos_env.h) hold.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
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

constexpr milliseconds kDown{3000};
// Longer than the outage with a wide margin: on a loaded 2-core machine stopping and starting the
// server took up to 1.9 s on top of kDown, and outcomes are retried only while the lease surely
// holds.
constexpr milliseconds kLease{15000};

TEST(ChaosTest, PostgresStoppedAndRestarted) {
  std::string url;  // not used: the scenario runs on a private cluster
  OBX_REQUIRE_TEST_POSTGRES(&url);
  ChaosRig::Options options;
  options.lease = std::to_string(kLease.count() / 1000) + "s";  // outlasts the outage
  ChaosRig rig("PostgreSQL stopped and restarted", options);
  ASSERT_TRUE(rig.Init());
  std::unique_ptr<Process> a = rig.StartRelay("A");
  std::unique_ptr<Process> b = rig.StartRelay("B");
  ASSERT_FALSE(::testing::Test::HasFailure());
  rig.StartProducers();
  ASSERT_TRUE(rig.WaitForFlow(100, {a.get(), b.get()})) << ChaosRig::LogTails({a.get(), b.get()});

  for (int i = 0; i < rig.tenants(); ++i)
    ASSERT_TRUE(rig.InsertBurst(i, 20, "now() + interval '1 second'"));
  // The server goes down while a relay is in the middle of a full batch (a burst due at once): its
  // outcomes must still be recorded, not delivered again (the lease outlasts the outage).
  ASSERT_TRUE(rig.InsertBurst(0, 30));
  ASSERT_TRUE(rig.WaitMidBatch(nullptr)) << ChaosRig::LogTails({a.get(), b.get()});
  const int64_t stop_ms = RealtimeMs();
  ASSERT_TRUE(rig.cluster().Stop());
  const int64_t stopped_ms = RealtimeMs();
  std::this_thread::sleep_for(kDown);  // the outage: paced by time

  // Accepting connections: the first PQping that answers PQPING_OK, polled from before the start.
  const std::string ping_url = rig.ServerAdminUrl();
  std::atomic<int64_t> accept_ms{0};
  std::atomic<bool> stop_ping{false};
  std::thread pinger([&] {
    while (!stop_ping && accept_ms == 0) {
      if (PQping(ping_url.c_str()) == PQPING_OK) {
        accept_ms = RealtimeMs();
      } else {
        std::this_thread::sleep_for(milliseconds(5));
      }
    }
  });
  const int64_t start_ms = RealtimeMs();
  const bool started = rig.cluster().Start();
  testing::Eventually([&] { return accept_ms != 0; }, milliseconds(30000), milliseconds(5));
  stop_ping = true;
  pinger.join();
  ASSERT_TRUE(started) << "the server did not start again";
  ASSERT_NE(accept_ms.load(), 0) << "the server never accepted a connection after its start";
  if (accept_ms - stop_ms >= kLease.count() - 2000) {
    // The premise failed (the machine was slow enough that the outage outlasted the lease): the
    // in-flight batch's outcomes could not be recorded in time. outboxd must then say so.
    std::printf("[ chaos ] the outage (%lld ms) outlasted the lease: duplicates are allowed when "
                "announced\n",
                static_cast<long long>(accept_ms - stop_ms));
    rig.AllowAnnouncedDuplicates();
  }

  const std::optional<int64_t> first =
      rig.FirstDeliveryAfter(accept_ms, milliseconds(90000));
  EXPECT_TRUE(first.has_value()) << "no delivery after the restart"
                                 << ChaosRig::LogTails({a.get(), b.get()});
  const std::optional<int64_t> drained = rig.WaitBacklogDone(accept_ms);
  EXPECT_TRUE(drained.has_value()) << "messages created before the restart still not done"
                                   << ChaosRig::LogTails({a.get(), b.get()});
  EXPECT_TRUE(rig.WaitForFlow(100, {a.get(), b.get()})) << ChaosRig::LogTails({a.get(), b.get()});

  rig.Finish({a.get(), b.get()},
             "server down " + std::to_string(accept_ms - stopped_ms) + " ms (stop took " +
                 std::to_string(stopped_ms - stop_ms) + " ms, start to accepting " +
                 std::to_string(accept_ms - start_ms) + " ms); recovery: first delivery " +
                 testing::MsBetween(accept_ms.load(), first) +
                 " after the server accepted connections (target <= 1000 ms), backlog done " +
                 testing::MsBetween(accept_ms.load(), drained) + " after it; " +
                 std::to_string(rig.CountInLogs("unavailable")) + " 'unavailable' log lines");
}

}  // namespace
}  // namespace outboxd
