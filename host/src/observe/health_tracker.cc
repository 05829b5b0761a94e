#include "observe/health_tracker.h"

#include <spdlog/fmt/fmt.h>

namespace outboxd {

HealthTracker::HealthTracker(int workers, std::chrono::milliseconds handler_bound,
                             std::chrono::milliseconds control_bound)
    : workers_(workers < 1 ? 1 : workers),
      handler_bound_(handler_bound),
      control_bound_(control_bound),
      slots_(new Slot[static_cast<size_t>(workers_)]),
      last_beat_ns_(Ns(Clock::now())) {}

void HealthTracker::Beat() { last_beat_ns_.store(Ns(Clock::now()), std::memory_order_relaxed); }

void HealthTracker::HandlerStarted(int worker, TopicObserver* topic) {
  if (worker < 0 || worker >= workers_) return;
  Slot& slot = slots_[static_cast<size_t>(worker)];
  slot.topic.store(topic, std::memory_order_relaxed);
  slot.since_ns.store(Ns(Clock::now()), std::memory_order_release);
}

void HealthTracker::HandlerFinished(int worker) {
  if (worker < 0 || worker >= workers_) return;
  slots_[static_cast<size_t>(worker)].since_ns.store(0, std::memory_order_release);
}

std::string HealthTracker::Check() const { return Check(Clock::now()); }

std::string HealthTracker::Check(Clock::time_point now) const {
  const int64_t now_ns = Ns(now);
  const int64_t beat_age_ns = now_ns - last_beat_ns_.load(std::memory_order_relaxed);
  if (beat_age_ns > std::chrono::nanoseconds(control_bound_).count()) {
    return fmt::format("the control loop made no progress for {:.1f} s (limit {:.1f} s)",
                       static_cast<double>(beat_age_ns) / 1e9,
                       static_cast<double>(control_bound_.count()) / 1000.0);
  }
  for (int i = 0; i < workers_; ++i) {
    const Slot& slot = slots_[static_cast<size_t>(i)];
    const int64_t since = slot.since_ns.load(std::memory_order_acquire);
    if (since == 0) continue;
    const int64_t age_ns = now_ns - since;
    if (age_ns <= std::chrono::nanoseconds(handler_bound_).count()) continue;
    TopicObserver* topic = slot.topic.load(std::memory_order_relaxed);
    return fmt::format("worker {} has been in a handler{} for {:.1f} s (limit {:.1f} s: "
                       "dispatch.lease)",
                       i, topic != nullptr ? " for topic '" + topic->topic() + "'" : "",
                       static_cast<double>(age_ns) / 1e9,
                       static_cast<double>(handler_bound_.count()) / 1000.0);
  }
  return "";
}

}  // namespace outboxd
