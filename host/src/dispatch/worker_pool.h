// WorkerPool: `workers` threads, each looping Dispatcher::RunOnce.
//
// Idle back-off (hardening B7), shared by all workers: while there is work, workers go straight on.
// When every store has been visited once (by any worker) since work was last found, the sweep is
// over and every worker sleeps: poll_interval first, doubling up to max_poll_interval while
// everything stays idle; then the next sweep visits each store once again. So an idle tenant is
// polled once per interval however many workers there are (not once per worker). Finding work
// snaps the back-off to poll_interval and keeps the workers going. Wake() (new stores, SIGHUP)
// starts a sweep at once; WakeOne() (a NOTIFY for one store) grants ONE extra visit without
// restarting the sweep, for a strategy that knows which store to visit (HintedStrategy). Stop()
// interrupts sleeps.
//
// Stop() lets each worker finish the message it is handling; rows of its batch not yet started are
// released (no attempt counted), outcomes are recorded, then the threads are joined.
//
// OWNERSHIP: borrows the dispatcher and provider. THREADING: Start/Stop from one control thread;
// Wake and WakeOne from any thread.
#ifndef OUTBOXD_DISPATCH_WORKER_POOL_H_
#define OUTBOXD_DISPATCH_WORKER_POOL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "common/mutex.h"
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
  void WakeOne();

  // Workers currently sleeping because every store was idle (for --drain and tests).
  int idle_workers() const { return idle_workers_.load(); }
  // Completed idle sleeps since start, across workers (a cheap "has it gone quiet" signal).
  int64_t idle_sleeps() const { return idle_sleeps_.load(); }

 private:
  void Loop(int index);

  Dispatcher* const dispatcher_;
  const StoreProvider* const provider_;
  const PollOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> idle_workers_{0};
  std::atomic<int64_t> idle_sleeps_{0};
  using Clock = std::chrono::steady_clock;
  // Takes one visit of the current sweep, starting a new sweep when the idle pause is over;
  // sleeps while neither is possible. False when stopping.
  bool TakeVisit();
  void FoundWork();

  Mutex mu_;
  CondVar cv_;
  int64_t visits_left_ GUARDED_BY(mu_) = 0;  // of the current sweep
  Clock::time_point next_sweep_ GUARDED_BY(mu_){};  // when the next sweep may start
  std::chrono::milliseconds idle_delay_ GUARDED_BY(mu_){0};  // the pause after an idle sweep
  std::vector<std::thread> threads_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_WORKER_POOL_H_
