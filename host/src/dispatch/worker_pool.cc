#include "dispatch/worker_pool.h"

#include <algorithm>

namespace outboxd {

WorkerPool::WorkerPool(Dispatcher* dispatcher, const StoreProvider* provider, PollOptions options)
    : dispatcher_(dispatcher),
      provider_(provider),
      options_(options),
      idle_delay_(options.poll_interval) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  stopping_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { Loop(i); });
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
    next_sweep_ = Clock::now();
    idle_delay_ = options_.poll_interval;
  }
  cv_.NotifyAll();
}

void WorkerPool::WakeOne() {
  {
    MutexLock lock(&mu_);
    ++visits_left_;
  }
  cv_.NotifyOne();
}

bool WorkerPool::TakeVisit() {
  const int64_t stores =
      std::max<int64_t>(1, static_cast<int64_t>(provider_->Snapshot()->size()));
  MutexLock lock(&mu_);
  while (!stopping_) {
    const Clock::time_point now = Clock::now();
    if (visits_left_ == 0 && now >= next_sweep_) visits_left_ = stores;  // a new sweep
    if (visits_left_ > 0) {
      if (--visits_left_ == 0) {
        // The last visit of a sweep: unless someone finds work meanwhile, pause before the next.
        next_sweep_ = now + idle_delay_;
        idle_delay_ = std::min(idle_delay_ * 2, options_.max_poll_interval);
      }
      return true;
    }
    ++idle_workers_;
    cv_.WaitUntil(&mu_, next_sweep_, [&]() REQUIRES(mu_) {
      return stopping_ || visits_left_ > 0 || Clock::now() >= next_sweep_;
    });
    --idle_workers_;
    ++idle_sleeps_;
  }
  return false;
}

void WorkerPool::FoundWork() {
  const int64_t stores =
      std::max<int64_t>(1, static_cast<int64_t>(provider_->Snapshot()->size()));
  {
    MutexLock lock(&mu_);
    idle_delay_ = options_.poll_interval;
    visits_left_ = std::max(visits_left_, stores);  // a fresh sweep's worth of visits
  }
  cv_.NotifyAll();
}

void WorkerPool::Loop(int index) {
  WorkerState state;
  state.index = index;
  while (TakeVisit()) {
    if (dispatcher_->RunOnce(&state, stopping_) > 0) FoundWork();
  }
}

}  // namespace outboxd
