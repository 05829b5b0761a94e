#include "dispatch/parking.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_discovery_source.h"
#include "fakes/fake_outbox_store.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::FakeDiscoverySource;
using testing::FakeOutboxStore;
using Clock = std::chrono::steady_clock;

class ParkingTest : public ::testing::Test {
 protected:
  ParkingTest() {
    auto fake = std::make_unique<FakeOutboxStore>("s1");
    fake_ = fake.get();
    store_ = std::make_shared<Tenant>(FakeDiscoverySource::Location("s1"), std::move(fake));
  }

  // Claims `n` parked rows under a fresh token registered with the lease keeper; returns their ids.
  std::vector<int64_t> ClaimParked(int n, const std::string& token) {
    for (int i = 0; i < n; ++i) fake_->Add("parked.topic");
    std::vector<OutboxMessage> claimed;
    EXPECT_TRUE(fake_->ClaimDue(n, milliseconds(30000), token, &claimed).ok());
    leases_.Register(token, store_);
    std::vector<int64_t> ids;
    for (const OutboxMessage& m : claimed) ids.push_back(m.id);
    return ids;
  }

  LeaseKeeper leases_{milliseconds(30000)};
  DispatchCounters counters_;
  FakeOutboxStore* fake_ = nullptr;
  std::shared_ptr<Tenant> store_;
  const Clock::time_point t0_ = Clock::now();
};

TEST_F(ParkingTest, HoldsUpToTheLookaheadAndReleasesWhenTheRoutingChanges) {
  Parking parking({/*lookahead=*/3, milliseconds(10000), milliseconds(2000)}, &leases_, &counters_);
  const std::vector<int64_t> first = ClaimParked(2, "token-a");
  EXPECT_EQ(parking.Hold(store_, "token-a", /*routing_version=*/1, first, {}, t0_), 2u);
  const std::vector<int64_t> second = ClaimParked(2, "token-b");
  EXPECT_EQ(parking.Hold(store_, "token-b", 1, second, {}, t0_), 1u) << "one place left";
  EXPECT_EQ(parking.HeldRows("s1"), 3);
  EXPECT_EQ(parking.HeldRows(), 3);
  EXPECT_EQ(parking.HeldRows("other"), 0);

  parking.Release(1, t0_ + milliseconds(1));  // same routing, not old yet: kept
  EXPECT_EQ(parking.HeldRows(), 3);
  EXPECT_EQ(fake_->Get(first[0]).status, MessageStatus::kInProgress);

  parking.Release(2, t0_ + milliseconds(1));  // a handler may be back
  EXPECT_EQ(parking.HeldRows(), 0);
  for (int64_t id : {first[0], first[1], second[0]}) {
    EXPECT_EQ(fake_->Get(id).status, MessageStatus::kReady) << id;
    EXPECT_EQ(fake_->Get(id).message.attempts, 0) << "a release is not an attempt";
  }
  EXPECT_EQ(counters_.released.load(), 3);
  EXPECT_EQ(leases_.in_flight(), 0u) << "a released lot no longer renews its batches";
}

TEST_F(ParkingTest, ALotIsReleasedAfterTheHoldTimeAndAllAtShutdown) {
  Parking parking({10, milliseconds(10000), milliseconds(2000)}, &leases_, &counters_);
  const std::vector<int64_t> ids = ClaimParked(2, "token-a");
  ASSERT_EQ(parking.Hold(store_, "token-a", 1, ids, {}, t0_), 2u);
  parking.Release(1, t0_ + milliseconds(9999));
  EXPECT_EQ(parking.HeldRows(), 2);
  parking.Release(1, t0_ + milliseconds(10000));
  EXPECT_EQ(parking.HeldRows(), 0);
  EXPECT_EQ(leases_.in_flight(), 0u);

  const std::vector<int64_t> more = ClaimParked(1, "token-c");
  ASSERT_EQ(parking.Hold(store_, "token-c", 1, more, {}, t0_), 1u);
  parking.ReleaseAll();
  EXPECT_EQ(fake_->Get(more[0]).status, MessageStatus::kReady);
  EXPECT_EQ(counters_.released.load(), 3);
}

TEST_F(ParkingTest, AFailedReleaseIsCountedAndTheRowsWaitForTheirLease) {
  Parking parking({10, milliseconds(10000), milliseconds(2000)}, &leases_, &counters_);
  const std::vector<int64_t> ids = ClaimParked(1, "token-a");
  ASSERT_EQ(parking.Hold(store_, "token-a", 1, ids, {}, t0_), 1u);
  fake_->FailNext(FakeOutboxStore::Op::kComplete, Status::Unavailable("down"));
  parking.ReleaseAll();
  EXPECT_EQ(counters_.store_errors.load(), 1);
  EXPECT_EQ(fake_->Get(ids[0]).status, MessageStatus::kInProgress);
  EXPECT_EQ(leases_.in_flight(), 0u) << "no longer renewed: the lease lapses";
}

TEST_F(ParkingTest, AGateHoldsForTheRetryTimeUnderOneRoutingVersion) {
  Parking parking({10, milliseconds(10000), milliseconds(2000)}, &leases_, &counters_);
  EXPECT_FALSE(parking.Skip("s1", 1, t0_));
  parking.Gate("s1", 1, t0_);
  EXPECT_TRUE(parking.Skip("s1", 1, t0_ + milliseconds(1999)));
  EXPECT_FALSE(parking.Skip("s2", 1, t0_));
  EXPECT_FALSE(parking.Skip("s1", 1, t0_ + milliseconds(2000)));
  EXPECT_FALSE(parking.Skip("s1", 1, t0_)) << "an expired gate is gone";
  parking.Gate("s1", 1, t0_);
  EXPECT_FALSE(parking.Skip("s1", 2, t0_)) << "the routing changed";
  EXPECT_FALSE(parking.Skip("s1", 1, t0_));
}

TEST_F(ParkingTest, NothingHeldWhenTheLotIsFull) {
  Parking parking({1, milliseconds(10000), milliseconds(2000)}, &leases_, &counters_);
  ASSERT_EQ(parking.Hold(store_, "token-a", 1, ClaimParked(1, "token-a"), {}, t0_), 1u);
  EXPECT_EQ(parking.Hold(store_, "token-b", 1, ClaimParked(1, "token-b"), {}, t0_), 0u);
  EXPECT_EQ(parking.HeldRows(), 1);
}

}  // namespace
}  // namespace outboxd
