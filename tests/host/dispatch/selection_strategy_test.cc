#include "dispatch/selection_strategy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace outboxd {
namespace {

std::vector<std::string> PopAll(SelectionStrategy* s) {
  std::vector<std::string> out;
  while (std::optional<std::string> id = s->Pop()) out.push_back(*id);
  return out;
}

TEST(FairStrategyTest, OldestReadyFirstAndAFullTenantQueuesBehindTheOthers) {
  FairStrategy fair;
  fair.Push("big");
  fair.Push("a");
  ASSERT_EQ(fair.Pop(), "big");
  fair.Push("b");  // became ready while big's batch ran
  EXPECT_TRUE(fair.Requeue("big", 50, /*full=*/true));
  EXPECT_EQ(PopAll(&fair), (std::vector<std::string>{"a", "b", "big"}));
}

TEST(FairStrategyTest, AShortOrEmptyClaimEndsTheTurn) {
  FairStrategy fair;
  EXPECT_FALSE(fair.Requeue("a", 3, false));
  EXPECT_FALSE(fair.Requeue("a", 0, false));
  EXPECT_EQ(fair.ready(), 0u);
}

TEST(FairStrategyTest, RemovedTenantIsNeverHandedOut) {
  FairStrategy fair;
  fair.Push("a");
  fair.Push("b");
  fair.Remove("a");
  EXPECT_EQ(PopAll(&fair), (std::vector<std::string>{"b"}));
}

TEST(RoundRobinStrategyTest, IdentifierOrderCyclically) {  // scenario 37
  RoundRobinStrategy rr;
  for (const char* id : {"c", "a", "b"}) rr.Push(id);
  ASSERT_EQ(rr.Pop(), "a");
  rr.Push("a");  // a is ready again at once: its turn comes after c
  EXPECT_EQ(PopAll(&rr), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_TRUE(rr.Requeue("x", 50, true));
  EXPECT_FALSE(rr.Requeue("y", 49, false));
  EXPECT_EQ(PopAll(&rr), (std::vector<std::string>{"x"}));
}

TEST(RoundRobinStrategyTest, RemovingTheLastTakenTenantNeverBreaksSelection) {  // B4
  RoundRobinStrategy rr;
  for (const char* id : {"a", "b", "c"}) rr.Push(id);
  ASSERT_EQ(rr.Pop(), "a");
  ASSERT_EQ(rr.Pop(), "b");
  rr.Remove("b");
  rr.Remove("c");
  rr.Push("a");
  EXPECT_EQ(rr.Pop(), "a");
  EXPECT_EQ(rr.Pop(), std::nullopt);
}

TEST(DrainFirstStrategyTest, ATenantWithRowsGoesFirstUntilEmpty) {  // scenario 38
  FairStrategy df(/*drain_first=*/true);
  df.Push("a");
  df.Push("b");
  ASSERT_EQ(df.Pop(), "a");
  EXPECT_TRUE(df.Requeue("a", 3, /*full=*/false));  // rows, even a short batch: stay
  EXPECT_EQ(df.Pop(), "a");
  EXPECT_FALSE(df.Requeue("a", 0, false));  // empty: move on
  EXPECT_EQ(PopAll(&df), (std::vector<std::string>{"b"}));
}

TEST(SelectionStrategyTest, FactoryKnowsTheThreeNamesAndRejectsOthers) {
  std::unique_ptr<SelectionStrategy> s;
  EXPECT_TRUE(MakeSelectionStrategy("fair", &s).ok());
  EXPECT_TRUE(MakeSelectionStrategy("round-robin", &s).ok());
  EXPECT_TRUE(MakeSelectionStrategy("drain-first", &s).ok());
  Status bad = MakeSelectionStrategy("random", &s);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("fair, round-robin, drain-first"), std::string::npos);
}

}  // namespace
}  // namespace outboxd
