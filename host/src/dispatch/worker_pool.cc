#include "dispatch/worker_pool.h"

#include <algorithm>

namespace outboxd {

WorkerPool::WorkerPool(Dispatcher* dispatcher, const StoreProvider* provider, PollOptions options)
    : dispatcher_(dispatcher), provider_(provider), options_(options) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  stopping_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { Loop(); });
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
    std::lock_guard<std::mutex> lock(mu_);
    ++wake_generation_;
  }
  cv_.notify_all();
}

void WorkerPool::Loop() {
  WorkerState state;
  std::size_t empty_visits = 0;
  std::chrono::milliseconds idle_delay = options_.poll_interval;
  while (!stopping_) {
    if (dispatcher_->RunOnce(&state, stopping_) > 0) {
      empty_visits = 0;
      idle_delay = options_.poll_interval;
      continue;
    }
    // Visit every store once before sleeping, so an idle tenant set is swept in one go.
    const std::size_t stores = provider_->Snapshot()->size();
    if (++empty_visits < std::max<std::size_t>(1, stores)) continue;
    empty_visits = 0;
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t generation = wake_generation_;
    ++idle_workers_;
    const bool woken = cv_.wait_for(lock, idle_delay, [&] {
      return stopping_ || wake_generation_ != generation;
    });
    --idle_workers_;
    ++idle_sleeps_;
    idle_delay = woken ? options_.poll_interval
                       : std::min(idle_delay * 2, options_.max_poll_interval);
  }
}

}  // namespace outboxd
