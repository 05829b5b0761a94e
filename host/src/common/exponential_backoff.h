// ExponentialDelay: the one formula behind every doubling delay in outboxd (the retry back-off of a
// message, a failing tenant's back-off, the NOTIFY listener's reconnects, discovery retries,
// retried outcome recording, a tenant's idle polling). Each caller keeps its own numbers (base,
// cap) and its own jitter; only the arithmetic lives here.
//
// THREADING: pure functions, safe from any thread. Never overflow, whatever the step.
#ifndef OUTBOXD_COMMON_EXPONENTIAL_BACKOFF_H_
#define OUTBOXD_COMMON_EXPONENTIAL_BACKOFF_H_

#include <chrono>

namespace outboxd {

// min(cap, base * 2^step); a step < 0 reads as 0. base and cap are expected >= 0.
std::chrono::milliseconds ExponentialDelay(std::chrono::milliseconds base,
                                           std::chrono::milliseconds cap, int step);

// The delay after `current` in the same sequence, for callers that keep the delay rather than the
// step: min(cap, max(base, 2 * current)). Starting from base it yields ExponentialDelay(base, cap,
// 1), (.., 2), ...
std::chrono::milliseconds NextExponentialDelay(std::chrono::milliseconds current,
                                               std::chrono::milliseconds base,
                                               std::chrono::milliseconds cap);

}  // namespace outboxd

#endif  // OUTBOXD_COMMON_EXPONENTIAL_BACKOFF_H_
