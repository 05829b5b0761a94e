#include "ctl/outboxctl_command.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "common/duration.h"

namespace outboxd {
namespace {

using Action = OutboxctlCommand::Action;

const std::set<std::string>& Switches() {
  static const std::set<std::string> switches = {"--json", "--dry-run", "--yes", "--all-failed",
                                                 "--failed"};
  return switches;
}

// argv split into command words, --flag values (in order, repeats kept) and switches.
struct SplitArgs {
  std::vector<std::string> words;
  std::map<std::string, std::vector<std::string>> flags;  // "--topic" -> values
  std::set<std::string> switches;                         // "--json", ...
  bool help = false;
  bool version = false;
  Status error;
};

// Keeps scanning after a bad argument so that --help and --version still win; out->error holds the
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
      if (Switches().count(name) > 0) {
        if (eq != std::string::npos) fail(name + ": takes no value");
        if (!out->switches.insert(name).second) fail(name + ": given more than once");
        continue;
      }
      std::string value;
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        fail(name + ": missing value");
        continue;
      }
      out->flags[name].push_back(std::move(value));
    } else if (arg.size() > 1 && arg[0] == '-') {
      fail("unknown option " + arg);
    } else {
      out->words.push_back(arg);
    }
  }
}

constexpr char kCommands[] =
    "tenants, stats, failed list, failed show, replay, purge, enqueue, schema apply, schema status";

Status ResolveAction(const std::vector<std::string>& words, Action* action, std::string* name) {
  if (words.empty()) return Status::InvalidArgument(std::string("missing command (") + kCommands + ")");
  struct Sub {
    const char* word;
    Action action;
  };
  auto pick = [&](const std::string& group, std::initializer_list<Sub> subs) -> Status {
    std::string expected;
    for (const Sub& s : subs) {
      if (words.size() >= 2 && words[1] == s.word) {
        *action = s.action;
        *name = group + " " + s.word;
        return Status::OK();
      }
      expected += std::string(expected.empty() ? "\"" : " or \"") + s.word + "\"";
    }
    return Status::InvalidArgument(group + ": expected the subcommand " + expected +
                                   (words.size() < 2 ? std::string() : ", got \"" + words[1] + "\""));
  };
  size_t used = 1;
  const std::string& w = words[0];
  if (w == "enqueue") {
    *action = Action::kEnqueue;
  } else if (w == "stats") {
    *action = Action::kStats;
  } else if (w == "tenants") {
    *action = Action::kTenants;
  } else if (w == "replay") {
    *action = Action::kReplay;
  } else if (w == "purge") {
    *action = Action::kPurge;
  } else if (w == "schema") {
    OBX_RETURN_IF_ERROR(pick("schema", {{"apply", Action::kSchemaApply},
                                        {"status", Action::kSchemaStatus}}));
    used = 2;
  } else if (w == "failed") {
    OBX_RETURN_IF_ERROR(pick("failed", {{"list", Action::kFailedList},
                                        {"show", Action::kFailedShow}}));
    used = 2;
  } else {
    return Status::InvalidArgument("unknown command \"" + w + "\" (expected " + kCommands + ")");
  }
  if (words.size() > used) {
    return Status::InvalidArgument("unexpected argument \"" + words[used] + "\"");
  }
  if (used == 1) *name = w;
  return Status::OK();
}

// Reads flags off `split` one by one; whatever is left at the end is unknown for the command.
class FlagTaker {
 public:
  FlagTaker(SplitArgs* split, std::string command)
      : flags_(std::move(split->flags)), switches_(std::move(split->switches)),
        command_(std::move(command)) {}

  const std::string& command() const { return command_; }
  bool Has(const std::string& name) const { return flags_.count(name) > 0; }

  // Non-empty value, given at most once. Leaves *out alone when absent and not required.
  Status Take(const std::string& name, bool required, std::string* out) {
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      return required ? Status::InvalidArgument(name + ": required for " + command_) : Status::OK();
    }
    if (it->second.size() > 1) return Status::InvalidArgument(name + ": given more than once");
    if (it->second[0].empty()) return Status::InvalidArgument(name + ": must not be empty");
    *out = std::move(it->second[0]);
    flags_.erase(it);
    return Status::OK();
  }

  // Every value of a repeatable flag (non-empty each); none when absent.
  Status TakeAll(const std::string& name, std::vector<std::string>* out) {
    auto it = flags_.find(name);
    if (it == flags_.end()) return Status::OK();
    for (const std::string& v : it->second) {
      if (v.empty()) return Status::InvalidArgument(name + ": must not be empty");
    }
    *out = std::move(it->second);
    flags_.erase(it);
    return Status::OK();
  }

  // Any value, possibly empty, given at most once. *present says whether the flag was given.
  Status TakeRaw(const std::string& name, bool* present, std::string* out) {
    auto it = flags_.find(name);
    *present = it != flags_.end();
    if (!*present) return Status::OK();
    if (it->second.size() > 1) return Status::InvalidArgument(name + ": given more than once");
    *out = std::move(it->second[0]);
    flags_.erase(it);
    return Status::OK();
  }

  bool TakeSwitch(const std::string& name) { return switches_.erase(name) > 0; }

  Status TakeDuration(const std::string& name, std::optional<std::chrono::milliseconds>* out) {
    std::string text;
    OBX_RETURN_IF_ERROR(Take(name, false, &text));
    if (text.empty()) return Status::OK();
    std::chrono::milliseconds d{0};
    OBX_RETURN_IF_ERROR(ParseDuration(text, &d).WithContext(name));
    *out = d;
    return Status::OK();
  }

  Status CheckNoneLeft() const {
    if (!flags_.empty()) {
      return Status::InvalidArgument(command_ + ": unknown option " + flags_.begin()->first);
    }
    if (!switches_.empty()) {
      return Status::InvalidArgument(command_ + ": unknown option " + *switches_.begin());
    }
    return Status::OK();
  }

 private:
  std::map<std::string, std::vector<std::string>> flags_;
  std::set<std::string> switches_;
  std::string command_;
};

Status TakeSource(FlagTaker* flags, OutboxctlCommand* out) {
  const bool has_config = flags->Has("--config");
  const bool has_connection = flags->Has("--connection");
  if (has_config && has_connection) {
    return Status::InvalidArgument("--config: cannot be combined with --connection");
  }
  if (!has_config && !has_connection) {
    return Status::InvalidArgument("--connection or --config: required for " + flags->command());
  }
  if (has_config) {
    OBX_RETURN_IF_ERROR(flags->Take("--config", true, &out->config_path));
    OBX_RETURN_IF_ERROR(flags->Take("--tenant", false, &out->tenant));
    if (flags->Has("--schema") || flags->Has("--table")) {
      return Status::InvalidArgument(std::string(flags->Has("--schema") ? "--schema" : "--table") +
                                     ": only with --connection (discovery names each tenant's table)");
    }
    return Status::OK();
  }
  if (flags->Has("--tenant")) {
    return Status::InvalidArgument("--tenant: only with --config (--connection names one database)");
  }
  TenantLocation& location = out->location;
  OBX_RETURN_IF_ERROR(flags->Take("--connection", true, &location.connection_string));
  OBX_RETURN_IF_ERROR(flags->Take("--schema", false, &location.schema_name));
  OBX_RETURN_IF_ERROR(flags->Take("--table", false, &location.table_name));
  location.identifier = RedactConnectionString(location.connection_string);
  return Status::OK();
}

Status RequireOneTenant(const OutboxctlCommand& c, const std::string& command) {
  if (!c.config_path.empty() && c.tenant.empty()) {
    return Status::InvalidArgument("--tenant: required for " + command + " with --config");
  }
  return Status::OK();
}

Status TakeMessage(FlagTaker* flags, OutboxctlCommand* out) {
  NewMessage& message = out->message;
  OBX_RETURN_IF_ERROR(flags->Take("--topic", true, &message.topic));
  bool has_payload = false;
  OBX_RETURN_IF_ERROR(flags->TakeRaw("--payload", &has_payload, &message.payload));
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
  std::optional<std::chrono::milliseconds> delay;
  OBX_RETURN_IF_ERROR(flags->TakeDuration("--delay", &delay));
  if (delay) message.delay = *delay;
  return RequireOneTenant(*out, "enqueue");
}

Status TakeLimit(FlagTaker* flags, int* limit) {
  std::string text;
  OBX_RETURN_IF_ERROR(flags->Take("--limit", false, &text));
  if (text.empty()) return Status::OK();
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || value < 1 || value > 100000) {
    return Status::InvalidArgument("--limit: expected a whole number from 1 to 100000, got \"" +
                                   text + "\"");
  }
  *limit = static_cast<int>(value);
  return Status::OK();
}

Status TakeCommandFlags(FlagTaker* flags, OutboxctlCommand* out) {
  switch (out->action) {
    case Action::kEnqueue:
      return TakeMessage(flags, out);
    case Action::kFailedList:
      OBX_RETURN_IF_ERROR(flags->Take("--topic", false, &out->topic));
      OBX_RETURN_IF_ERROR(flags->TakeDuration("--since", &out->since));
      return TakeLimit(flags, &out->limit);
    case Action::kFailedShow: {
      std::string id;
      OBX_RETURN_IF_ERROR(flags->Take("--message-id", true, &id));
      out->message_ids.push_back(id);
      return RequireOneTenant(*out, "failed show");
    }
    case Action::kReplay: {
      OBX_RETURN_IF_ERROR(flags->TakeAll("--message-id", &out->message_ids));
      OBX_RETURN_IF_ERROR(flags->Take("--topic", false, &out->topic));
      out->all_failed = flags->TakeSwitch("--all-failed");
      out->dry_run = flags->TakeSwitch("--dry-run");
      const int chosen = (out->message_ids.empty() ? 0 : 1) + (out->topic.empty() ? 0 : 1) +
                         (out->all_failed ? 1 : 0);
      if (chosen != 1) {
        return Status::InvalidArgument(
            "replay: give exactly one of --message-id, --topic or --all-failed");
      }
      return Status::OK();
    }
    case Action::kPurge: {
      if (!flags->TakeSwitch("--failed")) {
        return Status::InvalidArgument("--failed: required for purge (only failed rows are purged)");
      }
      OBX_RETURN_IF_ERROR(flags->Take("--topic", false, &out->topic));
      OBX_RETURN_IF_ERROR(flags->TakeDuration("--older-than", &out->older_than));
      out->dry_run = flags->TakeSwitch("--dry-run");
      out->yes = flags->TakeSwitch("--yes");
      if (out->dry_run == out->yes) {
        return Status::InvalidArgument("purge: give exactly one of --dry-run or --yes");
      }
      return Status::OK();
    }
    default:
      return Status::OK();
  }
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
  FlagTaker flags(&split, name);
  OBX_RETURN_IF_ERROR(TakeSource(&flags, out));
  if (out->action != Action::kEnqueue) out->json = flags.TakeSwitch("--json");
  OBX_RETURN_IF_ERROR(TakeCommandFlags(&flags, out));
  return flags.CheckNoneLeft();
}

std::string OutboxctlUsage() {
  return "usage: outboxctl <command> (--config FILE [--tenant ID] | --connection C [--schema S]\n"
         "                 [--table T]) [options]\n"
         "\n"
         "source:\n"
         "  --config FILE   outboxd's configuration: every tenant its discovery plugin lists\n"
         "                  (visited 8 at a time), or only --tenant ID\n"
         "  --connection C  one database: \"sqlite:<path>\" or \"postgresql://user:password@host/db\"\n"
         "  --schema S      schema of the outbox table (default infra; ignored by SQLite)\n"
         "  --table T       outbox table (default outbox)\n"
         "\n"
         "commands:\n"
         "  tenants [--json]\n"
         "      each tenant: engine, location, reachable, ready, in progress, failed, oldest ready age\n"
         "  stats [--json]\n"
         "      message counts per tenant and in total; with --connection one line\n"
         "      {\"ready\":n,\"in_progress\":n,\"done\":n,\"failed\":n}; with --config and\n"
         "      dispatch.unknown_topic \"park\" also the parked messages (ready, of a topic no\n"
         "      handler serves) and their topics (PARKED, PARKED_TOPICS; \"parked\", \"parked_topics\")\n"
         "  failed list [--topic T] [--since D] [--limit N] [--json]\n"
         "      failed messages (newest first, at most N per tenant, default 100)\n"
         "  failed show --message-id M [--json]          (with --config: --tenant ID)\n"
         "      one message's whole row, payload included\n"
         "  replay (--message-id M [--message-id M2 ...] | --topic T | --all-failed) [--dry-run]\n"
         "      move failed messages back to ready as a first attempt; only failed rows change\n"
         "  purge --failed [--older-than D] [--topic T] (--dry-run | --yes)\n"
         "      delete failed messages; --dry-run only counts them\n"
         "  enqueue --topic T (--payload P | --payload-file F) [--correlation-id X]\n"
         "          [--delay D] [--message-id M]          (with --config: --tenant ID)\n"
         "      insert one message and print its message id; --payload-file - reads stdin;\n"
         "      --delay makes it due later (e.g. 30s, 5m, 1h30m)\n"
         "  schema apply [--json]\n"
         "      create the database (SQLite), the outbox table and its index if missing\n"
         "  schema status [--json]\n"
         "      the schema version of each tenant's outbox table\n"
         "\n"
         "options:\n"
         "  --json          machine-readable output (one JSON document on stdout)\n"
         "  --help, -h      show this text\n"
         "  --version       show the version\n"
         "\n"
         "exit status: 0 success, 1 a database (any tenant) or file error, 2 usage or\n"
         "configuration error\n";
}

}  // namespace outboxd
