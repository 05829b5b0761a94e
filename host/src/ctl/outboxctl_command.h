// OutboxctlCommand: the outboxctl command line, parsed and checked, with no I/O. ctl/outboxctl_run.h
// runs it; keeping the parsing here lets it be tested without spawning the binary.
//
// Grammar: outboxctl <command> <source> [--flag value | --flag=value | --switch]...
//   source: --config FILE [--tenant ID]        every tenant outboxd's discovery lists (or one)
//         | --connection C [--schema S] [--table T]   one database
//   tenants        [--json]
//   stats          [--json]
//   failed list    [--topic T] [--since D] [--limit N] [--json]
//   failed show    --message-id M [--json]                 (--config needs --tenant)
//   replay         (--message-id M [--message-id M2 ...] | --topic T | --all-failed) [--dry-run]
//                  [--json]
//   purge          --failed [--older-than D] [--topic T] (--dry-run | --yes) [--json]
//   enqueue        --topic T (--payload P | --payload-file F) [--correlation-id X] [--delay D]
//                  [--message-id M]                        (--config needs --tenant)
//   schema apply   [--json]
//   schema status  [--json]
//   --help | -h, --version   (anywhere; --help wins)
// A flag's value is the next argument even when it starts with "-" (so --payload -1 works). The
// switches --json, --dry-run, --yes, --all-failed and --failed take no value. Only --message-id of
// `replay` may be repeated.
// Usage errors are InvalidArgument whose message names the bad argument, e.g.
// `--delay: expected a duration such as ... got "soon"` or `stats: unknown option --topic`.
//
// THREADING: pure functions; safe from any thread.
#ifndef OUTBOXD_CTL_OUTBOXCTL_COMMAND_H_
#define OUTBOXD_CTL_OUTBOXCTL_COMMAND_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/outbox_message.h"
#include "store/tenant_location.h"

namespace outboxd {

struct OutboxctlCommand {
  enum class Action {
    kHelp,
    kVersion,
    kSchemaApply,
    kSchemaStatus,
    kEnqueue,
    kStats,
    kTenants,
    kFailedList,
    kFailedShow,
    kReplay,
    kPurge,
  };
  Action action = Action::kHelp;

  // Exactly one source is set. config_path (from --config): outboxd's configuration file; tenants
  // come from its discovery plugin, all of them or only `tenant` (--tenant) when non-empty.
  std::string config_path;
  std::string tenant;
  // Otherwise `location`: connection_string from --connection; schema_name / table_name from
  // --schema / --table or the TenantLocation defaults; identifier is the redacted connection string,
  // so that errors name the database.
  TenantLocation location;

  bool json = false;  // --json: machine-readable output

  // kEnqueue only: topic, payload (from --payload), correlation_id, message_id, delay.
  NewMessage message;
  // kEnqueue only: when non-empty, the payload is read from this file ("-" = stdin) by the caller
  // and message.payload is empty. Exactly one of --payload and --payload-file is given.
  std::string payload_file;

  // Row selection for failed list / failed show / replay / purge.
  std::string topic;                             // --topic; empty: any
  std::vector<std::string> message_ids;          // --message-id (failed show: exactly one)
  bool all_failed = false;                       // replay --all-failed
  std::optional<std::chrono::milliseconds> since;       // failed list --since: processed within
  std::optional<std::chrono::milliseconds> older_than;  // purge --older-than: processed before
  int limit = 100;                               // failed list --limit, per tenant, 1..100000
  bool dry_run = false;                          // replay / purge --dry-run: count, change nothing
  bool yes = false;                              // purge --yes: really delete
};

// Parses `args` (argv without the program name) into *out. On error *out is unspecified.
Status ParseOutboxctlCommand(const std::vector<std::string>& args, OutboxctlCommand* out);

// The --help text (several lines, ending with a newline).
std::string OutboxctlUsage();

}  // namespace outboxd

#endif  // OUTBOXD_CTL_OUTBOXCTL_COMMAND_H_
