// HintedStrategy: NOTIFY hints are served first, in order, coalesced, and dropped when the store is
// not a candidate; otherwise the wrapped strategy decides.
#include "dispatch/hinted_strategy.h"

#include <memory>

#include <gtest/gtest.h>

namespace outboxd {
namespace {

const std::vector<std::string> kStores = {"s1", "s2", "s3", "s4"};


TEST(HintedStrategyTest, WithoutHintsTheWrappedStrategyDecides) {
  HintedStrategy hinted(std::make_unique<RoundRobinStrategy>());
  EXPECT_EQ(*hinted.SelectNext(kStores, "", 0), 0u);
  EXPECT_EQ(*hinted.SelectNext(kStores, "s1", 0), 1u);
  EXPECT_FALSE(hinted.SelectNext({}, "", 0));
}

TEST(HintedStrategyTest, HintedStoresGoFirstInHintOrderThenTheRotationResumes) {
  HintedStrategy hinted(std::make_unique<RoundRobinStrategy>());
  EXPECT_EQ(*hinted.SelectNext(kStores, "", 0), 0u);  // s1
  hinted.Hint("s4");
  hinted.Hint("s3");
  EXPECT_EQ(*hinted.SelectNext(kStores, "s1", 0), 3u);
  EXPECT_EQ(*hinted.SelectNext(kStores, "s4", 0), 2u);
  EXPECT_EQ(*hinted.SelectNext(kStores, "s3", 0), 1u);  // round-robin again: s2
}

TEST(HintedStrategyTest, RepeatedHintsForOneStoreCoalesceUntilItIsVisited) {
  HintedStrategy hinted(std::make_unique<RoundRobinStrategy>());
  for (int i = 0; i < 100; ++i) hinted.Hint("s2");
  EXPECT_EQ(hinted.pending_hints(), 1u);
  EXPECT_EQ(*hinted.SelectNext(kStores, "", 0), 1u);
  EXPECT_EQ(hinted.pending_hints(), 0u);
  hinted.Hint("s2");  // a new insert after the visit is a new hint
  EXPECT_EQ(hinted.pending_hints(), 1u);
}

TEST(HintedStrategyTest, HintsForStoresThatAreNotCandidatesAreDropped) {
  HintedStrategy hinted(std::make_unique<RoundRobinStrategy>());
  hinted.Hint("gone");
  hinted.Hint("s3");
  EXPECT_EQ(*hinted.SelectNext(kStores, "", 0), 2u);
  EXPECT_EQ(hinted.pending_hints(), 0u);
  hinted.Hint("backed-off");
  EXPECT_EQ(*hinted.SelectNext(kStores, "s3", 0), 0u);  // falls through to the rotation
}

TEST(HintedStrategyTest, ResetClearsHints) {
  HintedStrategy hinted(std::make_unique<DrainFirstStrategy>());
  hinted.Hint("s4");
  hinted.Reset();
  EXPECT_EQ(hinted.pending_hints(), 0u);
  EXPECT_EQ(*hinted.SelectNext(kStores, "", 0), 0u);
}

}  // namespace
}  // namespace outboxd
