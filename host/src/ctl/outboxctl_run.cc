#include "ctl/outboxctl_run.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <optional>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/status.h"
#include "ctl/outboxctl_command.h"
#include "ctl/tenant_fleet.h"
#include "ctl/text_table.h"
#include "dispatch/handler_table.h"
#include "observe/text_log_format.h"
#include "store/outbox_store.h"
#include "store/tenant_location.h"

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
int OpenFleet(const OutboxctlCommand& c, TenantFleet::Create create,
              std::unique_ptr<TenantFleet>* fleet) {
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

// The error text for a tenant's row (the row names the tenant).
std::string RowError(const TenantLocation& location, const Status& status) {
  return TenantMessage(location, status);
}

// Seconds, for JSON: null when there is no ready row.
json AgeSeconds(const std::optional<int64_t>& ms) {
  if (!ms) return nullptr;
  return static_cast<double>(*ms) / 1000.0;
}

// For tables: "1m30s" (whole seconds above a minute), "-" when there is no ready row.
std::string AgeText(const std::optional<int64_t>& ms) {
  if (!ms) return "-";
  std::chrono::milliseconds age(*ms);
  if (age >= std::chrono::minutes(1)) age = std::chrono::duration_cast<std::chrono::seconds>(age);
  return FormatDuration(age);
}

// Epoch milliseconds as "2026-12-03T10:42:33.123Z" (UTC).
std::string Timestamp(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

json OptionalTimestamp(const std::optional<int64_t>& ms) {
  if (!ms) return nullptr;
  return Timestamp(*ms);
}

std::string FirstLine(const std::optional<std::string>& text) {
  if (!text) return "";
  return text->substr(0, text->find('\n'));
}

std::string TableName(const TenantLocation& location) {
  return EngineOf(location) == "sqlite" ? location.table_name
                                        : location.schema_name + "." + location.table_name;
}

int SchemaApply(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, TenantFleet::Create::kAll, &fleet); code >= 0) return code;
  std::vector<Status> results = fleet->Visit([](std::size_t, OutboxStore& store) {
    OBX_RETURN_IF_ERROR(store.EnsureSchema());
    // EnsureSchema leaves a PostgreSQL table usable but not yet upgraded while another process
    // builds its index, or when the build was cut short by a long transaction (docs/store.md,
    // "Schema versions"): apply must say so.
    SchemaStatus schema;
    OBX_RETURN_IF_ERROR(store.GetSchemaStatus(&schema));
    if (schema.current_version < schema.binary_version) {
      return Status::Unavailable(
          "upgrade to schema version " + std::to_string(schema.binary_version) +
          " not finished (the table is at version " + std::to_string(schema.current_version) +
          " and usable): its failed-rows index is not built yet (another process is building "
          "it, or a transaction older than the build stayed open longer than "
          "stores.busy_timeout); run `outboxctl schema apply` again");
    }
    return Status::OK();
  });
  const int code = ReportFailures(*fleet, results);
  const std::vector<TenantLocation>& tenants = fleet->tenants();
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
  if (int code = OpenFleet(c, TenantFleet::Create::kNothing, &fleet); code >= 0) return code;
  std::string message_id;
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t, OutboxStore& store) { return store.Enqueue(message, &message_id); });
  const int code = ReportFailures(*fleet, results);
  if (code == kOutboxctlOk) std::printf("%s\n", message_id.c_str());
  return code;
}

json StatsJson(const StoreStats& s) {
  return {{"ready", s.ready},   {"in_progress", s.in_progress},
          {"done", s.done},     {"failed", s.failed},
          {"oldest_ready_age_s", AgeSeconds(s.oldest_ready_age_ms)}};
}

// Messages parked under dispatch.unknown_topic "park": ready rows whose topic no handler serves.
struct Parked {
  int64_t count = 0;
  std::set<std::string> topics;  // as stored in the rows
};

json ParkedTopicsJson(const std::set<std::string>& topics) {
  json list = json::array();
  for (const std::string& t : topics) list.push_back(t);
  return list;
}

std::string ParkedTopicsText(const std::set<std::string>& topics) {
  std::string text;
  for (const std::string& t : topics) text += (text.empty() ? "" : ",") + t;
  return text.empty() ? "-" : text;
}

int Stats(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, TenantFleet::Create::kNothing, &fleet); code >= 0) return code;
  const std::vector<TenantLocation>& tenants = fleet->tenants();
  std::vector<StoreStats> stats(tenants.size());
  const bool park = fleet->park_unknown_topics();
  std::set<std::string> routed;  // folded
  for (const std::string& t : fleet->handler_topics()) routed.insert(FoldTopic(t));
  std::vector<Parked> parked(tenants.size());
  std::vector<Status> results = fleet->Visit([&](std::size_t i, OutboxStore& store) {
    OBX_RETURN_IF_ERROR(store.GetStats(&stats[i]));
    if (!park) return Status::OK();
    std::map<std::string, int64_t> ready;
    OBX_RETURN_IF_ERROR(store.CountReadyByTopic(&ready));
    for (const auto& [topic, n] : ready) {
      if (routed.count(FoldTopic(topic)) != 0) continue;
      parked[i].count += n;
      parked[i].topics.insert(topic);
    }
    return Status::OK();
  });
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
  Parked total_parked;
  json rows = json::array();
  std::vector<std::string> header = {"TENANT", "READY", "IN_PROGRESS", "DONE", "FAILED",
                                     "OLDEST_READY_AGE"};
  if (park) {
    header.push_back("PARKED");
    header.push_back("PARKED_TOPICS");
  }
  header.push_back("ERROR");
  TextTable table(header);
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    const StoreStats& s = stats[i];
    if (!results[i].ok()) {
      const std::string error = RowError(tenants[i], results[i]);
      std::vector<std::string> cells = {tenants[i].identifier, "-", "-", "-", "-", "-"};
      if (park) cells.insert(cells.end(), {"-", "-"});
      cells.push_back(error);
      table.AddRow(cells);
      rows.push_back({{"tenant", tenants[i].identifier}, {"error", error}});
      continue;
    }
    total.ready += s.ready;
    total.in_progress += s.in_progress;
    total.done += s.done;
    total.failed += s.failed;
    if (s.oldest_ready_age_ms &&
        (!total.oldest_ready_age_ms || *s.oldest_ready_age_ms > *total.oldest_ready_age_ms)) {
      total.oldest_ready_age_ms = s.oldest_ready_age_ms;
    }
    std::vector<std::string> cells = {tenants[i].identifier,      std::to_string(s.ready),
                                      std::to_string(s.in_progress), std::to_string(s.done),
                                      std::to_string(s.failed), AgeText(s.oldest_ready_age_ms)};
    json row = StatsJson(s);
    row["tenant"] = tenants[i].identifier;
    if (park) {
      total_parked.count += parked[i].count;
      total_parked.topics.insert(parked[i].topics.begin(), parked[i].topics.end());
      cells.push_back(std::to_string(parked[i].count));
      cells.push_back(ParkedTopicsText(parked[i].topics));
      row["parked"] = parked[i].count;
      row["parked_topics"] = ParkedTopicsJson(parked[i].topics);
    }
    table.AddRow(cells);
    rows.push_back(std::move(row));
  }
  std::vector<std::string> total_cells = {"TOTAL",
                                          std::to_string(total.ready),
                                          std::to_string(total.in_progress),
                                          std::to_string(total.done),
                                          std::to_string(total.failed),
                                          AgeText(total.oldest_ready_age_ms)};
  json total_json = StatsJson(total);
  if (park) {
    total_cells.push_back(std::to_string(total_parked.count));
    total_cells.push_back(ParkedTopicsText(total_parked.topics));
    total_json["parked"] = total_parked.count;
    total_json["parked_topics"] = ParkedTopicsJson(total_parked.topics);
  }
  table.AddRow(total_cells);
  if (c.json) {
    PrintJson({{"tenants", rows}, {"total", total_json}});
  } else {
    PrintTable(table);
  }
  return code;
}

int Tenants(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, TenantFleet::Create::kNothing, &fleet); code >= 0) return code;
  const std::vector<TenantLocation>& tenants = fleet->tenants();
  std::vector<StoreStats> stats(tenants.size());
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t i, OutboxStore& store) { return store.GetStats(&stats[i]); });
  const int code = ReportFailures(*fleet, results);
  json rows = json::array();
  TextTable table({"TENANT", "ENGINE", "LOCATION", "REACHABLE", "READY", "IN_PROGRESS", "FAILED",
                   "OLDEST_READY_AGE", "ERROR"});
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
                    std::to_string(s.failed), AgeText(s.oldest_ready_age_ms)});
      row["ready"] = s.ready;
      row["in_progress"] = s.in_progress;
      row["failed"] = s.failed;
      row["oldest_ready_age_s"] = AgeSeconds(s.oldest_ready_age_ms);
    } else {
      const std::string error = RowError(tenants[i], results[i]);
      table.AddRow({tenants[i].identifier, EngineOf(tenants[i]), location, "no", "-", "-", "-",
                    "-", error});
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

int FailedList(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, TenantFleet::Create::kNothing, &fleet); code >= 0) return code;
  const std::vector<TenantLocation>& tenants = fleet->tenants();
  FailedQuery query;
  if (!c.topic.empty()) query.topic = c.topic;
  query.failed_within = c.since;
  query.limit = c.limit;
  std::vector<std::vector<FailedMessage>> found(tenants.size());
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t i, OutboxStore& store) { return store.ListFailed(query, &found[i]); });
  const int code = ReportFailures(*fleet, results);
  json rows = json::array();
  TextTable table({"TENANT", "ID", "MESSAGE_ID", "TOPIC", "ATTEMPTS", "PROCESSED_AT", "LAST_ERROR"});
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    if (!results[i].ok()) {
      table.AddRow({tenants[i].identifier, "-", "-", "-", "-", "-",
                    "(not listed: " + RowError(tenants[i], results[i]) + ")"});
      continue;
    }
    for (const FailedMessage& m : found[i]) {
      const std::string error = FirstLine(m.last_error);
      table.AddRow({tenants[i].identifier, std::to_string(m.id), m.message_id, m.topic,
                    std::to_string(m.attempts), Timestamp(m.processed_at_ms), error});
      rows.push_back({{"tenant", tenants[i].identifier},
                      {"id", m.id},
                      {"message_id", m.message_id},
                      {"topic", m.topic},
                      {"attempts", m.attempts},
                      {"processed_at", Timestamp(m.processed_at_ms)},
                      {"last_error", error}});
    }
  }
  if (c.json) {
    PrintJson(rows);
  } else {
    PrintTable(table);
  }
  return code;
}

const char* StatusName(MessageStatus status) {
  switch (status) {
    case MessageStatus::kReady:
      return "ready";
    case MessageStatus::kInProgress:
      return "in_progress";
    case MessageStatus::kDone:
      return "done";
    case MessageStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

json StoredJson(const std::string& tenant, const StoredMessage& m) {
  auto text = [](const std::optional<std::string>& v) -> json {
    if (!v) return nullptr;
    return *v;
  };
  return {{"tenant", tenant},
          {"id", m.id},
          {"message_id", m.message_id},
          {"topic", m.topic},
          {"status", StatusName(m.status)},
          {"attempts", m.attempts},
          {"created_at", Timestamp(m.created_at_ms)},
          {"due_at", OptionalTimestamp(m.due_at_ms)},
          {"next_attempt_at", OptionalTimestamp(m.next_attempt_at_ms)},
          {"locked_until", OptionalTimestamp(m.locked_until_ms)},
          {"owner_token", text(m.owner_token)},
          {"processed_at", OptionalTimestamp(m.processed_at_ms)},
          {"processed_by", text(m.processed_by)},
          {"correlation_id", text(m.correlation_id)},
          {"replay_count", m.replay_count},
          {"replayed_at", OptionalTimestamp(m.replayed_at_ms)},
          {"last_error", text(m.last_error)},
          {"payload", m.payload}};
}

int FailedShow(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  // create: the replay columns need schema version 2, which this upgrades to as outboxd would.
  if (int code = OpenFleet(c, TenantFleet::Create::kTable, &fleet); code >= 0) return code;
  const std::string& message_id = c.message_ids.at(0);
  std::vector<StoredMessage> found;
  std::vector<Status> results = fleet->Visit([&](std::size_t, OutboxStore& store) {
    OBX_RETURN_IF_ERROR(store.FindByMessageId(message_id, &found));
    if (found.empty()) return Status::NotFound("no message with message_id '" + message_id + "'");
    return Status::OK();
  });
  const int code = ReportFailures(*fleet, results);
  if (code != kOutboxctlOk) return code;
  const std::string& tenant = fleet->tenants()[0].identifier;
  json rows = json::array();
  for (const StoredMessage& m : found) rows.push_back(StoredJson(tenant, m));
  if (c.json) {
    PrintJson(rows);
    return code;
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (r > 0) std::fputs("\n", stdout);
    TextTable table({"FIELD", "VALUE"});
    for (const auto& [key, value] : rows[r].items()) {
      if (key == "payload") continue;
      table.AddRow({key, value.is_null() ? "-" : value.is_string() ? value.get<std::string>()
                                                                    : value.dump()});
    }
    PrintTable(table);
    std::printf("payload (%zu bytes):\n%s\n", found[r].payload.size(), found[r].payload.c_str());
  }
  return code;
}

// replay and purge: one count per tenant, then the total.
int PrintCounts(const OutboxctlCommand& c, const TenantFleet& fleet,
                const std::vector<Status>& results, const std::vector<int64_t>& counts,
                const std::string& done_key, const std::string& dry_key) {
  const int code = ReportFailures(fleet, results);
  const std::vector<TenantLocation>& tenants = fleet.tenants();
  const std::string key = c.dry_run ? dry_key : done_key;
  std::string column = key;
  for (char& ch : column) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  int64_t total = 0;
  json rows = json::array();
  TextTable table({"TENANT", column, "ERROR"});
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    if (!results[i].ok()) {
      const std::string error = RowError(tenants[i], results[i]);
      table.AddRow({tenants[i].identifier, "-", error});
      rows.push_back({{"tenant", tenants[i].identifier}, {"error", error}});
      continue;
    }
    total += counts[i];
    table.AddRow({tenants[i].identifier, std::to_string(counts[i])});
    rows.push_back({{"tenant", tenants[i].identifier}, {key, counts[i]}});
  }
  table.AddRow({"TOTAL", std::to_string(total)});
  if (c.json) {
    PrintJson({{"tenants", rows}, {"total", total}, {"dry_run", c.dry_run}});
  } else {
    PrintTable(table);
  }
  return code;
}

int Replay(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  // create: replay writes the version 2 columns; the table is upgraded first, as outboxd would.
  if (int code = OpenFleet(c, TenantFleet::Create::kTable, &fleet); code >= 0) return code;
  ReplaySelection selection;
  selection.message_ids = c.message_ids;
  if (!c.topic.empty()) selection.topic = c.topic;
  selection.all = c.all_failed;
  std::vector<int64_t> counts(fleet->tenants().size(), 0);
  std::vector<Status> results = fleet->Visit([&](std::size_t i, OutboxStore& store) {
    return store.ReplayFailed(selection, c.dry_run, &counts[i]);
  });
  return PrintCounts(c, *fleet, results, counts, "replayed", "would_replay");
}

int Purge(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, TenantFleet::Create::kNothing, &fleet); code >= 0) return code;
  PurgeSelection selection;
  if (!c.topic.empty()) selection.topic = c.topic;
  selection.older_than = c.older_than;
  std::vector<int64_t> counts(fleet->tenants().size(), 0);
  std::vector<Status> results = fleet->Visit([&](std::size_t i, OutboxStore& store) {
    return store.PurgeFailed(selection, c.dry_run, &counts[i]);
  });
  return PrintCounts(c, *fleet, results, counts, "purged", "would_purge");
}

int SchemaStatusCommand(const OutboxctlCommand& c) {
  std::unique_ptr<TenantFleet> fleet;
  if (int code = OpenFleet(c, TenantFleet::Create::kNothing, &fleet); code >= 0) return code;
  const std::vector<TenantLocation>& tenants = fleet->tenants();
  std::vector<SchemaStatus> status(tenants.size());
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t i, OutboxStore& store) { return store.GetSchemaStatus(&status[i]); });
  const int code = ReportFailures(*fleet, results);
  json rows = json::array();
  TextTable table({"TENANT", "TABLE", "VERSION", "BINARY_VERSION", "STATE"});
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    if (!results[i].ok()) {
      const std::string error = RowError(tenants[i], results[i]);
      table.AddRow({tenants[i].identifier, TableName(tenants[i]), "-", "-", error});
      rows.push_back({{"tenant", tenants[i].identifier}, {"error", error}});
      continue;
    }
    const SchemaStatus& s = status[i];
    const char* state = s.current_version == 0                  ? "missing (schema apply creates it)"
                        : s.current_version < s.binary_version  ? "upgrade pending (schema apply)"
                        : s.current_version == s.binary_version ? "current"
                                                                : "newer than this binary";
    table.AddRow({tenants[i].identifier, TableName(tenants[i]), std::to_string(s.current_version),
                  std::to_string(s.binary_version), state});
    rows.push_back({{"tenant", tenants[i].identifier},
                    {"table", TableName(tenants[i])},
                    {"version", s.current_version},
                    {"binary_version", s.binary_version},
                    {"state", std::string(state).substr(0, std::string(state).find(" ("))}});
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
    logger->set_formatter(std::make_unique<EscapingFormatter>());  // one line per message
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
    case Action::kFailedList:
      return FailedList(command);
    case Action::kFailedShow:
      return FailedShow(command);
    case Action::kReplay:
      return Replay(command);
    case Action::kPurge:
      return Purge(command);
    case Action::kSchemaStatus:
      return SchemaStatusCommand(command);
  }
  return kOutboxctlError;
}

}  // namespace outboxd
