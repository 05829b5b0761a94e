// WorkerPool: `workers` threads, each looping Dispatcher::RunOnce.
//
// Idle back-off (hardening B7): a worker that finds work goes straight on. After it has visited as
// many stores as there are without finding any, it sleeps poll_interval, doubling up to
// max_poll_interval while everything stays idle, and snaps back to poll_interval as soon as it
// finds work. Wake() (new stores, SIGHUP) and Stop() interrupt the sleep.
//
// Stop() lets each worker finish the message it is handling; rows of its batch not yet started are
// released (no attempt counted), outcomes are recorded, then the threads are joined.
//
// OWNERSHIP: borrows the dispatcher and provider. THREADING: Start/Stop from one control thread;
// Wake from any thread.
#ifndef OUTBOXD_DISPATCH_WORKER_POOL_H_
#define OUTBOXD_DISPATCH_WORKER_POOL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "discovery/store_provider.h"
#include "dispatch/dispatcher.h"

namespace outboxd {

struct PollOptions {
  int workers = 4;
  std::chrono::milliseconds poll_interval{250};      // first idle sleep
  std::chrono::milliseconds max_poll_interval{2000};  // idle back-off ceiling
};

class WorkerPool {
 public:
  WorkerPool(Dispatcher* dispatcher, const StoreProvider* provider, PollOptions options);
  ~WorkerPool();

  void Start();
  void Stop();
  void Wake();

  // Workers currently sleeping because every store was idle (for --drain and tests).
  int idle_workers() const { return idle_workers_.load(); }
  // Completed idle sleeps since start, across workers (a cheap "has it gone quiet" signal).
  int64_t idle_sleeps() const { return idle_sleeps_.load(); }

 private:
  void Loop();

  Dispatcher* const dispatcher_;
  const StoreProvider* const provider_;
  const PollOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> idle_workers_{0};
  std::atomic<int64_t> idle_sleeps_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wake_generation_ = 0;  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_WORKER_POOL_H_
