#include "common/exponential_backoff.h"

#include <algorithm>
#include <cstdint>

namespace outboxd {

std::chrono::milliseconds ExponentialDelay(std::chrono::milliseconds base,
                                           std::chrono::milliseconds cap, int step) {
  int64_t delay = std::max<int64_t>(0, base.count());
  const int64_t limit = cap.count();
  for (int i = 0; i < step && delay < limit; ++i) {
    delay = delay > limit / 2 ? limit : delay * 2;
    if (delay == 0) break;
  }
  return std::chrono::milliseconds(std::min(delay, limit));
}

std::chrono::milliseconds NextExponentialDelay(std::chrono::milliseconds current,
                                               std::chrono::milliseconds base,
                                               std::chrono::milliseconds cap) {
  const int64_t limit = cap.count();
  const int64_t doubled = current.count() > limit / 2 ? limit : current.count() * 2;
  return std::chrono::milliseconds(std::min(limit, std::max(base.count(), doubled)));
}

}  // namespace outboxd
