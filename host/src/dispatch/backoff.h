// Retry backoff: delay(attempt) = min(60 s, 250 ms * 2^attempt) + uniform jitter [0, 250) ms, the
// reference formula (common/exponential_backoff.h does the arithmetic). attempt is the number of the attempt that just failed (1 = first delivery).
//
// THREADING: ComputeBackoff is pure; DefaultBackoff uses a thread-local generator, so both are safe
// from any thread.
#ifndef OUTBOXD_DISPATCH_BACKOFF_H_
#define OUTBOXD_DISPATCH_BACKOFF_H_

#include <chrono>
#include <functional>

namespace outboxd {

// The delay before retrying after failed attempt `attempt` (>= 1), with `jitter_ms` in [0, 250).
std::chrono::milliseconds ComputeBackoff(int attempt, int jitter_ms);

// ComputeBackoff with random jitter.
std::chrono::milliseconds DefaultBackoff(int attempt);

// Injected into the dispatcher so tests can make delays deterministic.
using BackoffPolicy = std::function<std::chrono::milliseconds(int attempt)>;

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_BACKOFF_H_
