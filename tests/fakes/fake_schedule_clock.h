// FakeScheduleClock: a ScheduleClock that moves only when told (TenantSchedule tests).
// THREADING: thread-safe.
#ifndef OUTBOXD_TESTS_FAKES_FAKE_SCHEDULE_CLOCK_H_
#define OUTBOXD_TESTS_FAKES_FAKE_SCHEDULE_CLOCK_H_

#include <atomic>
#include <chrono>

#include "dispatch/tenant_schedule.h"

namespace outboxd::testing {

class FakeScheduleClock final : public ScheduleClock {
 public:
  TimePoint Now() const override { return TimePoint(std::chrono::nanoseconds(ns_.load())); }
  void Advance(std::chrono::nanoseconds d) { ns_ += d.count(); }
  void Set(TimePoint t) { ns_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> ns_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
};

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_FAKES_FAKE_SCHEDULE_CLOCK_H_
