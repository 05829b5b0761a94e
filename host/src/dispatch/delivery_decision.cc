#include "dispatch/delivery_decision.h"

#include <utility>

#include "dispatch/failure_text.h"

namespace outboxd {
namespace {

DeliveryDecision Fail(const OutboxMessage& message, DeliveryDecision::Verdict verdict,
                      std::string error) {
  DeliveryDecision d;
  d.completion.id = message.id;
  d.completion.kind = Completion::Kind::kFail;
  d.completion.error = std::move(error);
  d.verdict = verdict;
  d.attempt = int64_t{message.attempts} + 1;  // attempts saturates at INT32_MAX
  return d;
}

}  // namespace

std::string HandlerTimeoutSetting(std::chrono::milliseconds timeout) {
  const int64_t ms = timeout.count();
  const std::string amount =
      ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
  return "dispatch.handler_timeout (" + amount + ")";
}

std::string HandlerTimeoutText(std::chrono::milliseconds timeout) {
  return "handler exceeded " + HandlerTimeoutSetting(timeout);
}

std::optional<DeliveryDecision> DecideBeforeDelivery(const OutboxMessage& message,
                                                     const DeliveryLimits& limits) {
  if (message.payload_withheld && message.attempts < limits.max_attempts) {
    // Over the cap: never read, never run (issue 14 finding 19), so not an attempt either.
    DeliveryDecision d = Fail(message, DeliveryDecision::Verdict::kOversize,
                              "payload of " + std::to_string(message.payload_bytes) +
                                  " bytes exceeds dispatch.max_payload_bytes (" +
                                  std::to_string(limits.max_payload_bytes) + ")");
    d.completion.count_attempt = false;
    return d;
  }
  if (message.attempts < limits.max_attempts) return std::nullopt;
  // Not run again, so not a new attempt: the count stays what the message says (issue 14 finding
  // 14: "Gave up after N attempts" and the column agree).
  DeliveryDecision d = Fail(message, DeliveryDecision::Verdict::kExhausted,
                            BoundFailureText("Gave up after " + std::to_string(message.attempts) +
                                             " attempts; last error: " +
                                             message.last_error.value_or("none")));
  d.completion.count_attempt = false;
  return d;
}

DeliveryDecision DecideWithoutHandler(const OutboxMessage& message) {
  return Fail(message, DeliveryDecision::Verdict::kNoHandler,
              "No handler registered for topic '" + message.topic + "'");
}

DeliveryDecision DecideAfterDelivery(const OutboxMessage& message, const HandlerOutcome& outcome,
                                     const DeliveryLimits& limits, const BackoffPolicy& backoff,
                                     std::chrono::steady_clock::time_point returned_at,
                                     std::chrono::steady_clock::time_point deadline) {
  const bool timed_out = returned_at >= deadline;
  HandlerOutcome::Kind kind = outcome.kind;
  std::string error = outcome.error;
  std::chrono::milliseconds retry_after = outcome.retry_after;
  if (timed_out && kind != HandlerOutcome::Kind::kOk) {
    if (kind != HandlerOutcome::Kind::kRetry) retry_after = std::chrono::milliseconds(0);
    kind = HandlerOutcome::Kind::kRetry;
    error = HandlerTimeoutText(limits.handler_timeout) + (error.empty() ? "" : ": " + error);
  }
  DeliveryDecision d;
  d.completion.id = message.id;
  d.attempt = int64_t{message.attempts} + 1;
  d.timed_out = timed_out;
  switch (kind) {
    case HandlerOutcome::Kind::kOk:
      d.completion.kind = Completion::Kind::kDispatched;
      d.verdict = DeliveryDecision::Verdict::kDispatched;
      return d;
    case HandlerOutcome::Kind::kPermanentFailure:
      d.completion.kind = Completion::Kind::kFail;
      d.completion.error = BoundFailureText(error);
      d.verdict = DeliveryDecision::Verdict::kPermanentFailure;
      return d;
    case HandlerOutcome::Kind::kRetry:
      break;
  }
  d.completion.error = BoundFailureText(error);
  if (d.attempt >= limits.max_attempts) {
    d.completion.kind = Completion::Kind::kFail;
    d.verdict = DeliveryDecision::Verdict::kPoison;
  } else {
    d.completion.kind = Completion::Kind::kReschedule;
    d.completion.delay = retry_after.count() > 0 ? retry_after : backoff(static_cast<int>(d.attempt));
    d.verdict = DeliveryDecision::Verdict::kRescheduled;
  }
  return d;
}

}  // namespace outboxd
