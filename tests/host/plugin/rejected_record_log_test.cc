#include "plugin/rejected_record_log.h"

#include <gtest/gtest.h>

namespace outboxd {
namespace {

using Clock = RejectedRecordLog::Clock;
using std::chrono::minutes;

TEST(RejectedRecordLogTest, LogsOnceThenOnChangeOrAfterTheRepeatInterval) {
  RejectedRecordLog log;
  const Clock::time_point t0 = Clock::now();
  bool repeat = true;
  log.StartListing();
  EXPECT_TRUE(log.ShouldLog("bad id|conn", t0, &repeat));
  EXPECT_FALSE(repeat);
  EXPECT_TRUE(log.ShouldLog("other", t0, &repeat));
  log.EndListing();
  EXPECT_EQ(RejectedRecordLog::RejectedInLastListing(), 2);

  log.StartListing();
  EXPECT_FALSE(log.ShouldLog("bad id|conn", t0 + minutes(1), &repeat));  // unchanged: quiet
  EXPECT_TRUE(repeat);
  EXPECT_TRUE(log.ShouldLog("bad id|conn2", t0 + minutes(1), &repeat));  // changed: logged
  EXPECT_FALSE(repeat);
  EXPECT_TRUE(log.ShouldLog("other", t0 + RejectedRecordLog::kRepeatEvery, &repeat));
  EXPECT_TRUE(repeat);
  log.EndListing();
  EXPECT_EQ(RejectedRecordLog::RejectedInLastListing(), 3);
}

TEST(RejectedRecordLogTest, ARecordThatWasFixedIsLoggedAgainWhenItBreaksAgain) {
  RejectedRecordLog log;
  const Clock::time_point t0 = Clock::now();
  bool repeat = false;
  log.StartListing();
  EXPECT_TRUE(log.ShouldLog("r", t0, &repeat));
  log.EndListing();
  log.StartListing();  // "r" is valid in this listing
  log.EndListing();
  EXPECT_EQ(RejectedRecordLog::RejectedInLastListing(), 0);
  log.StartListing();
  EXPECT_TRUE(log.ShouldLog("r", t0 + minutes(1), &repeat));
  EXPECT_FALSE(repeat);
  log.EndListing();
}

TEST(RejectedRecordLogTest, EveryRejectionIsCounted) {
  RejectedRecordLog log;
  const int64_t before = RejectedRecordLog::RejectedTotal();
  bool repeat = false;
  for (int i = 0; i < 4; ++i) {
    log.StartListing();
    log.ShouldLog("r", Clock::now(), &repeat);
    log.EndListing();
  }
  EXPECT_EQ(RejectedRecordLog::RejectedTotal() - before, 4);
}

}  // namespace
}  // namespace outboxd
