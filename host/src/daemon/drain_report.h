// DescribeDrainWait: the line `outboxd --drain` logs while it waits (issue 14, finding 15): which
// outbox databases still have messages in progress under a lease (someone's: this process's or
// another's), how many, and until when the latest of those leases runs; and how many messages are
// due. --drain waits for leased rows because another process may hold them and still complete
// them; a lease that runs out makes its row claimable again, and this process then runs it.
//
// OWNERSHIP: plain values. THREADING: pure function, any thread. ERRORS: none (a tenant that could
// not be checked is named as such).
#ifndef OUTBOXD_DAEMON_DRAIN_REPORT_H_
#define OUTBOXD_DAEMON_DRAIN_REPORT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "store/outbox_message.h"

namespace outboxd {

// One tenant as the drain check saw it.
struct DrainTenant {
  std::string id;
  bool checked = false;  // false: its backlog could not be read (`error` says why)
  std::string error;
  StoreBacklog backlog;  // when checked
};

// The tenants that keep the drain waiting are listed (at most `max_listed`, then "and N more"),
// leased ones first, each with its count and when its latest lease runs out (UTC, and how far
// ahead of `now`). `in_flight_here`: messages this process is handling now. Empty when no tenant
// keeps the drain waiting.
std::string DescribeDrainWait(const std::vector<DrainTenant>& tenants, int64_t in_flight_here,
                              std::chrono::system_clock::time_point now, size_t max_listed = 10);

}  // namespace outboxd

#endif  // OUTBOXD_DAEMON_DRAIN_REPORT_H_
