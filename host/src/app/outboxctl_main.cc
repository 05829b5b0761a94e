// outboxctl: the operator's command line for one tenant outbox (see OutboxctlUsage() or --help).
// It talks to databases only through OpenOutboxStore / OutboxStore.
//
// Output contract (scripts rely on it):
//   schema apply  stdout "schema ready: <table> in <redacted connection>"
//   enqueue       stdout the message id alone on one line
//   stats         stdout {"ready":n,"in_progress":n,"done":n,"failed":n} on one line
// Exit status: 0 success; 1 store or file error, one line "outboxctl: <message>" on stderr;
// 2 usage error, one line on stderr naming the bad argument. Passwords are never printed.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/outboxctl_command.h"
#include "store/outbox_store.h"
#include "store/store_location.h"

namespace outboxd {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// A store error message with the raw connection string (if quoted in it) and any password redacted.
std::string SafeMessage(const Status& status, const StoreLocation& location) {
  return RedactConnectionSecrets(status.message(), location.connection_string);
}

int Fail(const Status& status, const StoreLocation& location) {
  std::fprintf(stderr, "outboxctl: %s\n", SafeMessage(status, location).c_str());
  return kExitError;
}

Status ReadPayloadFile(const std::string& path, std::string* payload) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    if (std::cin.bad()) return Status::IoError("--payload-file -: cannot read stdin");
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) {
      return Status::IoError("--payload-file " + path + ": " + std::strerror(errno));
    }
    text << in.rdbuf();
    if (in.bad()) return Status::IoError("--payload-file " + path + ": cannot read");
  }
  *payload = text.str();
  return Status::OK();
}

Status Open(const StoreLocation& location, bool create, std::unique_ptr<OutboxStore>* store) {
  StoreOptions options;
  options.worker_id = "outboxctl";
  options.max_connections = 1;
  // Only `schema apply` creates things: a typo in --connection or --table must fail, not create an
  // empty database or table.
  options.create_database = create;
  options.create_schema = create;
  return OpenOutboxStore(location, options, store);
}

int SchemaApply(const StoreLocation& location) {
  std::unique_ptr<OutboxStore> store;
  Status status = Open(location, /*create=*/true, &store);
  if (status.ok()) status = store->EnsureSchema();
  if (!status.ok()) return Fail(status, location);
  bool is_sqlite = location.connection_string.rfind("sqlite:", 0) == 0;
  std::string table =
      is_sqlite ? location.table_name : location.schema_name + "." + location.table_name;
  std::printf("schema ready: %s in %s\n", table.c_str(),
              RedactConnectionString(location.connection_string).c_str());
  return kExitOk;
}

int Enqueue(const OutboxctlCommand& command) {
  NewMessage message = command.message;
  Status status = Status::OK();
  if (!command.payload_file.empty()) {
    status = ReadPayloadFile(command.payload_file, &message.payload);
  }
  std::unique_ptr<OutboxStore> store;
  if (status.ok()) status = Open(command.location, /*create=*/false, &store);
  std::string message_id;
  if (status.ok()) status = store->Enqueue(message, &message_id);
  if (!status.ok()) return Fail(status, command.location);
  std::printf("%s\n", message_id.c_str());
  return kExitOk;
}

int Stats(const StoreLocation& location) {
  std::unique_ptr<OutboxStore> store;
  StoreStats stats;
  Status status = Open(location, /*create=*/false, &store);
  if (status.ok()) status = store->GetStats(&stats);
  if (!status.ok()) return Fail(status, location);
  std::printf("{\"ready\":%lld,\"in_progress\":%lld,\"done\":%lld,\"failed\":%lld}\n",
              static_cast<long long>(stats.ready), static_cast<long long>(stats.in_progress),
              static_cast<long long>(stats.done), static_cast<long long>(stats.failed));
  return kExitOk;
}

int Run(const std::vector<std::string>& args) {
  OutboxctlCommand command;
  Status status = ParseOutboxctlCommand(args, &command);
  if (!status.ok()) {
    std::fprintf(stderr, "outboxctl: %s (see outboxctl --help)\n",
                 RedactConnectionString(status.message()).c_str());
    return kExitUsage;
  }
  switch (command.action) {
    case OutboxctlCommand::Action::kHelp:
      std::fputs(OutboxctlUsage().c_str(), stdout);
      return kExitOk;
    case OutboxctlCommand::Action::kVersion:
      std::printf("outboxctl %s\n", OUTBOXD_VERSION);
      return kExitOk;
    case OutboxctlCommand::Action::kSchemaApply:
      return SchemaApply(command.location);
    case OutboxctlCommand::Action::kEnqueue:
      return Enqueue(command);
    case OutboxctlCommand::Action::kStats:
      return Stats(command.location);
  }
  return kExitError;
}

}  // namespace
}  // namespace outboxd

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int code = outboxd::Run(args);
  if (std::fflush(stdout) != 0 && code == 0) return 1;
  return code;
}
