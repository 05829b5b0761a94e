#include "observe/dispatch_metrics.h"

#include <array>
#include <mutex>

#include "observe/backlog_tracker.h"
#include "observe/health_tracker.h"

namespace outboxd {
namespace {

const prometheus::Histogram::BucketBoundaries& HandlerBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return b;
}

const prometheus::Histogram::BucketBoundaries& PickupBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
  return b;
}

const prometheus::Histogram::BucketBoundaries& ClaimBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
  return b;
}

constexpr std::array<const char*, 6> kOutcomeLabels = {"done",     "retried",    "failed",
                                                        "released", "lease_lost", "parked"};

}  // namespace

class DispatchMetrics::TopicSeries : public TopicObserver {
 public:
  TopicSeries(std::string topic, prometheus::Family<prometheus::Counter>* messages,
              prometheus::Family<prometheus::Histogram>* durations)
      : topic_(std::move(topic)),
        duration_(&durations->Add({{"topic", topic_}}, HandlerBuckets())) {
    for (size_t i = 0; i < kOutcomeLabels.size(); ++i) {
      outcomes_[i] = &messages->Add({{"topic", topic_}, {"outcome", kOutcomeLabels[i]}});
    }
  }
  const std::string& topic() const override { return topic_; }
  void Count(MessageOutcome outcome, int64_t n) override {
    outcomes_[static_cast<size_t>(outcome)]->Increment(static_cast<double>(n));
  }
  void ObserveHandlerSeconds(double seconds) override { duration_->Observe(seconds); }

 private:
  const std::string topic_;
  prometheus::Histogram* duration_;
  std::array<prometheus::Counter*, kOutcomeLabels.size()> outcomes_{};
};

DispatchMetrics::DispatchMetrics(HealthTracker* health, BacklogTracker* backlog)
    : health_(health), backlog_(backlog), registry_(std::make_shared<prometheus::Registry>()) {
  messages_ = &prometheus::BuildCounter()
                   .Name("outboxd_messages_total")
                   .Help("Messages by topic and outcome (done, retried, failed, released, "
                         "lease_lost, parked)")
                   .Register(*registry_);
  handler_duration_ = &prometheus::BuildHistogram()
                           .Name("outboxd_handler_duration_seconds")
                           .Help("Time spent in the handler per message, by topic")
                           .Register(*registry_);
  pickup_delay_ = &prometheus::BuildHistogram()
                       .Name("outboxd_pickup_delay_seconds")
                       .Help("From a message's due time (max of created_at, due_at, "
                             "next_attempt_at) to its handler start")
                       .Register(*registry_)
                       .Add({}, PickupBuckets());
  claim_duration_ = &prometheus::BuildHistogram()
                         .Name("outboxd_claim_duration_seconds")
                         .Help("Duration of one claim statement")
                         .Register(*registry_)
                         .Add({}, ClaimBuckets());
  auto& claims = prometheus::BuildCounter()
                     .Name("outboxd_claims_total")
                     .Help("Claim statements by result (rows, empty, error)")
                     .Register(*registry_);
  claims_rows_ = &claims.Add({{"result", "rows"}});
  claims_empty_ = &claims.Add({{"result", "empty"}});
  claims_error_ = &claims.Add({{"result", "error"}});
}

DispatchMetrics::~DispatchMetrics() = default;

void DispatchMetrics::OnClaim(const std::string& tenant, double seconds, int64_t rows, bool ok) {
  claim_duration_->Observe(seconds);
  (ok ? (rows > 0 ? claims_rows_ : claims_empty_) : claims_error_)->Increment();
  if (backlog_ != nullptr && ok) backlog_->OnClaim(tenant, rows);
}

TopicObserver* DispatchMetrics::Topic(std::string_view topic) {
  {
    std::shared_lock<std::shared_mutex> lock(topics_mu_);
    auto it = topics_.find(std::string(topic));
    if (it != topics_.end()) return it->second.get();
  }
  std::unique_lock<std::shared_mutex> lock(topics_mu_);
  std::string key(topic);
  if (topics_.size() >= kMaxTopics && topics_.count(key) == 0) key = kOtherTopic;
  auto& slot = topics_[key];
  if (!slot) slot = std::make_unique<TopicSeries>(key, messages_, handler_duration_);
  return slot.get();
}

void DispatchMetrics::ObservePickupDelay(double seconds) { pickup_delay_->Observe(seconds); }

void DispatchMetrics::HandlerStarted(int worker, TopicObserver* topic) {
  if (health_ != nullptr) health_->HandlerStarted(worker, topic);
}

void DispatchMetrics::HandlerFinished(int worker) {
  if (health_ != nullptr) health_->HandlerFinished(worker);
}

}  // namespace outboxd
