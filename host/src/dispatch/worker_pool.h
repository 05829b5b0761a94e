// WorkerPool: `workers` threads, each taking the next tenant from the TenantSchedule
// (dispatch/tenant_schedule.h), running one Dispatcher::RunOnce on it and reporting the result
// back. A worker with nothing to take sleeps until the schedule makes a tenant ready (NOTIFY, new
// store, full claim, recovery); one of the idle workers (the timekeeper) also wakes at the earliest
// due tenant and hands that role to another idle worker while it visits. Stop() interrupts. So
// idle cost is one claim per tenant per idle interval (tenants ÷ max_poll_interval claims per
// second), whatever the number of workers.
//
// Timer slack: the timekeeper sleeps until the earliest due time plus `timer_slack`, so the idle
// polls that fall due within that window are made one after another on one wake-up instead of
// one wake-up (and one hand-over) each. With 1,000 idle tenants most of an idle poll's cost is
// the threads' wake-ups, not the query. A poll is at most timer_slack late; a tenant made ready by
// an event (NOTIFY, new store, full claim, recovery) is not delayed.
//
// Stop() lets each worker finish the message it is handling; rows of its batch not yet started are
// released (no attempt counted), outcomes are recorded, then the threads are joined.
//
// on_quiet (--drain): called on a worker thread, no lock held, when the schedule has no tenant
// ready or being visited and some visit since the last call claimed rows or failed (and once after
// Start); the receiver checks whether everything is drained.
//
// OWNERSHIP: borrows the dispatcher and the schedule. THREADING: Start/Stop from one control
// thread; the rest from any thread.
#ifndef OUTBOXD_DISPATCH_WORKER_POOL_H_
#define OUTBOXD_DISPATCH_WORKER_POOL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "dispatch/dispatcher.h"
#include "dispatch/tenant_schedule.h"

namespace outboxd {

class WorkerPool {
 public:
  WorkerPool(Dispatcher* dispatcher, TenantSchedule* schedule, int workers,
             std::chrono::milliseconds timer_slack = std::chrono::milliseconds(0));
  ~WorkerPool();

  // Set before Start.
  void SetOnQuiet(std::function<void()> on_quiet) { on_quiet_ = std::move(on_quiet); }

  void Start();
  void Stop();

  // Workers currently sleeping because no tenant is due (tests).
  int idle_workers() const { return idle_workers_.load(); }
  // Times the timekeeper woke because its timer ran out (tests: polls per wake-up).
  int64_t timer_wakes() const { return timer_wakes_.load(); }

 private:
  void Loop(int index);
  void Wake();  // the schedule's on_ready

  Dispatcher* const dispatcher_;
  TenantSchedule* const schedule_;
  const int workers_;
  const std::chrono::milliseconds timer_slack_;
  std::function<void()> on_quiet_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> idle_workers_{0};
  std::atomic<bool> active_since_quiet_{true};
  std::atomic<int64_t> timer_wakes_{0};

  Mutex mu_;
  CondVar cv_;
  uint64_t wakes_ GUARDED_BY(mu_) = 0;
  bool timekeeper_ GUARDED_BY(mu_) = false;  // an idle worker sleeps until the next due tenant
  std::vector<std::thread> threads_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_WORKER_POOL_H_
