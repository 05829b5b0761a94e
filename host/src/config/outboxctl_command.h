// OutboxctlCommand: the outboxctl command line, parsed and checked, with no I/O. The outboxctl main
// (host/src/app/outboxctl_main.cc) runs the command; keeping the parsing here lets it be tested
// without spawning the binary.
//
// Grammar: outboxctl <command> [--flag value | --flag=value]...
//   schema apply --connection C [--schema S] [--table T]
//   enqueue      --connection C --topic T (--payload P | --payload-file F) [--correlation-id X]
//                [--delay D] [--message-id M] [--schema S] [--table T]
//   stats        --connection C [--schema S] [--table T]
//   --help | -h, --version   (anywhere; --help wins)
// A flag's value is the next argument even when it starts with "-" (so --payload -1 works).
// Usage errors are InvalidArgument whose message names the bad argument, e.g.
// `--delay: expected a duration such as ... got "soon"` or `stats: unknown option --topic`.
//
// THREADING: pure functions; safe from any thread.
#ifndef OUTBOXD_CONFIG_OUTBOXCTL_COMMAND_H_
#define OUTBOXD_CONFIG_OUTBOXCTL_COMMAND_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "store/outbox_message.h"
#include "store/store_location.h"

namespace outboxd {

struct OutboxctlCommand {
  enum class Action { kHelp, kVersion, kSchemaApply, kEnqueue, kStats };
  Action action = Action::kHelp;

  // connection_string from --connection; schema_name / table_name from --schema / --table or the
  // StoreLocation defaults; identifier is "outboxctl".
  StoreLocation location;

  // kEnqueue only: topic, payload (from --payload), correlation_id, message_id, delay.
  NewMessage message;

  // kEnqueue only: when non-empty, the payload is read from this file ("-" = stdin) by the caller
  // and message.payload is empty. Exactly one of --payload and --payload-file is given.
  std::string payload_file;
};

// Parses `args` (argv without the program name) into *out. On error *out is unspecified.
Status ParseOutboxctlCommand(const std::vector<std::string>& args, OutboxctlCommand* out);

// The --help text (several lines, ending with a newline).
std::string OutboxctlUsage();

}  // namespace outboxd

#endif  // OUTBOXD_CONFIG_OUTBOXCTL_COMMAND_H_
