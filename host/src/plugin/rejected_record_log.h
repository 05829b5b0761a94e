// RejectedRecordLog: which skipped discovery records are logged, and how many there are (issue 14,
// finding 18). A record the host rejects (invalid identifier, empty connection string, duplicate,
// ...) is usually rejected again at every refresh until someone fixes the directory; logging it
// every refresh buries everything else. So a rejected record is logged (at warning) the first time,
// again at once when its record or the reason changes, and otherwise at most once every
// kRepeatEvery while it stays rejected. A record that stops being rejected is forgotten, so it is
// logged again if it comes back.
//
// Counts: every rejection of every listing adds to a process-wide counter
// (outboxd_discovery_records_rejected_total), and the number rejected by the latest listing is kept
// as a gauge (outboxd_discovery_records_rejected); both are read by daemon/observability.
//
// OWNERSHIP: one per DiscoveryInstance. THREADING: thread-safe (records may be emitted from plugin
// helper threads); the static counters are atomics.
#ifndef OUTBOXD_PLUGIN_REJECTED_RECORD_LOG_H_
#define OUTBOXD_PLUGIN_REJECTED_RECORD_LOG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>

#include "common/mutex.h"

namespace outboxd {

class RejectedRecordLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::minutes kRepeatEvery{10};

  // A listing starts (a failed listing may have left a partial count behind).
  void StartListing();

  // One rejected record of the current listing, identified by everything that makes it what it is
  // (identifier, connection string, schema, table and the reason). True when it must be logged
  // now; *repeat tells whether it was logged before (so the line can say it is still rejected).
  bool ShouldLog(std::string_view fingerprint, Clock::time_point now, bool* repeat);

  // The listing is complete: records not rejected in it are forgotten; the gauge is set.
  void EndListing();

  // Process-wide: rejections counted over every listing, and the latest listing's count.
  static int64_t RejectedTotal();
  static int64_t RejectedInLastListing();

 private:
  Mutex mu_;
  std::map<size_t, Clock::time_point> logged_at_ GUARDED_BY(mu_);  // by fingerprint hash
  std::set<size_t> seen_in_listing_ GUARDED_BY(mu_);
  int64_t rejected_in_listing_ GUARDED_BY(mu_) = 0;
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_REJECTED_RECORD_LOG_H_
