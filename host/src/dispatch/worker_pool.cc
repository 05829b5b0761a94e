#include "dispatch/worker_pool.h"

#include <algorithm>

namespace outboxd {

WorkerPool::WorkerPool(Dispatcher* dispatcher, TenantSchedule* schedule, int workers,
                       std::chrono::milliseconds timer_slack)
    : dispatcher_(dispatcher),
      schedule_(schedule),
      workers_(workers),
      timer_slack_(std::max(timer_slack, std::chrono::milliseconds(0))) {
  schedule_->SetOnReady([this] { Wake(); });
}

WorkerPool::~WorkerPool() {
  Stop();
  schedule_->SetOnReady(nullptr);
}

void WorkerPool::Start() {
  stopping_ = false;
  active_since_quiet_ = true;
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

void WorkerPool::Stop() {
  stopping_ = true;
  Wake();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::Wake() {
  {
    MutexLock lock(&mu_);
    ++wakes_;
  }
  cv_.NotifyAll();
}

void WorkerPool::Loop(int index) {
  WorkerState state;
  state.index = index;
  while (!stopping_) {
    uint64_t seen;
    {
      MutexLock lock(&mu_);
      seen = wakes_;
    }
    if (std::optional<TenantSchedule::Visit> visit = schedule_->Take()) {
      const bool was_failing = visit->store->consecutive_failures() > 0;
      dispatcher_->RunOnce(&state, visit->store, stopping_);
      schedule_->Done(*visit, TenantSchedule::Result{state.claimed, state.failed, state.retry_in,
                                                     state.store_bound});
      if (state.claimed > 0 || state.failed || was_failing) active_since_quiet_ = true;
      continue;
    }
    if (schedule_->busy() == 0 && active_since_quiet_.exchange(false) && on_quiet_) on_quiet_();
    const std::optional<TenantSchedule::TimePoint> due = schedule_->NextDue();
    bool keeps_time = false;
    {
      MutexLock lock(&mu_);
      ++idle_workers_;
      if (due && !timekeeper_) {
        // One idle worker sleeps until the next due tenant; the others only until a wake, so a due
        // poll wakes one thread, not all of them.
        timekeeper_ = true;
        keeps_time = true;
        // The schedule's clock is steady time in production; wait for the same span of real time.
        // A due time already past is not delayed by the slack (it was missed, not early).
        const auto span = *due - schedule_->clock()->Now();
        const auto wait = span > std::chrono::steady_clock::duration::zero()
                              ? span + timer_slack_
                              : std::chrono::steady_clock::duration::zero();
        const bool woken = cv_.WaitUntil(&mu_, std::chrono::steady_clock::now() + wait,
                                         [&]() REQUIRES(mu_) { return stopping_ || wakes_ != seen; });
        if (!woken) timer_wakes_.fetch_add(1, std::memory_order_relaxed);
        timekeeper_ = false;
      } else {
        cv_.Wait(&mu_, [&]() REQUIRES(mu_) {
          return stopping_ || wakes_ != seen || (due && !timekeeper_);
        });
      }
      --idle_workers_;
    }
    if (keeps_time) cv_.NotifyOne();  // another idle worker takes over the timer
  }
}

}  // namespace outboxd
