// RunOutboxctl: runs one outboxctl command line (ctl/outboxctl_command.h) and returns the exit
// status. host/src/app/outboxctl_main.cc is a thin wrapper around it.
//
// Output contract (scripts rely on it; docs/operations.md shows examples):
//   --connection forms keep their 0.1 output:
//     schema apply  stdout "schema ready: <table> in <redacted connection>"
//     enqueue       stdout the message id alone on one line (also with --config --tenant)
//     stats         stdout {"ready":n,"in_progress":n,"done":n,"failed":n} on one line
//   every other form prints an aligned table (ctl/text_table.h), one row per tenant in discovery
//   order, or with --json one JSON document:
//     tenants       [{"tenant","engine","location","reachable","ready","in_progress","failed",
//                     "oldest_ready_age_s"}]
//     stats         {"tenants":[{"tenant","ready","in_progress","done","failed",
//                     "oldest_ready_age_s"}],"total":{same keys but tenant}}
//                   with dispatch.unknown_topic "park" each tenant and the total also carry
//                   "parked" (ready rows whose topic no handler serves: the config's
//                   handlers[].topics and the topics handler plugins declare) and
//                   "parked_topics" (those topics, sorted); under "fail" neither key exists
//     failed list   [{"tenant","id","message_id","topic","attempts","processed_at","last_error"}]
//                   (last_error: its first line; processed_at: "YYYY-MM-DDTHH:MM:SS.mmmZ", UTC)
//     failed show   [{every column, payload included, plus "tenant"}] (one per matching row)
//     replay        {"tenants":[{"tenant","replayed"}],"total":n,"dry_run":b}
//                   ("would_replay" instead of "replayed" with --dry-run)
//     purge         {"tenants":[{"tenant","purged"}],"total":n,"dry_run":b} ("would_purge")
//     schema apply  [{"tenant","table","location","ready"}]
//     schema status [{"tenant","table","version","binary_version","state"}], state one of
//                   "missing", "upgrade pending", "current", "newer than this binary"
//   oldest_ready_age_s is null when a tenant has no ready row.
//   A tenant that fails is reported on its own row ("error" key in JSON, with "reachable": false in
//   `tenants`) and as one line "outboxctl: tenant '<id>' (<redacted location>): <message>" on
//   stderr; the other tenants still answer.
// Exit status: 0 success; 1 any tenant, database, discovery or file error; 2 usage or configuration
// error (one line on stderr naming the argument or config key). Passwords are never printed.
//
// THREADING: call from one thread; tenants are visited on TenantFleet's threads.
#ifndef OUTBOXD_CTL_OUTBOXCTL_RUN_H_
#define OUTBOXD_CTL_OUTBOXCTL_RUN_H_

#include <string>
#include <vector>

namespace outboxd {

inline constexpr int kOutboxctlOk = 0;
inline constexpr int kOutboxctlError = 1;
inline constexpr int kOutboxctlUsage = 2;

// `args`: argv without the program name. Writes to stdout and stderr.
int RunOutboxctl(const std::vector<std::string>& args);

}  // namespace outboxd

#endif  // OUTBOXD_CTL_OUTBOXCTL_RUN_H_
