// WatchdogPinger: feeds systemd's watchdog (WATCHDOG=1) from a thread of its own, every
// `interval` (half of WATCHDOG_USEC), while the health check passes; an unhealthy round withholds
// the ping and logs one error line naming the problem, so systemd restarts a hung outboxd after
// WatchdogSec=. The control loop does not feed it: a long discovery, cleanup or plugin rescan is
// not a hang (the HealthTracker bounds the control loop itself), and the loop wakes only once a
// second, too rarely for a WatchdogSec= under two seconds.
//
// OWNERSHIP: owns its thread (Stop() or the destructor joins it); `ping` and `check` are copied in
// and must stay callable until Stop() returns.
// THREADING: Start/Stop from one thread; `ping` and `check` run on the pinger's thread.
// ERRORS: none returned; a withheld ping is the error line above (sd_notify's own failures are not
// reported, as systemd itself would notice the missing pings).
#ifndef OUTBOXD_OBSERVE_WATCHDOG_PINGER_H_
#define OUTBOXD_OBSERVE_WATCHDOG_PINGER_H_

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace outboxd {

class WatchdogPinger {
 public:
  // `check` returns "" when healthy, else one line (HealthTracker::Check); `ping` sends WATCHDOG=1.
  WatchdogPinger(std::chrono::milliseconds interval, std::function<std::string()> check,
                 std::function<void()> ping);
  ~WatchdogPinger();
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

  // Starts the thread (a first round at once). No-op when already running.
  void Start();
  // Stops and joins the thread. Idempotent.
  void Stop();

  // One round: pings and returns true when healthy, else logs and returns false.
  bool RunOnce();

 private:
  void Loop();

  const std::chrono::milliseconds interval_;
  const std::function<std::string()> check_;
  const std::function<void()> ping_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // Start/Stop's thread only
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_WATCHDOG_PINGER_H_
