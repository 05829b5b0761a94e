// A micro-measure, not a benchmark and not a timed assertion: claim(50) + complete(50 dispatched)
// round trips on one tenant of each engine, printed for the record.
#include <chrono>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store_test_backend.h"

namespace outboxd::testing {
namespace {

class OutboxStoreThroughputTest : public EngineTest {};

OBX_INSTANTIATE_FOR_ENGINES(OutboxStoreThroughputTest);

TEST_P(OutboxStoreThroughputTest, PrintsClaimCompleteRoundTripsPerSecond) {
  constexpr int kMessages = 5000;
  constexpr int kBatch = 50;
  std::unique_ptr<StoreTestDb> db = NewDb();
  std::unique_ptr<OutboxStore> store = db->Open();
  db->InsertMany(kMessages, "Bench.Topic");

  int round_trips = 0;
  int delivered = 0;
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    std::vector<OutboxMessage> batch;
    ASSERT_TRUE(store->ClaimDue(kBatch, std::chrono::seconds(30), "bench", &batch).ok());
    if (batch.empty()) break;
    std::vector<Completion> completions;
    for (const OutboxMessage& m : batch) completions.push_back(Dispatched(m.id));
    CompletionReport report;
    ASSERT_TRUE(store->Complete("bench", completions, &report).ok());
    ASSERT_EQ(report.applied.size(), batch.size());
    ++round_trips;
    delivered += static_cast<int>(batch.size());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(delivered, kMessages);
  std::printf(
      "[ measure  ] %s, batch %d: %d claim+complete round trips in %.3f s = %.0f round trips/s"
      " = %.0f msg/s\n",
      EngineName(engine()).c_str(), kBatch, round_trips, seconds, round_trips / seconds,
      delivered / seconds);
}

}  // namespace
}  // namespace outboxd::testing
