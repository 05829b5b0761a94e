// DispatchObserver: what the Dispatcher reports about its work, for metrics and health
// (observe/metrics.h implements it; a null observer reports nothing).
//
// The hot path is kept cheap: Topic() is called once per claimed message and must be a cached
// lookup (the returned TopicObserver lives as long as the DispatchObserver, so callers may keep the
// pointer); every other call is a handful of atomic operations. Nothing here may block on I/O.
//
// OWNERSHIP: the dispatcher borrows the observer; it must outlive the dispatcher.
// THREADING: every method is called from any worker thread at once; implementations are
// thread-safe.
#ifndef OUTBOXD_DISPATCH_DISPATCH_OBSERVER_H_
#define OUTBOXD_DISPATCH_DISPATCH_OBSERVER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace outboxd {

// The outcome label of outboxd_messages_total.
enum class MessageOutcome { kDone, kRetried, kFailed, kReleased, kLeaseLost, kParked };

// Per-topic counters and the handler-duration histogram of one topic.
class TopicObserver {
 public:
  virtual ~TopicObserver() = default;
  virtual const std::string& topic() const = 0;  // as the label says it
  virtual void Count(MessageOutcome outcome, int64_t n) = 0;
  virtual void ObserveHandlerSeconds(double seconds) = 0;
};

class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;

  // One claim statement on `tenant` (the first of a batch): how long it took and what it gave.
  // rows == 0 with ok: nothing was ready and due (the backlog tracker uses that instead of a query).
  virtual void OnClaim(const std::string& tenant, double seconds, int64_t rows, bool ok) = 0;

  // The observer for `topic` (never null; cached).
  virtual TopicObserver* Topic(std::string_view topic) = 0;

  // Due time (max(created_at, due_at, next_attempt_at)) to handler start, in seconds.
  virtual void ObservePickupDelay(double seconds) = 0;

  // Worker `worker` (0-based) enters / leaves a handler call (health: a handler stuck past the
  // lease turns /healthz to 503). `topic` is the message's TopicObserver.
  virtual void HandlerStarted(int worker, TopicObserver* topic) = 0;
  virtual void HandlerFinished(int worker) = 0;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_DISPATCH_OBSERVER_H_
