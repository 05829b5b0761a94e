// DeliveryDecision: what the dispatcher records for one claimed row, decided from what happened to
// it, as pure functions: no store, no clock (the time a handler call returned is passed in), no
// logging, no randomness beyond the back-off policy handed in. The dispatcher logs and counts from
// the Verdict; dispatch/dispatcher.h describes where each case comes from.
//
//   attempts already >= max_attempts (leases expired that often: the message keeps crashing or
//     stalling its worker)            -> kFail, not run again, attempts not incremented (kExhausted)
//   payload over dispatch.max_payload_bytes (the store withheld it: payload_withheld)
//                                     -> kFail "payload of N bytes exceeds
//                                        dispatch.max_payload_bytes (M)", not run, no attempt
//                                        counted (kOversize)
//   no handler for the topic          -> kFail "No handler registered for topic '<topic>'"
//   OK                                -> kDispatched (even when the call overran its deadline: the
//                                        work is done, a retry would deliver it twice)
//   RETRY                             -> kReschedule after retry_after (> 0) or backoff(attempt);
//                                        kFail (kPoison) when attempt >= max_attempts
//   PERMANENT FAILURE                 -> kFail
//   RETRY or PERMANENT FAILURE returned at or after the call's deadline (dispatch.handler_timeout:
//     the plugin was told to give up through should_abort) -> treated as RETRY with last_error
//     "handler exceeded dispatch.handler_timeout (<timeout>)[: <plugin's text>]", the host's
//     back-off (the plugin's retry_after is kept when it asked for a RETRY)
// where attempt = attempts + 1 (this delivery). Error texts are bounded (dispatch/failure_text.h).
//
// THREADING: pure functions; safe from any thread (backoff must be, too).
#ifndef OUTBOXD_DISPATCH_DELIVERY_DECISION_H_
#define OUTBOXD_DISPATCH_DELIVERY_DECISION_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "dispatch/backoff.h"
#include "plugin/handler_outcome.h"
#include "store/outbox_message.h"

namespace outboxd {

struct DeliveryDecision {
  enum class Verdict {
    kDispatched,
    kRescheduled,
    kPermanentFailure,  // the handler said so
    kPoison,            // a retry was due but attempt reached max_attempts
    kExhausted,         // attempts were exhausted before this claim: not run
    kOversize,          // the payload is over the cap (withheld by the store): not run
    kNoHandler,
  };
  Completion completion;  // what to record (id, kind, delay, error, count_attempt)
  Verdict verdict = Verdict::kDispatched;
  int64_t attempt = 0;     // the delivery's attempt number (attempts + 1)
  bool timed_out = false;  // the call returned at or after its deadline
};

struct DeliveryLimits {
  int max_attempts = 5;
  std::chrono::milliseconds handler_timeout{30000};  // only named in the timeout's error text
  int64_t max_payload_bytes = 16 * 1024 * 1024;  // only named in the over-size error text
};

// For a claimed row before it runs: the decision when it must not run because its attempts are
// already exhausted (kExhausted) or its payload is over the cap (kOversize); nullopt when it may
// be delivered.
std::optional<DeliveryDecision> DecideBeforeDelivery(const OutboxMessage& message,
                                                     const DeliveryLimits& limits);

// For a claimed row whose topic has no handler (and is not parked).
DeliveryDecision DecideWithoutHandler(const OutboxMessage& message);

// For a row whose handler call returned `outcome` at `returned_at`; `deadline` is the call's.
DeliveryDecision DecideAfterDelivery(const OutboxMessage& message, const HandlerOutcome& outcome,
                                     const DeliveryLimits& limits, const BackoffPolicy& backoff,
                                     std::chrono::steady_clock::time_point returned_at,
                                     std::chrono::steady_clock::time_point deadline);

// "dispatch.handler_timeout (30 s)": the setting and its value (whole seconds when it is a whole
// number of them, milliseconds otherwise).
std::string HandlerTimeoutSetting(std::chrono::milliseconds timeout);
// "handler exceeded dispatch.handler_timeout (30 s)": the start of a timed-out call's last_error.
std::string HandlerTimeoutText(std::chrono::milliseconds timeout);

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_DELIVERY_DECISION_H_
