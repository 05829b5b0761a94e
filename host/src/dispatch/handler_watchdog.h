// HandlerWatchdog: watches the handler calls in flight, for the two things a blocked worker cannot
// do itself:
//  - it reports a call that runs past its deadline (dispatch.handler_timeout), once per call, at
//    the moment it passes it (a call that ends past its deadline before the thread saw it is
//    reported by its Leave, on the worker's thread): a plugin that hangs and ignores should_abort blocks its worker, and
//    without this line nothing would say which message, tenant and plugin it is (/healthz only
//    says that *some* worker is stuck: observe/health_tracker.h);
//  - it records a batch's earlier outcomes while the batch's worker is still in a call: a call may
//    be handed a `stalled` callback and a time (the oldest unrecorded outcome's age reaching
//    record_window); if the call still runs then, the watchdog runs the callback on its own thread
//    (the dispatcher records the outcomes: a hung message no longer keeps the messages handled
//    before it in progress).
//
// Workers bracket every handler call with Enter / Leave. One thread of its own, started by the
// first Enter, sleeps until the earliest time any call in flight needs it (woken by an Enter that
// needs it sooner) and does each thing once per call. Cost: Enter and Leave take one mutex each
// (a few stores, no allocation after a worker's first call); the thread wakes about once per
// record_window per busy worker at most, and never while no call runs.
//
// OWNERSHIP: Enter borrows the message, tenant, handler and cookie until the matching Leave; the
// caller keeps them alive (its worker is inside the call). Leave waits for a `stalled` callback in
// progress for that call, so the callback may use the cookie. `report` and `stalled` run on the
// watchdog thread with no lock held; `report` gets copies.
// THREADING: Enter/Leave from worker `worker` only (one call per worker index at a time); the rest
// thread-safe. The destructor stops the thread.
#ifndef OUTBOXD_DISPATCH_HANDLER_WATCHDOG_H_
#define OUTBOXD_DISPATCH_HANDLER_WATCHDOG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "dispatch/message_handler.h"
#include "store/outbox_message.h"

namespace outboxd {

class HandlerWatchdog {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Overdue {
    std::string tenant;
    std::string topic;
    std::string message_id;
    std::string handler;  // MessageHandler::Describe()
    std::chrono::milliseconds timeout;
  };
  using Report = std::function<void(const Overdue&)>;
  using Stalled = std::function<void(void* cookie)>;

  // `timeout` is only named in the report. Null `report`: LogOverdue. Null `stalled`: none.
  explicit HandlerWatchdog(std::chrono::milliseconds timeout, Report report = nullptr,
                           Stalled stalled = nullptr);
  ~HandlerWatchdog();
  HandlerWatchdog(const HandlerWatchdog&) = delete;
  HandlerWatchdog& operator=(const HandlerWatchdog&) = delete;

  // Worker `worker` (>= 0) enters a handler call for `message` of `tenant` that is due to end by
  // `deadline`. With a non-null `cookie`, `stalled(cookie)` runs once if the call is still in
  // flight at `stalled_at`.
  void Enter(int worker, const std::string& tenant, const OutboxMessage& message,
             const MessageHandler& handler, TimePoint deadline, void* cookie = nullptr,
             TimePoint stalled_at = TimePoint::max()) EXCLUDES(mu_);
  // Ends the call; waits for its `stalled` callback if one is running; reports the call (on this
  // thread, no lock held) if it ended past its deadline unreported. True when the callback ran
  // for this call.
  bool Leave(int worker) EXCLUDES(mu_);

  // Calls reported overdue so far.
  int64_t overdue() const EXCLUDES(mu_);

  // The default report: "Handler call for outbox message <id> (topic '<t>') in store '<tenant>'
  // has run past dispatch.handler_timeout (30 s) in plugin '<p>' <v>; ...".
  static void LogOverdue(const Overdue& call);

 private:
  struct Slot {
    bool active = false;
    bool reported = false;
    TimePoint deadline{};
    const std::string* tenant = nullptr;
    const OutboxMessage* message = nullptr;
    const MessageHandler* handler = nullptr;
    void* cookie = nullptr;  // null once `stalled` was called (or never wanted)
    TimePoint stalled_at = TimePoint::max();
    bool stalling = false;  // `stalled` runs now
    bool stalled = false;   // `stalled` ran
  };
  void Run() EXCLUDES(mu_);

  const std::chrono::milliseconds timeout_;
  const Report report_;
  const Stalled stalled_;
  mutable Mutex mu_;
  CondVar wake_cv_;     // the thread's sleep
  CondVar stalled_cv_;  // a Leave waiting for its call's `stalled` callback
  std::vector<Slot> slots_ GUARDED_BY(mu_);  // by worker
  TimePoint wake_at_ GUARDED_BY(mu_) = TimePoint::max();  // what the thread sleeps until
  bool kicked_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  int64_t overdue_ GUARDED_BY(mu_) = 0;
  std::thread thread_ GUARDED_BY(mu_);
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_HANDLER_WATCHDOG_H_
