// daemon/drain_report.h: what `outboxd --drain` says while it waits (issue 14, finding 15).
#include "daemon/drain_report.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace outboxd {
namespace {

using std::chrono::milliseconds;

// 2026-12-03T16:00:00Z
const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::time_point(std::chrono::seconds(1796313600));

DrainTenant Tenant(const std::string& id, int64_t in_progress, int64_t lease_left_ms,
                   int64_t ready_due = 0) {
  DrainTenant t;
  t.id = id;
  t.checked = true;
  t.backlog.in_progress = in_progress;
  t.backlog.latest_lease_left_ms = lease_left_ms;
  t.backlog.ready_due = ready_due;
  return t;
}

TEST(DrainReportTest, NothingLeftSaysNothing) {
  EXPECT_EQ(DescribeDrainWait({Tenant("a", 0, 0), Tenant("b", 0, 0)}, 0, kNow), "");
  EXPECT_EQ(DescribeDrainWait({}, 0, kNow), "");
}

TEST(DrainReportTest, ARowLeasedAnHourAheadIsNamedWithItsLeaseEnd) {
  EXPECT_EQ(DescribeDrainWait({Tenant("idle", 0, 0), Tenant("acme", 1, 3600000 - 250)}, 0, kNow),
            "Drain: waiting for 1 message in progress under a lease in 1 outbox database (0 of "
            "them handled by this process now): 'acme' 1 in progress, leased until "
            "2026-12-03T17:00:00Z (in 1h). A lease may be held by another process that still "
            "completes its messages, so --drain waits until they are done or their leases run "
            "out (SIGTERM stops now)");
}

TEST(DrainReportTest, LongestLeaseFirstThenDueThenUncheckedAndALimit) {
  DrainTenant broken;
  broken.id = "broken";
  broken.error = "database is locked";
  const std::string line = DescribeDrainWait(
      {Tenant("short", 2, 5000), Tenant("due", 0, 0, 7), broken, Tenant("long", 3, 60000, 4),
       Tenant("expired", 1, -20)},
      2, kNow);
  EXPECT_EQ(line.rfind("Drain: waiting for 6 messages in progress under a lease in 3 outbox "
                       "databases (2 of them handled by this process now) and 11 messages due: "
                       "'long' 3 in progress, leased until 2026-12-03T16:01:00Z (in 1m); 'short' 2 "
                       "in progress, leased until 2026-12-03T16:00:05Z (in 5s); 'expired' 1 in "
                       "progress, leases ran out (claimable again); 'due' 7 due; 'broken' cannot "
                       "be checked: database is locked. ",
                       0),
            0u)
      << line;
  const std::string cut =
      DescribeDrainWait({Tenant("a", 1, 1000), Tenant("b", 1, 1000), Tenant("c", 1, 1000)}, 0,
                        kNow, /*max_listed=*/2);
  EXPECT_NE(cut.find("'a' 1 in progress"), std::string::npos) << cut;
  EXPECT_NE(cut.find("'b' 1 in progress"), std::string::npos) << cut;
  EXPECT_EQ(cut.find("'c'"), std::string::npos) << cut;
  EXPECT_NE(cut.find("; and 1 more."), std::string::npos) << cut;
}

TEST(DrainReportTest, OnlyDueMessagesNeedNoLeaseExplanation) {
  EXPECT_EQ(DescribeDrainWait({Tenant("t", 0, 0, 3)}, 0, kNow),
            "Drain: waiting for 3 messages due: 't' 3 due");
}

}  // namespace
}  // namespace outboxd
