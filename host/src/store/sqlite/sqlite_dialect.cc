#include "store/sqlite/sqlite_dialect.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <utility>

#include "store/sql/poco_connectors.h"
#include "store/sql/poco_error.h"
#include "store/sqlite/sqlite_store_connection.h"
#include "store/sqlite/sqlite_write_gate.h"

namespace outboxd::sql_store {

namespace {

using Poco::Data::Keywords::now;

// Exact to the millisecond: julianday('now') is SQLite's integer-millisecond clock divided by
// 86400000, so ROUND undoes the floating-point error that a plain CAST would truncate.
constexpr const char* kNowMs = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";

// A random (version 4, variant 10xx) UUID in lower-case text form.
constexpr const char* kUuidV4 =
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
    "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || "
    "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

// Rows the claim may take: ready and due, or in progress under an expired lease. The leading
// `status IN (0, 1)` lets SQLite use the partial claim index.
constexpr const char* kClaimable =
    "status IN (0, 1) AND ("
    "(status = 0 AND (due_at IS NULL OR due_at <= {now}) AND "
    "(next_attempt_at IS NULL OR next_attempt_at <= {now})) OR "
    "(status = 1 AND locked_until <= {now}))";

constexpr const char* kCreateTable = R"SQL(CREATE TABLE IF NOT EXISTS {table} (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL DEFAULT ({uuid})
    CHECK (typeof(message_id) = 'text' AND length(message_id) > 0),
  topic TEXT NOT NULL CHECK (typeof(topic) = 'text' AND length(topic) > 0),
  payload TEXT NOT NULL CHECK (typeof(payload) = 'text'),
  correlation_id TEXT CHECK (typeof(correlation_id) IN ('text', 'null')),
  created_at INTEGER NOT NULL DEFAULT ({now}) CHECK (typeof(created_at) = 'integer'),
  due_at INTEGER CHECK (typeof(due_at) IN ('integer', 'null')),
  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2, 3)),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (typeof(attempts) = 'integer' AND attempts >= 0),
  next_attempt_at INTEGER CHECK (typeof(next_attempt_at) IN ('integer', 'null')),
  locked_until INTEGER CHECK (typeof(locked_until) IN ('integer', 'null')),
  owner_token TEXT,
  processed_at INTEGER CHECK (typeof(processed_at) IN ('integer', 'null')),
  processed_by TEXT,
  last_error TEXT,
  replay_count INTEGER NOT NULL DEFAULT 0
    CHECK (typeof(replay_count) = 'integer' AND replay_count >= 0),
  replayed_at INTEGER CHECK (typeof(replayed_at) IN ('integer', 'null')),
  CHECK (status <> 1 OR (owner_token IS NOT NULL AND locked_until IS NOT NULL))
))SQL";

// Version 2's columns on a version-1 table: ADD COLUMN only edits the schema text (no rewrite).
constexpr const char* kAddReplayCount =
    "ALTER TABLE {table} ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0 "
    "CHECK (typeof(replay_count) = 'integer' AND replay_count >= 0)";
constexpr const char* kAddReplayedAt =
    "ALTER TABLE {table} ADD COLUMN replayed_at INTEGER "
    "CHECK (typeof(replayed_at) IN ('integer', 'null'))";

constexpr const char* kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS {versions} (table_name TEXT PRIMARY KEY, "
    "version INTEGER NOT NULL, upgraded_at INTEGER NOT NULL)";

constexpr const char* kCreateFailedIndex =
    "CREATE INDEX IF NOT EXISTS {failed_index} ON {table} (processed_at, id) WHERE status = 3";

// Failed rows matching the optional topic filter, and (list) failed within / (purge) failed
// longer ago than a window. `status = 3` lets SQLite use the partial failed index.
constexpr const char* kFailedTopic = "status = 3 AND (? IS NULL OR topic = ?)";
constexpr const char* kReplayWhere =
    "status = 3 AND (? IS NULL OR topic = ?) AND "
    "(? IS NULL OR message_id IN (SELECT value FROM json_each(?)))";
constexpr const char* kPurgeWhere =
    "status = 3 AND (? IS NULL OR topic = ?) AND (? IS NULL OR processed_at < {now} - ?)";

constexpr const char* kCreateClaimIndex =
    "CREATE INDEX IF NOT EXISTS {index} ON {table} (created_at, id) WHERE status IN (0, 1)";


// A ready row that is due now.
constexpr const char* kReadyDue =
    "status = 0 AND (due_at IS NULL OR due_at <= {now}) AND "
    "(next_attempt_at IS NULL OR next_attempt_at <= {now})";

// ready_due, in_progress, failed, oldest_ready_age_ms, latest_lease_left_ms: the claim index,
// then the failed index.
constexpr const char* kBacklog =
    "SELECT COALESCE(SUM(CASE WHEN {ready_due} THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END), 0), "
    "(SELECT COUNT(*) FROM {table} WHERE status = 3), "
    "COALESCE({now} - MIN(CASE WHEN {ready_due} THEN "
    "MAX(created_at, COALESCE(due_at, 0), COALESCE(next_attempt_at, 0)) END), 0), "
    "COALESCE(MAX(CASE WHEN status = 1 THEN locked_until END) - {now}, 0) "
    "FROM {table} WHERE status IN (0, 1)";

// Poison isolation (docs/semantics.md, "Poison messages"): when the oldest claimable row is one
// whose lease expired (its owner crashed or stalled on it: it is suspect), that row is claimed
// alone; otherwise up to `limit` ready rows are, and expired rows behind them wait until they are
// the oldest. `attempts` saturates at 2^31 - 1 (finding 8: an overflow would fail every claim),
// and is returned clamped to that (the dispatcher reads a 32-bit count). A payload over
// {max_payload_bytes} (StoreOptions::max_payload_bytes) is not returned, only its size.
constexpr const char* kClaim =
    "UPDATE {table} SET "
    "attempts = CASE WHEN status = 1 AND attempts < 2147483647 THEN attempts + 1 "
    "ELSE attempts END, "
    "last_error = CASE WHEN status = 1 THEN 'lease expired: owner ' || owner_token || "
    "' did not complete the message before its lease ran out' ELSE last_error END, "
    "status = 1, owner_token = ?, locked_until = {now} + ? "
    "WHERE id IN ("
    "SELECT id FROM (SELECT id, status FROM {table} WHERE {claimable} "
    "ORDER BY created_at, id LIMIT 1) WHERE status = 1 "
    "UNION ALL "
    "SELECT id FROM (SELECT id FROM {table} WHERE status IN (0, 1) AND {ready_due} "
    "ORDER BY created_at, id LIMIT ?) "
    "WHERE NOT EXISTS (SELECT 1 FROM (SELECT status FROM {table} WHERE {claimable} "
    "ORDER BY created_at, id LIMIT 1) WHERE status = 1)) "
    "RETURNING id, message_id, topic, "
    "CASE WHEN length(CAST(payload AS BLOB)) > {max_payload_bytes} THEN '' ELSE payload END, "
    "correlation_id, created_at, due_at, MIN(attempts, 2147483647), last_error, next_attempt_at, "
    "length(CAST(payload AS BLOB))";

constexpr const char* kHeldBy = "AND owner_token = ? AND status = 1 RETURNING id";



// "file:<path>?mode=rw": opens an existing file read-write and never creates one.
std::string ReadWriteUri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    switch (c) {
      case '%': uri += "%25"; break;
      case '?': uri += "%3f"; break;
      case '#': uri += "%23"; break;
      default: uri += c;
    }
  }
  return uri + "?mode=rw";
}

template <typename T>
bool Is(const Poco::Exception& e) {
  return dynamic_cast<const T*>(&e) != nullptr;
}

}  // namespace

SqliteDialect::SqliteDialect(std::string path) : path_(std::move(path)) {}

// Both engines at once (store/sql/poco_connectors.h).
void SqliteDialect::RegisterConnector() { RegisterPocoConnectors(); }

OutboxSql SqliteDialect::RenderSql(const OutboxTable& table) const {
  auto render = [&](const std::string& text) {
    std::string out = SubstituteSql(text, "claimable", kClaimable);
    out = SubstituteSql(out, "max_payload_bytes", kNoPayloadCap);
    out = SubstituteSql(out, "table", QuoteIdentifier(table.table));
    out = SubstituteSql(out, "index", QuoteIdentifier("ix_" + table.table + "_claim"));
    out = SubstituteSql(out, "failed_index", QuoteIdentifier("ix_" + table.table + "_failed"));
    out = SubstituteSql(out, "versions", QuoteIdentifier(kSchemaVersionTable));
    out = SubstituteSql(out, "name", "'" + table.table + "'");
    out = SubstituteSql(out, "uuid", kUuidV4);
    return SubstituteSql(out, "now", kNowMs);
  };
  OutboxSql sql;
  sql.create_table = render(kCreateTable);
  sql.create_version_table = render(kCreateVersionTable);
  sql.schema_probe = render(
      "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = {name}), "
      "(SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
      std::string(kSchemaVersionTable) + "'), "
      "(SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_" + table.table +
      "_claim'), "
      "(SELECT 2 * COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_" + table.table +
      "_failed'), 0");
  sql.read_version = render("SELECT version FROM {versions} WHERE table_name = {name}");
  sql.write_version = render(
      "INSERT INTO {versions} (table_name, version, upgraded_at) VALUES ({name}, ?, {now}) "
      "ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, "
      "upgraded_at = excluded.upgraded_at");
  sql.add_columns = {{"replay_count", render(kAddReplayCount)},
                     {"replayed_at", render(kAddReplayedAt)}};
  sql.create_claim_index = render(kCreateClaimIndex);
  sql.create_failed_index = render(kCreateFailedIndex);
  sql.backlog = render(SubstituteSql(kBacklog, "ready_due", kReadyDue));
  sql.list_columns = "SELECT name FROM pragma_table_info('" + table.table + "')";
  sql.begin_write = "BEGIN IMMEDIATE";
  sql.commit = "COMMIT";
  sql.rollback = "ROLLBACK";
  sql.claim = render(SubstituteSql(kClaim, "ready_due", kReadyDue));
  // A done row carries no last_error (docs/store.md, "What a row carries").
  sql.mark_dispatched = render(
      "UPDATE {table} SET status = 2, processed_at = {now}, processed_by = ?, "
      "owner_token = NULL, locked_until = NULL, last_error = NULL "
      "WHERE id IN (SELECT value FROM json_each(?)) ") + kHeldBy;
  sql.release = render(
      "UPDATE {table} SET status = 0, owner_token = NULL, locked_until = NULL "
      "WHERE id IN (SELECT value FROM json_each(?)) ") + kHeldBy;
  sql.reschedule = render(
      "UPDATE {table} SET status = 0, "
      "attempts = CASE WHEN attempts < 2147483647 THEN attempts + 1 ELSE attempts END, "
      "next_attempt_at = {now} + o.delay_ms, last_error = o.error, "
      "owner_token = NULL, locked_until = NULL "
      "FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS delay_ms, "
      "json_extract(value, '$[2]') AS error FROM json_each(?)) AS o "
      "WHERE {table}.id = o.id AND {table}.owner_token = ? AND {table}.status = 1 "
      "RETURNING id");
  sql.fail = render(
      "UPDATE {table} SET status = 3, "
      "attempts = CASE WHEN o.counted AND attempts < 2147483647 THEN attempts + 1 "
      "ELSE attempts END, processed_at = {now}, "
      "processed_by = ?, last_error = o.error, owner_token = NULL, locked_until = NULL "
      "FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS error, "
      "COALESCE(json_extract(value, '$[2]'), 1) AS counted FROM json_each(?)) AS o "
      "WHERE {table}.id = o.id AND {table}.owner_token = ? AND {table}.status = 1 "
      "RETURNING id");
  sql.renew_lease = render(
      "UPDATE {table} SET locked_until = {now} + ? "
      "WHERE status IN (0, 1) AND status = 1 AND owner_token = ?");
  sql.enqueue = render(
      "INSERT INTO {table} (message_id, topic, payload, correlation_id, due_at) "
      "VALUES (COALESCE(?, {uuid}), ?, ?, ?, CASE WHEN ? > 0 THEN {now} + ? ELSE NULL END) "
      "RETURNING message_id");
  sql.count_by_status = render("SELECT status, COUNT(*) FROM {table} GROUP BY status");
  // `status IN (0, 1)` lets SQLite use the partial claim index.
  sql.count_ready_by_topic = render(
      "SELECT topic, COUNT(*) FROM {table} WHERE status IN (0, 1) AND status = 0 GROUP BY topic");
  sql.has_pending_work = render(
      "SELECT EXISTS (SELECT 1 FROM {table} WHERE status IN (0, 1) AND (status = 1 OR ("
      "(due_at IS NULL OR due_at <= {now}) AND "
      "(next_attempt_at IS NULL OR next_attempt_at <= {now}))))");
  sql.cleanup = render("DELETE FROM {table} WHERE status = 2 AND processed_at < {now} - ?");
  sql.oldest_ready_age = render(
      "SELECT MAX(0, {now} - created_at) FROM {table} WHERE status IN (0, 1) AND status = 0 "
      "ORDER BY created_at, id LIMIT 1");
  sql.list_failed = render(
      "SELECT id, message_id, topic, attempts, processed_at, last_error, created_at FROM {table} "
      "WHERE " + std::string(kFailedTopic) + " AND (? IS NULL OR processed_at >= {now} - ?) "
      "ORDER BY processed_at DESC, id DESC LIMIT ?");
  sql.find_by_message_id = render(
      "SELECT id, message_id, topic, payload, correlation_id, created_at, due_at, status, "
      "attempts, next_attempt_at, locked_until, owner_token, processed_at, processed_by, "
      "last_error, replay_count, replayed_at FROM {table} WHERE message_id = ? ORDER BY id");
  sql.replay = render(
      "UPDATE {table} SET status = 0, attempts = 0, next_attempt_at = NULL, locked_until = NULL, "
      "owner_token = NULL, processed_at = NULL, processed_by = NULL, "
      "replay_count = replay_count + 1, replayed_at = {now} WHERE " + std::string(kReplayWhere));
  sql.count_replay = render("SELECT COUNT(*) FROM {table} WHERE " + std::string(kReplayWhere));
  sql.max_id = render("SELECT COALESCE(MAX(id), 0) FROM {table}");
  sql.purge_batch = render(
      "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE " + std::string(kPurgeWhere) +
      " AND id <= ? ORDER BY processed_at, id LIMIT ?)");
  sql.count_purge = render("SELECT COUNT(*) FROM {table} WHERE " + std::string(kPurgeWhere));
  return sql;
}

std::string SqliteDialect::NowMsExpression() const { return kNowMs; }

std::optional<std::string> SqliteDialect::DatabaseIdentity() const {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return std::string("missing");
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

std::string SqliteDialect::IdListParameter(const std::vector<int64_t>& ids) const {
  return JoinIds(ids, '[', ']');
}

Status SqliteDialect::OpenSession(const StoreOptions& options,
                                  std::unique_ptr<Poco::Data::Session>* session) const {
  RegisterConnector();
  // Checked here because Poco retries a failed open until its login timeout (60 s by default):
  // a directory or an unreadable file is a lasting error, reported at once.
  std::string target = path_;
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path_, ec);
  const bool exists = !ec && std::filesystem::exists(status);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::Unavailable("cannot check tenant database file '" + path_ +
                               "': " + ec.message());
  }
  if (exists) {
    if (std::filesystem::is_directory(status)) {
      return Status::Unavailable("tenant database file '" + path_ + "' is a directory");
    }
    if (!std::filesystem::is_regular_file(status)) {
      return Status::Unavailable("tenant database file '" + path_ + "' is not a regular file");
    }
    if (access(path_.c_str(), R_OK | W_OK) != 0) {
      return Status::Unavailable("cannot open tenant database file '" + path_ +
                                 "' for reading and writing: " +
                                 std::generic_category().message(errno));
    }
  } else if (!options.create_database) {
    return Status::Unavailable("tenant database file '" + path_ + "' does not exist");
  }
  if (!options.create_database) target = ReadWriteUri(path_);  // no create, even if it vanishes
  // Poco's login timeout is whole seconds: at most busy_timeout, at least one try.
  const std::size_t login_timeout_s =
      std::max<std::size_t>(1, static_cast<std::size_t>(options.busy_timeout.count() / 1000));
  try {
    auto opened = std::make_unique<Poco::Data::Session>("SQLite", target, login_timeout_s);
    // busy_timeout first: switching a fresh file to WAL takes the lock.
    *opened << "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()), now;
    *opened << "PRAGMA journal_mode = WAL", now;
    *opened << "PRAGMA synchronous = NORMAL", now;
    *session = std::move(opened);
    return Status::OK();
  } catch (...) {
    return StatusFromCurrentException(*this).WithContext("cannot open '" + path_ + "'");
  }
}

std::unique_ptr<WriteGate> SqliteDialect::NewWriteGate(const StoreOptions& options) const {
  return std::make_unique<SqliteWriteGate>(options.busy_timeout);
}

std::unique_ptr<StoreConnection> SqliteDialect::NewConnection(
    std::unique_ptr<Poco::Data::Session> session, const OutboxSql* sql, WriteGate* gate) const {
  return std::make_unique<SqliteStoreConnection>(std::move(session), sql,
                                                 static_cast<SqliteWriteGate*>(gate));
}

Status SqliteDialect::TranslateException(const Poco::Exception& e) const {
  namespace sq = Poco::Data::SQLite;
  std::string message = PocoExceptionMessage(e);
  if (Is<sq::DBLockedException>(e) || Is<sq::TableLockedException>(e) ||
      Is<sq::CantOpenDBFileException>(e) || Is<sq::IOErrorException>(e) ||
      Is<sq::DatabaseFullException>(e) || Is<sq::ReadOnlyException>(e) ||
      Is<sq::LockProtocolException>(e) || Is<sq::NoMemoryException>(e) ||
      Is<sq::InterruptException>(e)) {
    return Status::Unavailable(message);
  }
  if (Is<sq::ConstraintViolationException>(e)) return Status::InvalidArgument(message);
  if (Is<sq::SQLiteException>(e)) {
    // Extended result codes (SQLITE_BUSY_SNAPSHOT, ...) reach here as the base class.
    if (message.find("database is locked") != std::string::npos ||
        message.find("database table is locked") != std::string::npos ||
        message.find("busy") != std::string::npos) {
      return Status::Unavailable(message);
    }
    if (message.find("no such table") != std::string::npos) return Status::NotFound(message);
    return Status::Internal(message);
  }
  return TranslateGenericPocoException(e);
}

}  // namespace outboxd::sql_store
