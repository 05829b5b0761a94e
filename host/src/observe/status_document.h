// StatusDocument: the JSON of GET /status, from a FleetState:
//   {"version", "time", "ready", "not_ready": [...], "healthy", "unhealthy",
//    "tenants": [{"id", "location" (redacted), "state": "ok" | "backed_off", "next_retry_in_ms",
//                 "consecutive_failures", "last_error", "backlog": {...} | null, "store_errors"}],
//    "topics": {"<topic>": "<handler>"}, "parked_topics": [...],
//    "plugins": [{"name", "version", "generation", "sha256", "file", "kinds"}],
//    "discovery": {...}, "connections": {...}, "counters": {...}}
// Never a password: locations go through RedactConnectionString, and nothing else here holds a
// connection string.
//
// THREADING: a pure function.
#ifndef OUTBOXD_OBSERVE_STATUS_DOCUMENT_H_
#define OUTBOXD_OBSERVE_STATUS_DOCUMENT_H_

#include <string>
#include <vector>

#include "observe/fleet_state.h"

namespace outboxd {

std::string StatusDocument(const FleetState& state);

// The body of a 503 from /readyz: {"ready": false, "reasons": [...]}.
std::string NotReadyDocument(const std::vector<std::string>& reasons);

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_STATUS_DOCUMENT_H_
