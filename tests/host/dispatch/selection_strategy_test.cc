#include "dispatch/selection_strategy.h"

#include <gtest/gtest.h>

namespace outboxd {
namespace {

const std::vector<std::string> kStores = {"s1", "s2", "s3"};

TEST(RoundRobinStrategyTest, CyclesAndResets) {  // scenario 37
  RoundRobinStrategy rr;
  std::string last;
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    auto pick = rr.SelectNext(kStores, last, 1);
    ASSERT_TRUE(pick);
    last = kStores[*pick];
    seen.push_back(last);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"s1", "s2", "s3", "s1"}));
  rr.Reset();
  EXPECT_EQ(*rr.SelectNext(kStores, last, 0), 0u);
  EXPECT_FALSE(rr.SelectNext({}, "", 0));
}

TEST(RoundRobinStrategyTest, RemovingTheLastProcessedStoreNeverBreaksSelection) {  // B4
  RoundRobinStrategy rr;
  rr.SelectNext(kStores, "", 0);
  rr.SelectNext(kStores, "s1", 0);
  rr.SelectNext(kStores, "s2", 0);  // cursor now past s3
  const std::vector<std::string> shrunk = {"s1"};
  for (int i = 0; i < 5; ++i) {
    auto pick = rr.SelectNext(shrunk, "s3", 0);
    ASSERT_TRUE(pick);
    EXPECT_EQ(*pick, 0u);
  }
}

TEST(DrainFirstStrategyTest, StaysWhileBusyThenAdvancesAndWraps) {  // scenario 38
  DrainFirstStrategy df;
  EXPECT_EQ(*df.SelectNext(kStores, "", 0), 0u);
  EXPECT_EQ(*df.SelectNext(kStores, "s1", 5), 0u);
  EXPECT_EQ(*df.SelectNext(kStores, "s1", 1), 0u);
  EXPECT_EQ(*df.SelectNext(kStores, "s1", 0), 1u);
  EXPECT_EQ(*df.SelectNext(kStores, "s2", 0), 2u);
  EXPECT_EQ(*df.SelectNext(kStores, "s3", 0), 0u);
  EXPECT_FALSE(df.SelectNext({}, "", 0));
}

TEST(DrainFirstStrategyTest, LastStoreRemovedWhileBusy) {  // B4
  DrainFirstStrategy df;
  df.SelectNext(kStores, "s2", 0);
  df.SelectNext(kStores, "s3", 0);
  const std::vector<std::string> shrunk = {"s1", "s2"};
  auto pick = df.SelectNext(shrunk, "s3", 7);
  ASSERT_TRUE(pick);
  EXPECT_LT(*pick, shrunk.size());
}

TEST(SelectionStrategyTest, FactoryKnowsBothNamesAndRejectsOthers) {
  std::unique_ptr<SelectionStrategy> s;
  EXPECT_TRUE(MakeSelectionStrategy("round-robin", &s).ok());
  EXPECT_TRUE(MakeSelectionStrategy("drain-first", &s).ok());
  Status bad = MakeSelectionStrategy("random", &s);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("random"), std::string::npos);
}

}  // namespace
}  // namespace outboxd
