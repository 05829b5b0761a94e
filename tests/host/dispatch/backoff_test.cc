#include "dispatch/backoff.h"

#include <gtest/gtest.h>

namespace outboxd {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, MatchesReferenceRanges) {  // scenario 34
  EXPECT_EQ(ComputeBackoff(1, 0), milliseconds(500));
  EXPECT_EQ(ComputeBackoff(1, 249), milliseconds(749));
  EXPECT_EQ(ComputeBackoff(2, 0), milliseconds(1000));
  EXPECT_EQ(ComputeBackoff(3, 0), milliseconds(2000));
  EXPECT_EQ(ComputeBackoff(4, 0), milliseconds(4000));
  EXPECT_EQ(ComputeBackoff(8, 0), milliseconds(60000));
  EXPECT_EQ(ComputeBackoff(10, 249), milliseconds(60249));
  EXPECT_EQ(ComputeBackoff(1000, 0), milliseconds(60000));
}

TEST(BackoffTest, JitterIsClampedBelow250) {
  EXPECT_EQ(ComputeBackoff(1, 5000), milliseconds(749));
  EXPECT_EQ(ComputeBackoff(1, -3), milliseconds(500));
}

TEST(BackoffTest, DefaultBackoffStaysInRange) {
  for (int attempt = 1; attempt <= 12; ++attempt) {
    for (int i = 0; i < 200; ++i) {
      const auto d = DefaultBackoff(attempt);
      const auto base = ComputeBackoff(attempt, 0);
      EXPECT_GE(d, base);
      EXPECT_LT(d, base + milliseconds(250));
      EXPECT_LT(d, milliseconds(120000));
    }
  }
}

}  // namespace
}  // namespace outboxd
