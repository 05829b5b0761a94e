// HealthTracker: what /healthz (and the systemd watchdog) decide on. The process is healthy while
//  - the control loop made progress within control_bound (it beats at least every few seconds,
//    so only a control loop stuck in discovery, a plugin rescan or cleanup misses it), and
//  - no worker has been inside one handler call for longer than handler_bound (outboxd passes the
//    lease: the heartbeat keeps renewing a slow handler's rows, so nothing is lost, but a handler
//    that runs past a whole lease is taken as hung and the operator should know).
// Check() returns "" when healthy, otherwise ONE line naming the first problem found.
//
// The hot path (HandlerStarted/HandlerFinished, once per message) is two relaxed atomic stores.
//
// OWNERSHIP: plain object owned by the daemon's observability; TopicObserver pointers handed in
// must outlive it.
// THREADING: thread-safe; Beat from the control thread, Handler* from worker `worker` only, Check
// from any thread.
#ifndef OUTBOXD_OBSERVE_HEALTH_TRACKER_H_
#define OUTBOXD_OBSERVE_HEALTH_TRACKER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dispatch/dispatch_observer.h"

namespace outboxd {

class HealthTracker {
 public:
  using Clock = std::chrono::steady_clock;

  // workers: the number of worker slots (WorkerState::index is 0..workers-1).
  HealthTracker(int workers, std::chrono::milliseconds handler_bound,
                std::chrono::milliseconds control_bound);

  void Beat();  // the control loop made progress
  void HandlerStarted(int worker, TopicObserver* topic);
  void HandlerFinished(int worker);

  // "" when healthy; otherwise one line, e.g. "worker 2 has been in a handler for topic
  // 'email.send' for 31.2 s (limit 30.0 s: dispatch.lease)".
  std::string Check() const;
  std::string Check(Clock::time_point now) const;

 private:
  struct Slot {
    std::atomic<int64_t> since_ns{0};  // steady clock; 0 = not in a handler
    std::atomic<TopicObserver*> topic{nullptr};
  };
  static int64_t Ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  const int workers_;
  const std::chrono::milliseconds handler_bound_;
  const std::chrono::milliseconds control_bound_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<int64_t> last_beat_ns_;
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_HEALTH_TRACKER_H_
