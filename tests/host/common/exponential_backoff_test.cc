#include "common/exponential_backoff.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace outboxd {
namespace {

using std::chrono::milliseconds;

TEST(ExponentialDelayTest, DoublesFromBaseUpToTheCap) {
  const struct {
    int step;
    int64_t ms;
  } cases[] = {{-5, 1000}, {0, 1000}, {1, 2000}, {2, 4000}, {5, 32000}, {6, 60000}, {7, 60000},
               {63, 60000}, {64, 60000}, {std::numeric_limits<int>::max(), 60000}};
  for (const auto& c : cases) {
    EXPECT_EQ(ExponentialDelay(milliseconds(1000), milliseconds(60000), c.step).count(), c.ms)
        << "step " << c.step;
  }
}

TEST(ExponentialDelayTest, EdgeValuesNeverOverflow) {
  const milliseconds huge(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ExponentialDelay(milliseconds(250), huge, 1000).count(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ExponentialDelay(milliseconds(0), milliseconds(100), 10).count(), 0);
  EXPECT_EQ(ExponentialDelay(milliseconds(500), milliseconds(100), 0).count(), 100);  // base > cap
  EXPECT_EQ(ExponentialDelay(milliseconds(3), milliseconds(7), 2).count(), 7);
}

TEST(NextExponentialDelayTest, WalksTheSameSequence) {
  const milliseconds base(250);
  const milliseconds cap(5000);
  milliseconds current = base;
  for (int step = 1; step < 12; ++step) {
    current = NextExponentialDelay(current, base, cap);
    EXPECT_EQ(current, ExponentialDelay(base, cap, step)) << "step " << step;
  }
}

TEST(NextExponentialDelayTest, StartsAtBaseAndNeverPassesTheCap) {
  EXPECT_EQ(NextExponentialDelay(milliseconds(0), milliseconds(250), milliseconds(2000)).count(),
            250);
  EXPECT_EQ(NextExponentialDelay(milliseconds(1500), milliseconds(250), milliseconds(2000)).count(),
            2000);
  const milliseconds huge(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(NextExponentialDelay(huge, milliseconds(1), huge), huge);
  // The cap may shrink under a running sequence (a tenant whose NOTIFY listener died).
  EXPECT_EQ(NextExponentialDelay(milliseconds(60000), milliseconds(250), milliseconds(2000)).count(),
            2000);
}

}  // namespace
}  // namespace outboxd
