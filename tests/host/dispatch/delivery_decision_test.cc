#include "dispatch/delivery_decision.h"

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <optional>
#include <string>

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Kind = Completion::Kind;
using Verdict = DeliveryDecision::Verdict;

// Deterministic back-off: 1000 ms * attempt, so the table can name the attempt it was asked for.
const BackoffPolicy kBackoff = [](int attempt) { return milliseconds(1000 * attempt); };
const Clock::time_point kNow = Clock::time_point(std::chrono::hours(1));
const Clock::time_point kNoDeadline = Clock::time_point::max();

OutboxMessage Row(int32_t attempts, std::optional<std::string> last_error = std::nullopt) {
  OutboxMessage m;
  m.id = 42;
  m.message_id = "m-42";
  m.topic = "email.send";
  m.attempts = attempts;
  m.last_error = std::move(last_error);
  return m;
}

TEST(DeliveryDecisionTest, AnOversizePayloadFailsBeforeDeliveryWithoutCountingAnAttempt) {
  OutboxMessage m = Row(1);
  m.payload_bytes = 52428800;
  m.payload_withheld = true;
  DeliveryLimits limits;
  limits.max_payload_bytes = 16777216;
  std::optional<DeliveryDecision> d = DecideBeforeDelivery(m, limits);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->verdict, Verdict::kOversize);
  EXPECT_EQ(d->completion.kind, Kind::kFail);
  EXPECT_FALSE(d->completion.count_attempt);
  EXPECT_EQ(d->completion.error,
            "payload of 52428800 bytes exceeds dispatch.max_payload_bytes (16777216)");
  m.payload_withheld = false;  // the same row under the cap runs
  EXPECT_FALSE(DecideBeforeDelivery(m, limits).has_value());
}

TEST(DeliveryDecisionTest, AfterDeliveryTable) {
  const struct Case {
    const char* name;
    int32_t attempts;  // before this claim (an expired lease already counted)
    int max_attempts;
    HandlerOutcome outcome;
    Kind kind;
    Verdict verdict;
    int64_t delay_ms;  // kReschedule only
    const char* error;
  } cases[] = {
      {"ok first try", 0, 5, HandlerOutcome::Ok(), Kind::kDispatched, Verdict::kDispatched, 0, ""},
      {"ok on the last attempt", 4, 5, HandlerOutcome::Ok(), Kind::kDispatched,
       Verdict::kDispatched, 0, ""},
      {"retry first try: backoff(1)", 0, 5, HandlerOutcome::Retry("busy"), Kind::kReschedule,
       Verdict::kRescheduled, 1000, "busy"},
      {"retry third try: backoff(3)", 2, 5, HandlerOutcome::Retry("busy"), Kind::kReschedule,
       Verdict::kRescheduled, 3000, "busy"},
      {"retry with requested delay", 1, 5, HandlerOutcome::Retry("later", milliseconds(250)),
       Kind::kReschedule, Verdict::kRescheduled, 250, "later"},
      {"retry with zero delay: backoff", 1, 5, HandlerOutcome::Retry("later", milliseconds(0)),
       Kind::kReschedule, Verdict::kRescheduled, 2000, "later"},
      {"retry on the last attempt: poison", 4, 5, HandlerOutcome::Retry("busy"), Kind::kFail,
       Verdict::kPoison, 0, "busy"},
      {"retry with requested delay on the last attempt", 4, 5,
       HandlerOutcome::Retry("busy", milliseconds(10)), Kind::kFail, Verdict::kPoison, 0, "busy"},
      {"max_attempts 1: the first retry is poison", 0, 1, HandlerOutcome::Retry("x"), Kind::kFail,
       Verdict::kPoison, 0, "x"},
      {"permanent failure first try", 0, 5, HandlerOutcome::PermanentFailure("bad payload"),
       Kind::kFail, Verdict::kPermanentFailure, 0, "bad payload"},
      {"permanent failure text is trimmed", 2, 5, HandlerOutcome::PermanentFailure("  bad \n"),
       Kind::kFail, Verdict::kPermanentFailure, 0, "bad"},
      {"empty retry text", 0, 5, HandlerOutcome::Retry(""), Kind::kReschedule,
       Verdict::kRescheduled, 1000, "Failure details unavailable."},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const DeliveryDecision d = DecideAfterDelivery(Row(c.attempts), c.outcome,
                                                   {c.max_attempts, milliseconds(30000)},
                                                   kBackoff, kNow, kNoDeadline);
    EXPECT_EQ(d.completion.id, 42);
    EXPECT_EQ(d.completion.kind, c.kind);
    EXPECT_EQ(d.verdict, c.verdict);
    EXPECT_EQ(d.attempt, c.attempts + 1);
    EXPECT_TRUE(d.completion.count_attempt);
    EXPECT_FALSE(d.timed_out);
    EXPECT_EQ(d.completion.error, c.error);
    if (c.kind == Kind::kReschedule) {
      EXPECT_EQ(d.completion.delay.count(), c.delay_ms);
    }
  }
}

TEST(DeliveryDecisionTest, ExpiredLeasesExhaustTheAttemptsBeforeTheRun) {
  const struct Case {
    int32_t attempts;
    int max_attempts;
    bool runs;
  } cases[] = {{0, 5, true}, {4, 5, true}, {5, 5, false}, {6, 5, false}, {1, 1, false},
               {INT32_MAX, 5, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "attempts " << c.attempts << " max " << c.max_attempts);
    const auto d = DecideBeforeDelivery(Row(c.attempts, "lease expired"), {c.max_attempts, {}});
    ASSERT_EQ(d.has_value(), !c.runs);
    if (!d) continue;
    EXPECT_EQ(d->verdict, Verdict::kExhausted);
    EXPECT_EQ(d->completion.kind, Kind::kFail);
    EXPECT_FALSE(d->completion.count_attempt);  // not run: not a new attempt
    EXPECT_EQ(d->completion.error, "Gave up after " + std::to_string(c.attempts) +
                                       " attempts; last error: lease expired");
  }
  EXPECT_EQ(DecideBeforeDelivery(Row(5), {5, {}})->completion.error,
            "Gave up after 5 attempts; last error: none");
}

TEST(DeliveryDecisionTest, NoHandler) {
  const DeliveryDecision d = DecideWithoutHandler(Row(0));
  EXPECT_EQ(d.verdict, Verdict::kNoHandler);
  EXPECT_EQ(d.completion.kind, Kind::kFail);
  EXPECT_TRUE(d.completion.count_attempt);
  EXPECT_EQ(d.completion.error, "No handler registered for topic 'email.send'");
}

TEST(DeliveryDecisionTest, ErrorTextIsBounded) {
  const DeliveryDecision d = DecideAfterDelivery(
      Row(0), HandlerOutcome::Retry(std::string(10000, 'x')), {5, milliseconds(30000)}, kBackoff,
      kNow, kNoDeadline);
  EXPECT_LE(d.completion.error.size(), 2048u);
}

TEST(DeliveryDecisionTest, PastTheDeadlineEveryFailureIsARetryNamingTheTimeout) {
  const DeliveryLimits limits{5, milliseconds(30000)};
  const struct Case {
    const char* name;
    int32_t attempts;
    HandlerOutcome outcome;
    Clock::time_point deadline;
    Kind kind;
    bool timed_out;
    int64_t delay_ms;
    const char* error;
  } cases[] = {
      {"before the deadline: as returned", 0, HandlerOutcome::PermanentFailure("bad"),
       kNow + milliseconds(1), Kind::kFail, false, 0, "bad"},
      {"at the deadline", 0, HandlerOutcome::Retry("aborted"), kNow, Kind::kReschedule, true, 1000,
       "handler exceeded dispatch.handler_timeout (30 s): aborted"},
      {"permanent failure after the deadline: a retry, host back-off", 1,
       HandlerOutcome::PermanentFailure("gave up"), kNow - milliseconds(5), Kind::kReschedule, true,
       2000, "handler exceeded dispatch.handler_timeout (30 s): gave up"},
      {"requested delay kept", 0, HandlerOutcome::Retry("aborted", milliseconds(70)),
       kNow - milliseconds(5), Kind::kReschedule, true, 70,
       "handler exceeded dispatch.handler_timeout (30 s): aborted"},
      {"no text", 0, HandlerOutcome::Retry(""), kNow - milliseconds(5), Kind::kReschedule, true,
       1000, "handler exceeded dispatch.handler_timeout (30 s)"},
      {"on the last attempt: poison", 4, HandlerOutcome::Retry("aborted"), kNow - milliseconds(5),
       Kind::kFail, true, 0, "handler exceeded dispatch.handler_timeout (30 s): aborted"},
      {"ok after the deadline stays done", 0, HandlerOutcome::Ok(), kNow - milliseconds(5),
       Kind::kDispatched, true, 0, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const DeliveryDecision d =
        DecideAfterDelivery(Row(c.attempts), c.outcome, limits, kBackoff, kNow, c.deadline);
    EXPECT_EQ(d.completion.kind, c.kind);
    EXPECT_EQ(d.timed_out, c.timed_out);
    EXPECT_EQ(d.completion.error, c.error);
    if (c.kind == Kind::kReschedule) {
      EXPECT_EQ(d.completion.delay.count(), c.delay_ms);
    }
  }
}

TEST(DeliveryDecisionTest, TimeoutTextAsTheConfigWritesIt) {
  EXPECT_EQ(HandlerTimeoutText(milliseconds(30000)),
            "handler exceeded dispatch.handler_timeout (30 s)");
  EXPECT_EQ(HandlerTimeoutText(milliseconds(1500)),
            "handler exceeded dispatch.handler_timeout (1500 ms)");
}

}  // namespace
}  // namespace outboxd
