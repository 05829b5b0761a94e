#include "ctl/outboxctl_run.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "ctl/outboxctl_command.h"
#include "ctl/tenant_fleet.h"
#include "ctl/text_table.h"
#include "store/outbox_store.h"
#include "store/store_location.h"

namespace outboxd {
namespace {

using Action = OutboxctlCommand::Action;
using nlohmann::json;

void PrintJson(const json& document) { std::printf("%s\n", document.dump().c_str()); }

void PrintTable(const TextTable& table) { std::fputs(table.ToString().c_str(), stdout); }

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

// The tenants of this run. Returns -1 on success, else the exit status (the error is printed):
// 2 for a configuration problem or a --tenant that discovery does not list, 1 otherwise.
int OpenFleet(const OutboxctlCommand& c, bool create, std::unique_ptr<TenantFleet>* fleet) {
  if (c.config_path.empty()) {
    *fleet = TenantFleet::FromLocation(c.location, create);
    return -1;
  }
  Status s = TenantFleet::FromConfig(c.config_path, c.tenant, create, fleet);
  if (s.ok()) return -1;
  std::fprintf(stderr, "outboxctl: %s\n", RedactConnectionString(s.message()).c_str());
  const bool operator_input = s.code() == Status::Code::kInvalidArgument ||
                              s.code() == Status::Code::kNotFound;
  return operator_input ? kOutboxctlUsage : kOutboxctlError;
}

// One stderr line per failed tenant; 1 when any failed, else 0.
int ReportFailures(const TenantFleet& fleet, const std::vector<Status>& results) {
  int code = kOutboxctlOk;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) continue;
    std::fprintf(stderr, "outboxctl: %s\n", TenantError(fleet.tenants()[i], results[i]).c_str());
    code = kOutboxctlError;
  }
  return code;
}

// The error text for a tenant's row: the message without the tenant prefix (the row names it).
std::string RowError(const StoreLocation& location, const Status& status) {
  StoreLocation anonymous = location;
  anonymous.identifier = RedactConnectionString(location.connection_string);
  std::string text = TenantError(anonymous, status);
  return text.substr(anonymous.identifier.size() + 2);
}

std::string TableName(const StoreLocation& location) {
  return EngineOf(location) == "sqlite" ? location.table_name
                                        : location.schema_name + "." + location.table_name;
}

int SchemaApply(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, /*create=*/true, &fleet); code >= 0) return code;
  std::vector<Status> results =
      fleet->Visit([](std::size_t, OutboxStore& store) { return store.EnsureSchema(); });
  const int code = ReportFailures(*fleet, results);
  const std::vector<StoreLocation>& tenants = fleet->tenants();
  if (!fleet->from_config()) {
    if (code == kOutboxctlOk) {
      std::printf("schema ready: %s in %s\n", TableName(tenants[0]).c_str(),
                  RedactConnectionString(tenants[0].connection_string).c_str());
    }
    return code;
  }
  json rows = json::array();
  TextTable table({"TENANT", "TABLE", "LOCATION", "RESULT"});
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    const std::string location = RedactConnectionString(tenants[i].connection_string);
    const std::string result = results[i].ok() ? "ready" : RowError(tenants[i], results[i]);
    table.AddRow({tenants[i].identifier, TableName(tenants[i]), location, result});
    json row = {{"tenant", tenants[i].identifier},
                {"table", TableName(tenants[i])},
                {"location", location},
                {"ready", results[i].ok()}};
    if (!results[i].ok()) row["error"] = result;
    rows.push_back(std::move(row));
  }
  if (c.json) {
    PrintJson(rows);
  } else {
    PrintTable(table);
  }
  return code;
}

int Enqueue(const OutboxctlCommand& c) {
  NewMessage message = c.message;
  if (!c.payload_file.empty()) {
    Status s = ReadPayloadFile(c.payload_file, &message.payload);
    if (!s.ok()) {
      std::fprintf(stderr, "outboxctl: %s\n", s.message().c_str());
      return kOutboxctlError;
    }
  }
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, /*create=*/false, &fleet); code >= 0) return code;
  std::string message_id;
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t, OutboxStore& store) { return store.Enqueue(message, &message_id); });
  const int code = ReportFailures(*fleet, results);
  if (code == kOutboxctlOk) std::printf("%s\n", message_id.c_str());
  return code;
}

json StatsJson(const StoreStats& s) {
  return {{"ready", s.ready}, {"in_progress", s.in_progress}, {"done", s.done},
          {"failed", s.failed}};
}

int Stats(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, /*create=*/false, &fleet); code >= 0) return code;
  const std::vector<StoreLocation>& tenants = fleet->tenants();
  std::vector<StoreStats> stats(tenants.size());
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t i, OutboxStore& store) { return store.GetStats(&stats[i]); });
  const int code = ReportFailures(*fleet, results);
  if (!fleet->from_config()) {
    if (code == kOutboxctlOk) {
      std::printf("{\"ready\":%lld,\"in_progress\":%lld,\"done\":%lld,\"failed\":%lld}\n",
                  static_cast<long long>(stats[0].ready),
                  static_cast<long long>(stats[0].in_progress),
                  static_cast<long long>(stats[0].done), static_cast<long long>(stats[0].failed));
    }
    return code;
  }
  StoreStats total;
  json rows = json::array();
  TextTable table({"TENANT", "READY", "IN_PROGRESS", "DONE", "FAILED", "ERROR"});
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    const StoreStats& s = stats[i];
    if (!results[i].ok()) {
      const std::string error = RowError(tenants[i], results[i]);
      table.AddRow({tenants[i].identifier, "-", "-", "-", "-", error});
      rows.push_back({{"tenant", tenants[i].identifier}, {"error", error}});
      continue;
    }
    total.ready += s.ready;
    total.in_progress += s.in_progress;
    total.done += s.done;
    total.failed += s.failed;
    table.AddRow({tenants[i].identifier, std::to_string(s.ready), std::to_string(s.in_progress),
                  std::to_string(s.done), std::to_string(s.failed)});
    json row = StatsJson(s);
    row["tenant"] = tenants[i].identifier;
    rows.push_back(std::move(row));
  }
  table.AddRow({"TOTAL", std::to_string(total.ready), std::to_string(total.in_progress),
                std::to_string(total.done), std::to_string(total.failed)});
  if (c.json) {
    PrintJson({{"tenants", rows}, {"total", StatsJson(total)}});
  } else {
    PrintTable(table);
  }
  return code;
}

int Tenants(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, /*create=*/false, &fleet); code >= 0) return code;
  const std::vector<StoreLocation>& tenants = fleet->tenants();
  std::vector<StoreStats> stats(tenants.size());
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t i, OutboxStore& store) { return store.GetStats(&stats[i]); });
  const int code = ReportFailures(*fleet, results);
  json rows = json::array();
  TextTable table({"TENANT", "ENGINE", "LOCATION", "REACHABLE", "READY", "IN_PROGRESS", "FAILED",
                   "ERROR"});
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    const StoreStats& s = stats[i];
    const std::string location = RedactConnectionString(tenants[i].connection_string);
    json row = {{"tenant", tenants[i].identifier},
                {"engine", EngineOf(tenants[i])},
                {"location", location},
                {"reachable", results[i].ok()}};
    if (results[i].ok()) {
      table.AddRow({tenants[i].identifier, EngineOf(tenants[i]), location, "yes",
                    std::to_string(s.ready), std::to_string(s.in_progress),
                    std::to_string(s.failed)});
      row["ready"] = s.ready;
      row["in_progress"] = s.in_progress;
      row["failed"] = s.failed;
    } else {
      const std::string error = RowError(tenants[i], results[i]);
      table.AddRow({tenants[i].identifier, EngineOf(tenants[i]), location, "no", "-", "-", "-",
                    error});
      row["error"] = error;
    }
    rows.push_back(std::move(row));
  }
  if (c.json) {
    PrintJson(rows);
  } else {
    PrintTable(table);
  }
  return code;
}

}  // namespace

int RunOutboxctl(const std::vector<std::string>& args) {
  OutboxctlCommand command;
  Status status = ParseOutboxctlCommand(args, &command);
  if (!status.ok()) {
    std::fprintf(stderr, "outboxctl: %s (see outboxctl --help)\n", status.message().c_str());
    return kOutboxctlUsage;
  }
  // Plugins and the host log through spdlog: to stderr, warnings and errors only, so that stdout
  // holds the command's output alone.
  if (!spdlog::get("outboxctl")) {
    auto logger = spdlog::stderr_color_mt("outboxctl");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::warn);
  }
  switch (command.action) {
    case Action::kHelp:
      std::fputs(OutboxctlUsage().c_str(), stdout);
      return kOutboxctlOk;
    case Action::kVersion:
      std::printf("outboxctl %s\n", OUTBOXD_VERSION);
      return kOutboxctlOk;
    case Action::kSchemaApply:
      return SchemaApply(command);
    case Action::kEnqueue:
      return Enqueue(command);
    case Action::kStats:
      return Stats(command);
    case Action::kTenants:
      return Tenants(command);
    default:
      break;
  }
  return kOutboxctlError;
}

}  // namespace outboxd
