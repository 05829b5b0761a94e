// DispatchCounters: process-wide totals, for logs, tests and the periodic status line.
// THREADING: lock-free atomics; read and incremented from any thread.
#ifndef OUTBOXD_DISPATCH_DISPATCH_COUNTERS_H_
#define OUTBOXD_DISPATCH_DISPATCH_COUNTERS_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace outboxd {

struct DispatchCounters {
  std::atomic<int64_t> claimed{0};        // rows claimed (including expired leases taken over)
  std::atomic<int64_t> dispatched{0};     // handler OK, recorded as done
  std::atomic<int64_t> rescheduled{0};    // transient failure, retry scheduled
  std::atomic<int64_t> failed{0};         // poison / no handler / attempts exhausted
  std::atomic<int64_t> released{0};       // claimed but not started (shutdown): back to ready
  std::atomic<int64_t> parked{0};         // released because their topic is parked (hot reload)
  std::atomic<int64_t> lease_lost{0};     // completions not applied: the lease had been lost
  std::atomic<int64_t> store_errors{0};   // database calls that failed
  std::atomic<int64_t> unrecorded{0};     // outcomes that could not be recorded (redelivered later)

  std::string ToString() const;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_DISPATCH_COUNTERS_H_
