#include "dispatch/backoff.h"

#include <algorithm>
#include <random>

#include "common/exponential_backoff.h"

namespace outboxd {

std::chrono::milliseconds ComputeBackoff(int attempt, int jitter_ms) {
  return ExponentialDelay(std::chrono::milliseconds(250), std::chrono::milliseconds(60'000),
                          attempt) +
         std::chrono::milliseconds(std::clamp(jitter_ms, 0, 249));
}

std::chrono::milliseconds DefaultBackoff(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> jitter(0, 249);
  return ComputeBackoff(attempt, jitter(rng));
}

}  // namespace outboxd
