// Concurrent claimers on one tenant of each engine, each with its own store instance and so its own
// connections (as separate worker processes would have; on PostgreSQL this is what exercises
// FOR UPDATE SKIP LOCKED): claims never overlap and terminal rows never come back.
#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store_test_backend.h"

namespace outboxd::testing {
namespace {

using std::chrono::seconds;

Completion RandomOutcome(int64_t id, std::mt19937* rng) {
  switch (std::uniform_int_distribution<int>(0, 3)(*rng)) {
    case 0: return Dispatched(id);
    case 1: return Rescheduled(id, std::chrono::milliseconds(0), "retry");
    case 2: return Failed(id, "fail");
    default: return Released(id);
  }
}

bool IsTerminal(const Completion& c) {
  return c.kind == Completion::Kind::kDispatched || c.kind == Completion::Kind::kFail;
}

class OutboxStoreConcurrencyTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = NewDb();
  }

  // `count` stores on the tenant, each with its own connection pool.
  std::vector<std::unique_ptr<OutboxStore>> OpenStores(int count) const {
    std::vector<std::unique_ptr<OutboxStore>> stores;
    for (int i = 0; i < count; ++i) stores.push_back(db_->Open());
    return stores;
  }

  std::unique_ptr<StoreTestDb> db_;
};

OBX_INSTANTIATE_FOR_ENGINES(OutboxStoreConcurrencyTest);

// 9
TEST_P(OutboxStoreConcurrencyTest, SimultaneousClaimsAreDisjoint) {
  constexpr int kClaimers = 5;
  std::vector<std::unique_ptr<OutboxStore>> stores = OpenStores(kClaimers);
  EnqueueN(stores[0].get(), 10);

  StartGate gate(kClaimers);
  std::vector<std::vector<OutboxMessage>> claimed(kClaimers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClaimers; ++t) {
    threads.emplace_back([&, t] {
      gate.ArriveAndWait();
      Status status = stores[t]->ClaimDue(3, seconds(30), "owner-" + std::to_string(t),
                                          &claimed[t]);
      EXPECT_TRUE(status.ok()) << status.ToString();
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::multiset<int64_t> all;
  for (const auto& set : claimed) {
    for (const OutboxMessage& m : set) all.insert(m.id);
  }
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), all.size())
      << "a row was claimed twice";
}

TEST_P(OutboxStoreConcurrencyTest, TwoClaimersNeverBothGetARow) {
  std::vector<std::unique_ptr<OutboxStore>> stores = OpenStores(2);
  db_->InsertMany(300);

  std::vector<std::vector<int64_t>> got(2);
  std::vector<std::thread> threads;
  StartGate gate(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      gate.ArriveAndWait();
      for (;;) {
        std::vector<OutboxMessage> batch;
        Status status = stores[t]->ClaimDue(7, seconds(30), "owner-" + std::to_string(t), &batch);
        ASSERT_TRUE(status.ok()) << status.ToString();
        if (batch.empty()) return;
        for (const OutboxMessage& m : batch) got[t].push_back(m.id);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<int64_t> first(got[0].begin(), got[0].end());
  for (int64_t id : got[1]) EXPECT_EQ(first.count(id), 0u) << "both claimers got " << id;
  EXPECT_EQ(got[0].size() + got[1].size(), 300u);
  EXPECT_EQ(db_->CountRows("status = 1"), 300);
}

// 24: rounds of simultaneous claims by several stores, each followed by random outcomes.
TEST_P(OutboxStoreConcurrencyTest, FuzzRoundsKeepClaimsDisjointAndTerminalRowsFinal) {
  constexpr int kClaimers = 3;
  constexpr int kRounds = 20;
  std::vector<std::unique_ptr<OutboxStore>> stores = OpenStores(kClaimers);
  EnqueueN(stores[0].get(), 60);

  std::set<int64_t> terminal;
  std::map<int64_t, int> final_status;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::vector<OutboxMessage>> claimed(kClaimers);
    std::vector<std::vector<Completion>> outcomes(kClaimers);
    std::vector<CompletionReport> reports(kClaimers);
    StartGate claim_gate(kClaimers);
    StartGate complete_gate(kClaimers);
    std::vector<std::thread> threads;
    for (int t = 0; t < kClaimers; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(7919u * static_cast<unsigned>(round) + static_cast<unsigned>(t));
        std::string owner = "owner-" + std::to_string(round) + "-" + std::to_string(t);
        int limit = std::uniform_int_distribution<int>(1, 6)(rng);
        claim_gate.ArriveAndWait();
        Status status = stores[t]->ClaimDue(limit, seconds(30), owner, &claimed[t]);
        EXPECT_TRUE(status.ok()) << status.ToString();
        for (const OutboxMessage& m : claimed[t]) outcomes[t].push_back(RandomOutcome(m.id, &rng));
        complete_gate.ArriveAndWait();  // all claims of the round happen before any completion
        status = stores[t]->Complete(owner, outcomes[t], &reports[t]);
        EXPECT_TRUE(status.ok()) << status.ToString();
      });
    }
    for (std::thread& thread : threads) thread.join();

    std::set<int64_t> seen_this_round;
    for (int t = 0; t < kClaimers; ++t) {
      for (const OutboxMessage& m : claimed[t]) {
        EXPECT_TRUE(seen_this_round.insert(m.id).second) << "round " << round << ": id " << m.id
                                                         << " claimed twice";
        EXPECT_EQ(terminal.count(m.id), 0u) << "round " << round << ": terminal id " << m.id;
      }
      EXPECT_EQ(reports[t].applied.size(), outcomes[t].size());
      EXPECT_TRUE(reports[t].lease_lost.empty());
      for (const Completion& c : outcomes[t]) {
        if (!IsTerminal(c)) continue;
        terminal.insert(c.id);
        final_status[c.id] = c.kind == Completion::Kind::kDispatched ? 2 : 3;
      }
    }
  }
  EXPECT_FALSE(terminal.empty());
  for (const auto& [id, status] : final_status) EXPECT_EQ(db_->Row(id).status, status) << id;
}

// B1 under contention: leases that expired together are taken over by exactly one of several
// simultaneous claimers each, with the attempt counted once.
TEST_P(OutboxStoreConcurrencyTest, ExpiredLeasesAreReclaimedByExactlyOneClaimer) {
  constexpr int kClaimers = 4;
  constexpr int kRows = 24;
  std::vector<std::unique_ptr<OutboxStore>> stores = OpenStores(kClaimers);
  db_->InsertMany(kRows);
  std::vector<OutboxMessage> first;
  ASSERT_TRUE(
      stores[0]->ClaimDue(kRows, std::chrono::milliseconds(100), "lost-owner", &first).ok());
  ASSERT_EQ(first.size(), static_cast<size_t>(kRows));
  ASSERT_TRUE(WaitFor([&] {
    return db_->CountRows("locked_until <= " + db_->NowPlus(0)) == kRows;
  })) << "the leases never expired on the database clock";

  StartGate gate(kClaimers);
  std::vector<std::vector<OutboxMessage>> claimed(kClaimers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClaimers; ++t) {
    threads.emplace_back([&, t] {
      gate.ArriveAndWait();
      for (;;) {
        std::vector<OutboxMessage> batch;
        Status status =
            stores[t]->ClaimDue(5, seconds(30), "taker-" + std::to_string(t), &batch);
        ASSERT_TRUE(status.ok()) << status.ToString();
        if (batch.empty()) return;
        claimed[t].insert(claimed[t].end(), batch.begin(), batch.end());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<int64_t> ids;
  for (int t = 0; t < kClaimers; ++t) {
    for (const OutboxMessage& m : claimed[t]) {
      EXPECT_TRUE(ids.insert(m.id).second) << "id " << m.id << " reclaimed twice";
      EXPECT_EQ(m.attempts, 1) << m.id;
      EXPECT_EQ(db_->Row(m.id).owner_token, "taker-" + std::to_string(t)) << m.id;
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(db_->CountRows("attempts = 1 AND status = 1"), kRows);
}

// Free-running workers (no rounds): at no time do two workers hold the same row, and a row seen
// terminal before a claim starts is never returned by it.
TEST_P(OutboxStoreConcurrencyTest, FreeRunningWorkersNeverShareOrResurrectRows) {
  constexpr int kWorkers = 4;
  std::vector<std::unique_ptr<OutboxStore>> stores = OpenStores(kWorkers);
  EnqueueN(stores[0].get(), 80);

  std::mutex mu;
  std::set<int64_t> held;      // guarded by mu
  std::set<int64_t> terminal;  // guarded by mu
  std::vector<std::thread> threads;
  for (int t = 0; t < kWorkers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(104729u + static_cast<unsigned>(t));
      std::string owner = "worker-" + std::to_string(t);
      for (int step = 0; step < 40; ++step) {
        std::set<int64_t> terminal_before;
        {
          std::lock_guard<std::mutex> lock(mu);
          terminal_before = terminal;
        }
        std::vector<OutboxMessage> batch;
        Status status = stores[t]->ClaimDue(std::uniform_int_distribution<int>(1, 4)(rng),
                                            seconds(30), owner, &batch);
        ASSERT_TRUE(status.ok()) << status.ToString();
        std::vector<Completion> outcomes;
        {
          std::lock_guard<std::mutex> lock(mu);
          for (const OutboxMessage& m : batch) {
            EXPECT_TRUE(held.insert(m.id).second) << "id " << m.id << " held twice";
            EXPECT_EQ(terminal_before.count(m.id), 0u) << "terminal id " << m.id << " returned";
            outcomes.push_back(RandomOutcome(m.id, &rng));
          }
          // Un-hold before completing: until the completion commits nobody else can claim it.
          for (const OutboxMessage& m : batch) held.erase(m.id);
        }
        CompletionReport report;
        status = stores[t]->Complete(owner, outcomes, &report);
        ASSERT_TRUE(status.ok()) << status.ToString();
        EXPECT_EQ(report.applied.size(), outcomes.size());
        std::lock_guard<std::mutex> lock(mu);
        for (const Completion& c : outcomes) {
          if (IsTerminal(c)) terminal.insert(c.id);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(db_->CountRows("status IN (2, 3)"),
            static_cast<int64_t>(terminal.size()));
}

}  // namespace
}  // namespace outboxd::testing
