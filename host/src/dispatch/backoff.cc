#include "dispatch/backoff.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace outboxd {

std::chrono::milliseconds ComputeBackoff(int attempt, int jitter_ms) {
  const int exponent = std::clamp(attempt, 0, 10);
  const int64_t base = std::min<int64_t>(60'000, int64_t{250} << exponent);
  return std::chrono::milliseconds(base + std::clamp(jitter_ms, 0, 249));
}

std::chrono::milliseconds DefaultBackoff(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> jitter(0, 249);
  return ComputeBackoff(attempt, jitter(rng));
}

}  // namespace outboxd
