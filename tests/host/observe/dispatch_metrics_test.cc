// DispatchMetrics as the Dispatcher's observer: outcomes by topic, claims by result, pickup and
// handler histograms, and the HealthTracker seeing a handler that runs past its bound.
#include "observe/dispatch_metrics.h"

#include <gtest/gtest.h>

#include "dispatch/dispatcher.h"
#include "fakes/fake_message_handler.h"
#include "fakes/fake_outbox_store.h"
#include "fakes/fake_tenant_set.h"
#include "observe/health_tracker.h"
#include "observe/metric_text.h"
#include "support/http_get.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::FakeMessageHandler;
using testing::FakeTenantSet;
using testing::MetricValue;

class DispatchMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tenants_.Start({"s1"}).ok());
    DispatchOptions options;
    options.max_attempts = 2;
    options.backoff = [](int) { return milliseconds(0); };
    options.observer = &metrics_;
    dispatcher_ = std::make_unique<Dispatcher>(&routing_, &leases_, &counters_, options);
    std::shared_ptr<const HandlerTable> table;
    ASSERT_TRUE(HandlerTable::Build({{"ok", handler_}, {"bad", handler_}, {"again", handler_}},
                                    &table)
                    .ok());
    routing_.Publish(table);
    handler_->Script([](const OutboxMessage& m) {
      if (m.topic == "bad") return HandlerOutcome::PermanentFailure("no");
      if (m.topic == "again") return HandlerOutcome::Retry("later");
      return HandlerOutcome::Ok();
    });
  }

  std::string Text() { return SerializeText(metrics_.Collect()); }
  double Count(const std::string& topic, const std::string& outcome) {
    return MetricValue(Text(), "outboxd_messages_total{outcome=\"" + outcome + "\",topic=\"" +
                                   topic + "\"}")
        .value_or(-1);
  }
  // The only store, visited once.
  int RunOnce() {
    return dispatcher_->RunOnce(&worker_, tenants_.tenant_set()->Snapshot()->at(0), stopping_);
  }

  FakeTenantSet tenants_;
  RoutingState routing_;
  LeaseKeeper leases_{milliseconds(30000)};
  DispatchCounters counters_;
  HealthTracker health_{2, milliseconds(30000), milliseconds(60000)};
  DispatchMetrics metrics_{&health_, nullptr};
  std::unique_ptr<Dispatcher> dispatcher_;
  WorkerState worker_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<FakeMessageHandler> handler_ = std::make_shared<FakeMessageHandler>("h");
};

TEST_F(DispatchMetricsTest, OutcomesAreCountedByTopicAndClaimsByResult) {
  tenants_.store("s1").Add("ok");
  tenants_.store("s1").Add("ok");
  tenants_.store("s1").Add("bad");
  tenants_.store("s1").Add("again");
  tenants_.store("s1").Add("nobody");
  RunOnce();  // ok x2 done, bad failed, again retried, nobody failed (no handler)
  RunOnce();  // again: attempt 2 of 2 -> failed
  RunOnce();  // empty
  EXPECT_EQ(Count("ok", "done"), 2);
  EXPECT_EQ(Count("bad", "failed"), 1);
  EXPECT_EQ(Count("again", "retried"), 1);
  EXPECT_EQ(Count("again", "failed"), 1);
  EXPECT_EQ(Count("nobody", "failed"), 1);
  EXPECT_EQ(Count("ok", "lease_lost"), 0);
  const std::string text = Text();
  EXPECT_EQ(MetricValue(text, "outboxd_claims_total{result=\"rows\"}"), 2);
  EXPECT_EQ(MetricValue(text, "outboxd_claims_total{result=\"empty\"}"), 1);
  EXPECT_EQ(MetricValue(text, "outboxd_claim_duration_seconds_count"), 3);
  EXPECT_EQ(MetricValue(text, "outboxd_handler_duration_seconds_count{topic=\"ok\"}"), 2);
  EXPECT_EQ(MetricValue(text, "outboxd_pickup_delay_seconds_count"), 5) << "one per handler call";
}

TEST_F(DispatchMetricsTest, AClaimErrorIsCountedOnTheTenant) {
  tenants_.store("s1").FailNext(testing::FakeOutboxStore::Op::kClaim,
                                Status::Unavailable("down"));
  RunOnce();
  EXPECT_EQ(MetricValue(Text(), "outboxd_claims_total{result=\"error\"}"), 1);
  EXPECT_EQ(tenants_.tenant_set()->Snapshot()->front()->errors(), 1);
}

TEST_F(DispatchMetricsTest, ALostLeaseIsCountedOnItsTopic) {
  const int64_t id = tenants_.store("s1").Add("ok");
  handler_->Script([&](const OutboxMessage&) {
    // Another process takes the row over while the handler runs.
    tenants_.store("s1").SetOwnerForTest(id, "someone-else");
    return HandlerOutcome::Ok();
  });
  RunOnce();
  EXPECT_EQ(Count("ok", "lease_lost"), 1);
  EXPECT_EQ(Count("ok", "done"), 0);
}

TEST_F(DispatchMetricsTest, AHandlerRunningPastItsBoundMakesTheProcessUnhealthy) {
  tenants_.store("s1").Add("ok");
  std::string during;
  handler_->Script([&](const OutboxMessage&) {
    during = health_.Check(HealthTracker::Clock::now() + milliseconds(31000));
    return HandlerOutcome::Ok();
  });
  health_.Beat();
  RunOnce();
  EXPECT_NE(during.find("worker 0 has been in a handler for topic 'ok' for 31."), std::string::npos)
      << during;
  EXPECT_EQ(health_.Check(), "") << "healthy again once the handler returned";
}

TEST(HealthTrackerTest, AStalledControlLoopIsUnhealthy) {
  HealthTracker health(1, milliseconds(1000), milliseconds(5000));
  health.Beat();
  EXPECT_EQ(health.Check(), "");
  const std::string problem = health.Check(HealthTracker::Clock::now() + milliseconds(6000));
  EXPECT_EQ(problem.rfind("the control loop made no progress for ", 0), 0u) << problem;
}

}  // namespace
}  // namespace outboxd
