// SqlDialect: everything engine-specific about an outbox table reached through Poco Data: how to
// open a session, the SQL text of each store operation, how to pass a list of ids as one parameter,
// and how the engine's Poco exceptions map onto Status. SqlOutboxStore is written once against
// this interface; SQLite is SqliteDialect, PostgreSQL is PostgresDialect.
//
// Every statement in OutboxSql uses positional parameters (`?` on SQLite, `$1..$n` on PostgreSQL)
// in the order documented beside it, and reads the clock only from the database (times reach the
// store as the engine's own UTC time in milliseconds since the Unix epoch). Statements that return
// ids use RETURNING. A batch of rows is passed as ONE text parameter, so a whole completion batch
// is a handful of statements whatever its size:
//   id_list:         SqlDialect::IdListParameter (SQLite: JSON [id, ...]; PostgreSQL: {id,...})
//   reschedule_list: [[id, delay_ms, "last_error"], ...]   (JSON on every engine)
//   fail_list:       [[id, "last_error", count_attempt (0 or 1; missing: 1)], ...]
//
// OWNERSHIP: a dialect is owned by its store. OpenSession hands the new session to the caller,
// NewConnection and NewWriteGate their results.
// THREADING: implementations are immutable after construction and thread-safe.
#ifndef OUTBOXD_STORE_SQL_SQL_DIALECT_H_
#define OUTBOXD_STORE_SQL_SQL_DIALECT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/outbox_store.h"
#include "store/sql/write_gate.h"

namespace Poco {
class Exception;
namespace Data {
class Session;
}  // namespace Data
}  // namespace Poco

namespace outboxd::sql_store {

class StoreConnection;

// Validated, unquoted names of one outbox table. `schema` is empty on engines without schemas.
struct OutboxTable {
  std::string schema;
  std::string table;
};

// InvalidArgument unless `name` matches [A-Za-z_][A-Za-z0-9_]* and is at most 63 characters (the
// PostgreSQL identifier limit). `what` names the setting in the message ("table name").
Status ValidateSqlIdentifier(const std::string& what, const std::string& name);

// The columns every outbox table must have (schema version 1, outboxd 0.1.0), in table order.
const std::vector<std::string>& RequiredOutboxColumns();

// The table that records each outbox table's schema version, next to it (same database; on
// PostgreSQL the same schema). Reserved: an outbox table cannot have this name.
inline constexpr char kSchemaVersionTable[] = "outbox_schema";

// SQL text helpers for dialects: every "{key}" in `text` replaced by `value`; an identifier in
// double quotes (names are validated first, so no escaping is needed); ids joined with commas
// between `open` and `close` ("[1,2]" for JSON, "{1,2}" for a PostgreSQL array literal).
std::string SubstituteSql(std::string text, const std::string& key, const std::string& value);

// What a dialect renders for "{max_payload_bytes}" in its claim: no cap (the largest bigint), marked
// so that a store can put its StoreOptions::max_payload_bytes in its place.
inline constexpr const char* kNoPayloadCap = "/*max_payload_bytes*/9223372036854775807";
std::string QuoteIdentifier(const std::string& identifier);
std::string JoinIds(const std::vector<int64_t>& ids, char open, char close);

// The SQL text of every store operation for one table, rendered once per store.
struct OutboxSql {
  // Schema setup and upgrades (docs/store.md, "Schema versions"); SqlOutboxStore::EnsureSchema
  // runs them. schema_probe is the cheap check of every first use; the rest only run when it
  // shows something missing. Inside one write transaction: prepare_schema in order (locks, CREATE
  // SCHEMA), create_table (the current version's table, for a missing one), create_version_table,
  // then the column check (list_columns must show RequiredOutboxColumns), add_columns for each
  // missing version-2 column, create_claim_index and, when the engine cannot build it outside the
  // transaction, create_failed_index; notify_setup or notify_teardown (may be empty);
  // write_version.
  std::vector<std::string> prepare_schema;
  std::string create_table;
  std::string create_version_table;
  // () -> table exists (0/1), version table exists (0/1), claim index exists (0/1), failed index
  // (0 missing, 1 invalid leftover, 2 valid), notify trigger exists (0/1). One catalog read.
  std::string schema_probe;
  std::string read_version;   // () -> version: zero rows when the table has no version row
  std::string write_version;  // (version) upsert of the table's row
  std::vector<std::pair<std::string, std::string>> add_columns;  // (column, ALTER TABLE ...)
  std::string create_claim_index;
  std::string create_failed_index;  // inside the transaction
  // PostgreSQL only (empty on SQLite): the failed-rows index is built CONCURRENTLY outside any
  // transaction, under index_lock (() -> 1 when it took a session-level advisory lock, 0 when
  // another session holds it; index_unlock releases it). drop_invalid_failed_index removes the
  // INVALID leftover of an interrupted build first.
  std::string index_lock;
  std::string index_unlock;
  std::string drop_invalid_failed_index;
  std::string create_failed_index_concurrently;
  bool want_notify_trigger = false;
  std::vector<std::string> notify_setup;     // when want_notify_trigger and the trigger is missing
  std::vector<std::string> notify_teardown;  // when !want_notify_trigger and the trigger exists
  std::string list_columns;                // () -> name: the table's column names
  std::string begin_write;                 // starts a transaction that holds the write lock
  std::string commit;
  std::string rollback;
  // (owner_token, lease_ms, limit) -> id, message_id, topic, payload, correlation_id, created_at,
  // due_at, attempts, last_error, next_attempt_at.
  std::string claim;
  std::string mark_dispatched;  // (processed_by, id_list, owner_token) -> id
  std::string release;          // (id_list, owner_token) -> id
  std::string reschedule;       // (reschedule_list, owner_token) -> id
  std::string fail;             // (processed_by, fail_list, owner_token) -> id
  std::string renew_lease;      // (lease_ms, owner_token); affected rows
  // (message_id or NULL, topic, payload, correlation_id or NULL, delay_ms, delay_ms) -> message_id
  std::string enqueue;
  std::string count_by_status;   // () -> status, count
  std::string count_ready_by_topic;  // () -> topic, count of status-0 rows (GROUP BY topic)
  std::string has_pending_work;  // () -> 0 or 1
  // () -> ready_due, in_progress, failed, oldest_ready_age_ms (one row; see StoreBacklog)
  std::string backlog;
  std::string cleanup;           // (retention_ms); affected rows
  std::string oldest_ready_age;  // () -> age in ms of the oldest status-0 row; zero rows if none

  // Operator statements (issue 11). Optional filters are passed twice: (x, x) reads
  // "x IS NULL OR column matches x". message_ids is a JSON array of strings.
  // (topic, topic, within_ms, within_ms, limit) -> id, message_id, topic, attempts, processed_at,
  // last_error, created_at
  std::string list_failed;
  // (message_id) -> id, message_id, topic, payload, correlation_id, created_at, due_at, status,
  // attempts, next_attempt_at, locked_until, owner_token, processed_at, processed_by, last_error,
  // replay_count, replayed_at
  std::string find_by_message_id;
  std::string replay;        // (topic, topic, message_ids, message_ids); affected rows
  std::string count_replay;  // same parameters -> count
  std::string max_id;        // () -> MAX(id) or 0
  // (topic, topic, older_than_ms, older_than_ms, max_id, batch); affected rows
  std::string purge_batch;
  std::string count_purge;   // (topic, topic, older_than_ms, older_than_ms) -> count
};

class SqlDialect {
 public:
  virtual ~SqlDialect() = default;

  // Engine name for messages ("SQLite").
  virtual std::string name() const = 0;

  // Identifies the database (file path, PostgreSQL conninfo): with the table's names, the key under
  // which a process remembers that the schema is deployed. Never logged (may hold a password).
  virtual std::string DatabaseKey() const = 0;

  // What the database name points at right now (SQLite: the file's device and inode, "missing"
  // when there is no file), or nullopt on engines where a name cannot be re-pointed. A connection
  // opened under another identity reads a file that was replaced or deleted: the store closes it
  // and opens a fresh one. One stat() call; no database access.
  virtual std::optional<std::string> DatabaseIdentity() const { return std::nullopt; }

  // True when an operation that failed as Unavailable on a reused connection whose session is
  // gone (killed by the server, network cut) is tried once more on a fresh connection.
  virtual bool RetryOnFreshConnection() const { return false; }

  // The id_list parameter of mark_dispatched and release for `ids`.
  virtual std::string IdListParameter(const std::vector<int64_t>& ids) const = 0;

  // True when a connection that raised an error must not destroy its prepared statements (see
  // StoreConnection::AbandonStatements): the connector cannot clean them up safely.
  virtual bool AbandonStatementsOnError() const { return false; }

  // Renders the SQL for `table` (names already validated). Identifiers are quoted.
  virtual OutboxSql RenderSql(const OutboxTable& table) const = 0;

  // An SQL expression for the database's "now" in integer milliseconds since the Unix epoch.
  virtual std::string NowMsExpression() const = 0;

  // Opens and configures one session. Never throws: failures come back as a Status (Unavailable
  // when the database is missing or unreachable).
  virtual Status OpenSession(const StoreOptions& options,
                             std::unique_ptr<Poco::Data::Session>* session) const = 0;

  // The store's write gate (see WriteGate), or null on engines where writers need no turns. The
  // store owns it; it outlives every connection NewConnection makes for that store.
  virtual std::unique_ptr<WriteGate> NewWriteGate(const StoreOptions& /*options*/) const {
    return nullptr;
  }

  // This engine's connection on a session OpenSession opened. `sql` is borrowed (must outlive the
  // connection); `gate` is what NewWriteGate made for the same store (null when it made none).
  virtual std::unique_ptr<StoreConnection> NewConnection(
      std::unique_ptr<Poco::Data::Session> session, const OutboxSql* sql,
      WriteGate* gate) const = 0;

  // Maps an exception raised by this engine's Poco connector onto a Status (Unavailable for busy,
  // locked, I/O and connection failures). The message is the engine's text, without context.
  virtual Status TranslateException(const Poco::Exception& e) const = 0;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_SQL_DIALECT_H_
