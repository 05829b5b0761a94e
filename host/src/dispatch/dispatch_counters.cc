#include "dispatch/dispatch_counters.h"

#include <spdlog/fmt/fmt.h>

namespace outboxd {

std::string DispatchCounters::ToString() const {
  return fmt::format(
      "claimed={} dispatched={} rescheduled={} failed={} released={} parked={} lease_lost={} "
      "store_errors={} unrecorded={}",
      claimed.load(), dispatched.load(), rescheduled.load(), failed.load(), released.load(),
      parked.load(), lease_lost.load(), store_errors.load(), unrecorded.load());
}

}  // namespace outboxd
