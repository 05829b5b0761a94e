#include "config/outboxctl_command.h"

#include <algorithm>
#include <map>
#include <utility>

#include "common/duration.h"

namespace outboxd {
namespace {

using Action = OutboxctlCommand::Action;

// argv split into command words and --flag values.
struct SplitArgs {
  std::vector<std::string> words;
  std::map<std::string, std::string> flags;  // "--topic" -> value
  bool help = false;
  bool version = false;
  Status error;
};

// Keeps scanning after a bad argument so that --help and --version still win; *out->error holds the
// first problem.
void Split(const std::vector<std::string>& args, SplitArgs* out) {
  auto fail = [out](std::string message) {
    if (out->error.ok()) out->error = Status::InvalidArgument(std::move(message));
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out->help = true;
    } else if (arg == "--version") {
      out->version = true;
    } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      size_t eq = arg.find('=');
      std::string name = arg.substr(0, eq);
      std::string value;
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        fail(name + ": missing value");
        continue;
      }
      if (!out->flags.emplace(name, std::move(value)).second) fail(name + ": given more than once");
    } else if (arg.size() > 1 && arg[0] == '-') {
      fail("unknown option " + arg);
    } else {
      out->words.push_back(arg);
    }
  }
}

Status ResolveAction(const std::vector<std::string>& words, Action* action, std::string* name) {
  if (words.empty()) {
    return Status::InvalidArgument("missing command (schema apply, enqueue, stats)");
  }
  size_t used = 1;
  if (words[0] == "enqueue") {
    *action = Action::kEnqueue;
  } else if (words[0] == "stats") {
    *action = Action::kStats;
  } else if (words[0] == "schema") {
    if (words.size() < 2 || words[1] != "apply") {
      return Status::InvalidArgument(
          "schema: expected the subcommand \"apply\"" +
          (words.size() < 2 ? std::string() : ", got \"" + words[1] + "\""));
    }
    *action = Action::kSchemaApply;
    used = 2;
  } else {
    return Status::InvalidArgument("unknown command \"" + words[0] +
                                   "\" (expected schema apply, enqueue or stats)");
  }
  if (words.size() > used) {
    return Status::InvalidArgument("unexpected argument \"" + words[used] + "\"");
  }
  *name = used == 2 ? "schema apply" : words[0];
  return Status::OK();
}

// Reads flags off `flags` one by one; whatever is left at the end is unknown for the command.
class FlagTaker {
 public:
  FlagTaker(std::map<std::string, std::string> flags, std::string command)
      : flags_(std::move(flags)), command_(std::move(command)) {}

  // Non-empty value. Leaves *out alone when absent and not required.
  Status Take(const std::string& name, bool required, std::string* out) {
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      return required ? Status::InvalidArgument(name + ": required for " + command_) : Status::OK();
    }
    if (it->second.empty()) return Status::InvalidArgument(name + ": must not be empty");
    *out = std::move(it->second);
    flags_.erase(it);
    return Status::OK();
  }

  // Any value, possibly empty. *present says whether the flag was given.
  void TakeRaw(const std::string& name, bool* present, std::string* out) {
    auto it = flags_.find(name);
    *present = it != flags_.end();
    if (!*present) return;
    *out = std::move(it->second);
    flags_.erase(it);
  }

  Status CheckNoneLeft() const {
    if (flags_.empty()) return Status::OK();
    return Status::InvalidArgument(command_ + ": unknown option " + flags_.begin()->first);
  }

 private:
  std::map<std::string, std::string> flags_;
  std::string command_;
};

Status TakeLocation(FlagTaker* flags, StoreLocation* location) {
  location->identifier = "outboxctl";
  OBX_RETURN_IF_ERROR(flags->Take("--connection", true, &location->connection_string));
  OBX_RETURN_IF_ERROR(flags->Take("--schema", false, &location->schema_name));
  return flags->Take("--table", false, &location->table_name);
}

Status TakeMessage(FlagTaker* flags, OutboxctlCommand* out) {
  NewMessage& message = out->message;
  OBX_RETURN_IF_ERROR(flags->Take("--topic", true, &message.topic));
  bool has_payload = false;
  flags->TakeRaw("--payload", &has_payload, &message.payload);
  OBX_RETURN_IF_ERROR(flags->Take("--payload-file", false, &out->payload_file));
  if (has_payload && !out->payload_file.empty()) {
    return Status::InvalidArgument("--payload-file: cannot be combined with --payload");
  }
  if (!has_payload && out->payload_file.empty()) {
    return Status::InvalidArgument("--payload: required for enqueue (or --payload-file)");
  }
  std::string text;
  OBX_RETURN_IF_ERROR(flags->Take("--correlation-id", false, &text));
  if (!text.empty()) message.correlation_id = text;
  text.clear();
  OBX_RETURN_IF_ERROR(flags->Take("--message-id", false, &text));
  if (!text.empty()) message.message_id = text;
  text.clear();
  OBX_RETURN_IF_ERROR(flags->Take("--delay", false, &text));
  if (!text.empty()) {
    OBX_RETURN_IF_ERROR(ParseDuration(text, &message.delay).WithContext("--delay"));
  }
  return Status::OK();
}

}  // namespace

Status ParseOutboxctlCommand(const std::vector<std::string>& args, OutboxctlCommand* out) {
  SplitArgs split;
  Split(args, &split);
  *out = OutboxctlCommand();
  if (split.help) return Status::OK();
  if (split.version) {
    out->action = Action::kVersion;
    return Status::OK();
  }
  OBX_RETURN_IF_ERROR(split.error);
  std::string name;
  OBX_RETURN_IF_ERROR(ResolveAction(split.words, &out->action, &name));
  FlagTaker flags(std::move(split.flags), name);
  OBX_RETURN_IF_ERROR(TakeLocation(&flags, &out->location));
  if (out->action == Action::kEnqueue) OBX_RETURN_IF_ERROR(TakeMessage(&flags, out));
  return flags.CheckNoneLeft();
}

std::string OutboxctlUsage() {
  return "usage: outboxctl <command> [options]\n"
         "\n"
         "commands:\n"
         "  schema apply --connection C [--schema S] [--table T]\n"
         "      create the database (SQLite), the outbox table and its index if missing\n"
         "  enqueue --connection C --topic T (--payload P | --payload-file F) [--correlation-id "
         "X]\n"
         "          [--delay D] [--message-id M] [--schema S] [--table T]\n"
         "      insert one message and print its message id; --payload-file - reads stdin;\n"
         "      --delay makes it due later (e.g. 30s, 5m, 1h30m)\n"
         "  stats --connection C [--schema S] [--table T]\n"
         "      print {\"ready\":n,\"in_progress\":n,\"done\":n,\"failed\":n}\n"
         "\n"
         "options:\n"
         "  --connection C  \"sqlite:<path>\" or \"postgresql://user:password@host/db\"\n"
         "  --schema S      schema of the outbox table (default infra; ignored by SQLite)\n"
         "  --table T       outbox table (default outbox)\n"
         "  --help, -h      show this text\n"
         "  --version       show the version\n"
         "\n"
         "exit status: 0 success, 1 database or file error, 2 usage error\n";
}

}  // namespace outboxd
