// DispatchMetrics: the DispatchObserver behind outboxd's metrics. It owns the prometheus-cpp
// registry of the hot-path families and forwards handler start/finish to the HealthTracker and
// claim results to the BacklogTracker:
//   outboxd_messages_total{topic,outcome}            counter
//   outboxd_handler_duration_seconds{topic}          histogram
//   outboxd_pickup_delay_seconds                     histogram (due time -> handler start)
//   outboxd_claim_duration_seconds                   histogram
//   outboxd_claims_total{result="rows|empty|error"}  counter
// Per-message cost: one cached topic lookup (a shared lock and a hash probe, skipped while
// consecutive rows share a topic), a few atomic adds for the counters and histogram buckets.
//
// Topic label values come from producers' rows; to bound the series, at most kMaxTopics distinct
// topics get their own series, the rest are counted under topic="_other".
//
// OWNERSHIP: owns its registry and topic observers (alive as long as it is); borrows health and
// backlog (either may be null), which must outlive it.
// THREADING: thread-safe.
#ifndef OUTBOXD_OBSERVE_DISPATCH_METRICS_H_
#define OUTBOXD_OBSERVE_DISPATCH_METRICS_H_

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "dispatch/dispatch_observer.h"

namespace outboxd {

class BacklogTracker;
class HealthTracker;

class DispatchMetrics : public DispatchObserver {
 public:
  static constexpr size_t kMaxTopics = 500;
  static constexpr char kOtherTopic[] = "_other";

  DispatchMetrics(HealthTracker* health, BacklogTracker* backlog);
  ~DispatchMetrics() override;

  void OnClaim(const std::string& tenant, double seconds, int64_t rows, bool ok) override;
  TopicObserver* Topic(std::string_view topic) override;
  void ObservePickupDelay(double seconds) override;
  void HandlerStarted(int worker, TopicObserver* topic) override;
  void HandlerFinished(int worker) override;

  std::vector<prometheus::MetricFamily> Collect() const { return registry_->Collect(); }

 private:
  class TopicSeries;

  HealthTracker* const health_;
  BacklogTracker* const backlog_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* messages_;
  prometheus::Family<prometheus::Histogram>* handler_duration_;
  prometheus::Histogram* pickup_delay_;
  prometheus::Histogram* claim_duration_;
  prometheus::Counter* claims_rows_;
  prometheus::Counter* claims_empty_;
  prometheus::Counter* claims_error_;

  mutable std::shared_mutex topics_mu_;
  std::unordered_map<std::string, std::unique_ptr<TopicSeries>> topics_;  // GUARDED_BY(topics_mu_)
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_DISPATCH_METRICS_H_
