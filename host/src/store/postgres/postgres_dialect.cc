#include "store/postgres/postgres_dialect.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <cctype>
#include <mutex>
#include <utility>

#include "store/postgres/libpq_notices.h"
#include "store/postgres/postgres_server_health.h"
#include "store/postgres/postgres_store_connection.h"
#include "store/sql/poco_connectors.h"
#include "store/sql/poco_error.h"

namespace outboxd::sql_store {

namespace {

// Epoch milliseconds of a timestamptz column (NULL stays NULL).
constexpr const char* kMs = "floor(extract(epoch from {col}) * 1000)::bigint";

// `n` milliseconds as an interval; `n` is a bigint expression.
std::string Millis(const std::string& n) { return "(" + n + ") * interval '1 millisecond'"; }

// Rows the claim may take: ready and due, or in progress under an expired lease.
constexpr const char* kClaimable =
    "status IN (0, 1) AND ("
    "(status = 0 AND (due_at IS NULL OR due_at <= now()) AND "
    "(next_attempt_at IS NULL OR next_attempt_at <= now())) OR "
    "(status = 1 AND locked_until <= now()))";

constexpr const char* kCreateTable = R"SQL(CREATE TABLE IF NOT EXISTS {table} (
  id bigserial PRIMARY KEY,
  message_id text NOT NULL DEFAULT gen_random_uuid()::text CHECK (length(message_id) > 0),
  topic text NOT NULL CHECK (length(topic) > 0),
  payload text NOT NULL,
  correlation_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  due_at timestamptz,
  status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2, 3)),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz,
  locked_until timestamptz,
  owner_token text,
  processed_at timestamptz,
  processed_by text,
  last_error text,
  replay_count integer NOT NULL DEFAULT 0 CHECK (replay_count >= 0),
  replayed_at timestamptz,
  CHECK (status <> 1 OR (owner_token IS NOT NULL AND locked_until IS NOT NULL))
))SQL";

// Failed rows matching the optional topic filter (see OutboxSql for the doubled parameters).
constexpr const char* kReplayWhere =
    "status = 3 AND ($1::text IS NULL OR topic = $2::text) AND "
    "($3::text IS NULL OR message_id IN (SELECT json_array_elements_text($4::json)))";



std::string Ms(const std::string& column) { return SubstituteSql(kMs, "col", column); }

// A text literal for names already validated as [A-Za-z_][A-Za-z0-9_]*.
std::string Literal(const std::string& text) { return "'" + text + "'"; }

template <typename T>
bool Is(const Poco::Exception& e) {
  return dynamic_cast<const T*>(&e) != nullptr;
}

// The SQLSTATE Poco's StatementException message carries as " State: XXXXX", or "".
std::string SqlState(const std::string& message) {
  size_t pos = message.find(" State: ");
  if (pos == std::string::npos || pos + 8 + 5 > message.size()) return "";
  std::string state = message.substr(pos + 8, 5);
  for (char c : state) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return "";  // "N/A": no SQLSTATE
  }
  return state;
}

}  // namespace

PostgresDialect::PostgresDialect(PostgresTarget target, bool notify)
    : target_(std::move(target)), notify_(notify) {}

// Both engines at once (store/sql/poco_connectors.h).
void PostgresDialect::RegisterConnector() { RegisterPocoConnectors(); }

OutboxSql PostgresDialect::RenderSql(const OutboxTable& table) const {
  const std::string qualified = QuoteIdentifier(table.schema) + "." + QuoteIdentifier(table.table);
  const std::string name = table.schema + "." + table.table;
  auto render = [&](const std::string& text) {
    std::string out = SubstituteSql(text, "claimable", kClaimable);
    out = SubstituteSql(out, "max_payload_bytes", kNoPayloadCap);
    return SubstituteSql(out, "table", qualified);
  };
  OutboxSql sql;
  // hashtext() of the qualified name: every deployer of this table takes the same lock.
  sql.prepare_schema = {
      "SELECT pg_advisory_xact_lock(hashtext(" + Literal("outboxd schema " + name) + "))",
      "CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(table.schema),
      // An ALTER TABLE waits at most this long for the table's lock (a long transaction holding
      // it): producers queue behind a waiting ALTER, so they wait at most this long as well.
      "SET LOCAL lock_timeout = " + Literal(kSchemaLockTimeout)};
  sql.create_table = render(kCreateTable);
  const std::string versions =
      QuoteIdentifier(table.schema) + "." + QuoteIdentifier(kSchemaVersionTable);
  sql.create_version_table = "CREATE TABLE IF NOT EXISTS " + versions +
                             " (table_name text PRIMARY KEY, version integer NOT NULL, "
                             "upgraded_at timestamptz NOT NULL DEFAULT now())";
  const std::string claim_index = "ix_" + table.table + "_claim";
  const std::string failed_index = "ix_" + table.table + "_failed";
  // to_regclass: NULL (not an error) for a missing schema or relation.
  auto regclass = [&](const std::string& relation) {
    return "to_regclass(" + Literal(QuoteIdentifier(table.schema) + "." + QuoteIdentifier(relation)) +
           ")";
  };
  sql.schema_probe =
      "SELECT (" + regclass(table.table) + " IS NOT NULL)::int::bigint, (" +
      regclass(kSchemaVersionTable) + " IS NOT NULL)::int::bigint, (" + regclass(claim_index) +
      " IS NOT NULL)::int::bigint, COALESCE((SELECT CASE WHEN i.indisvalid THEN 2 ELSE 1 END "
      "FROM pg_index i WHERE i.indexrelid = " + regclass(failed_index) + "), 0)::bigint, "
      "(SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = " + regclass(table.table) +
      " AND tgname = " + Literal(table.table + "_notify") + " AND NOT tgisinternal)::bigint";
  sql.read_version = "SELECT version::bigint FROM " + versions +
                     " WHERE table_name = " + Literal(table.table);
  sql.write_version = "INSERT INTO " + versions + " (table_name, version) VALUES (" +
                      Literal(table.table) + ", $1::integer) ON CONFLICT (table_name) DO UPDATE "
                      "SET version = excluded.version, upgraded_at = now()";
  // PostgreSQL 11+: ADD COLUMN with a constant default is a catalog change, no table rewrite.
  sql.add_columns = {
      {"replay_count", render("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS replay_count integer "
                              "NOT NULL DEFAULT 0 CHECK (replay_count >= 0)")},
      {"replayed_at", render("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS replayed_at timestamptz")}};
  sql.create_claim_index = render("CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(claim_index) +
                                  " ON {table} (created_at, id) WHERE status IN (0, 1)");
  const std::string failed_index_definition =
      "IF NOT EXISTS " + QuoteIdentifier(failed_index) + " ON " + qualified +
      " (processed_at, id) WHERE status = 3";
  sql.create_failed_index = "CREATE INDEX " + failed_index_definition;
  sql.create_failed_index_concurrently = "CREATE INDEX CONCURRENTLY " + failed_index_definition;
  sql.drop_invalid_failed_index = "DROP INDEX CONCURRENTLY IF EXISTS " +
                                  QuoteIdentifier(table.schema) + "." +
                                  QuoteIdentifier(failed_index);
  const std::string index_key = Literal("outboxd schema index " + name);
  sql.index_lock = "SELECT pg_try_advisory_lock(hashtext(" + index_key + "))::int::bigint";
  sql.index_unlock = "SELECT pg_advisory_unlock(hashtext(" + index_key + "))";
  const std::string function = QuoteIdentifier(table.schema) + "." + QuoteIdentifier(table.table + "_notify");
  const std::string trigger = QuoteIdentifier(table.table + "_notify");
  sql.want_notify_trigger = notify_;
  sql.notify_setup = {
      "CREATE OR REPLACE FUNCTION " + function +
          "() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN PERFORM pg_notify(" +
          Literal(kNotifyChannel) + ", " + Literal(name) + "); RETURN NULL; END $body$",
      "CREATE OR REPLACE TRIGGER " + trigger + " AFTER INSERT ON " + qualified +
          " FOR EACH STATEMENT EXECUTE FUNCTION " + function + "()"};
  // Turning notify off removes the trigger, so producers stop paying for NOTIFY.
  sql.notify_teardown = {"DROP TRIGGER IF EXISTS " + trigger + " ON " + qualified};
  sql.list_columns =
      "SELECT column_name::text FROM information_schema.columns WHERE table_schema = " +
      Literal(table.schema) + " AND table_name = " + Literal(table.table);
  sql.begin_write = "BEGIN";
  sql.commit = "COMMIT";
  sql.rollback = "ROLLBACK";
  // Poison isolation (docs/semantics.md, "Poison messages"): when the oldest claimable row is one
  // whose lease expired (its owner crashed or stalled on it: it is suspect), that row is claimed
  // alone; otherwise the ready rows among the oldest $3 claimable ones are (one index scan: a
  // second scan would walk the dead index entries of a burn-down twice). `attempts` saturates at
  // 2^31 - 1 (finding 8: an integer overflow would fail every claim on the table). A payload over
  // {max_payload_bytes} (StoreOptions::max_payload_bytes) is not returned, only its size, which
  // octet_length takes from the TOAST header without reading the value.
  sql.claim = render(
      "WITH c AS MATERIALIZED (SELECT id, status, created_at FROM {table} WHERE {claimable} "
      "ORDER BY created_at, id LIMIT $3::integer FOR UPDATE SKIP LOCKED), "
      "head AS (SELECT id, status FROM c ORDER BY created_at, id LIMIT 1), "
      "picked AS (SELECT id FROM head WHERE status = 1 "
      "UNION ALL "
      "SELECT id FROM c WHERE status = 0 AND NOT EXISTS (SELECT 1 FROM head WHERE status = 1)) "
      "UPDATE {table} AS t SET "
      "attempts = CASE WHEN t.status = 1 AND t.attempts < 2147483647 THEN t.attempts + 1 "
      "ELSE t.attempts END, "
      "last_error = CASE WHEN t.status = 1 THEN 'lease expired: owner ' || t.owner_token || "
      "' did not complete the message before its lease ran out' ELSE t.last_error END, "
      "status = 1, owner_token = $1::text, locked_until = now() + " + Millis("$2::bigint") + " "
      "FROM picked WHERE t.id = picked.id "
      "RETURNING t.id, t.message_id, t.topic, "
      "CASE WHEN octet_length(t.payload) > {max_payload_bytes} THEN ''::text ELSE t.payload END, "
      "t.correlation_id, " +
      Ms("t.created_at") + ", " + Ms("t.due_at") + ", t.attempts::bigint, t.last_error, " +
      Ms("t.next_attempt_at") + ", octet_length(t.payload)::bigint");
  // A done row carries no last_error (docs/store.md, "What a row carries").
  sql.mark_dispatched = render(
      "UPDATE {table} SET status = 2, processed_at = now(), processed_by = $1::text, "
      "owner_token = NULL, locked_until = NULL, last_error = NULL "
      "WHERE id = ANY($2::bigint[]) AND owner_token = $3::text AND status = 1 RETURNING id");
  sql.release = render(
      "UPDATE {table} SET status = 0, owner_token = NULL, locked_until = NULL "
      "WHERE id = ANY($1::bigint[]) AND owner_token = $2::text AND status = 1 RETURNING id");
  sql.reschedule = render(
      "UPDATE {table} AS t SET status = 0, "
      "attempts = CASE WHEN t.attempts < 2147483647 THEN t.attempts + 1 ELSE t.attempts END, "
      "next_attempt_at = now() + " + Millis("o.delay_ms") + ", last_error = o.error, "
      "owner_token = NULL, locked_until = NULL "
      "FROM (SELECT (e->>0)::bigint AS id, (e->>1)::bigint AS delay_ms, e->>2 AS error "
      "FROM json_array_elements($1::json) AS e) AS o "
      "WHERE t.id = o.id AND t.owner_token = $2::text AND t.status = 1 RETURNING t.id");
  sql.fail = render(
      "UPDATE {table} AS t SET status = 3, "
      "attempts = CASE WHEN o.counted AND t.attempts < 2147483647 THEN t.attempts + 1 "
      "ELSE t.attempts END, processed_at = now(), "
      "processed_by = $1::text, last_error = o.error, owner_token = NULL, locked_until = NULL "
      "FROM (SELECT (e->>0)::bigint AS id, e->>1 AS error, "
      "COALESCE((e->>2)::int, 1) <> 0 AS counted "
      "FROM json_array_elements($2::json) AS e) AS o "
      "WHERE t.id = o.id AND t.owner_token = $3::text AND t.status = 1 RETURNING t.id");
  sql.renew_lease = render("UPDATE {table} SET locked_until = now() + " + Millis("$1::bigint") +
                           " WHERE status = 1 AND owner_token = $2::text");
  sql.enqueue = render(
      "INSERT INTO {table} (message_id, topic, payload, correlation_id, due_at) VALUES ("
      "COALESCE($1::text, gen_random_uuid()::text), $2::text, $3::text, $4::text, "
      "CASE WHEN $5::bigint > 0 THEN now() + " + Millis("$6::bigint") + " ELSE NULL END) "
      "RETURNING message_id");
  sql.count_by_status =
      render("SELECT status::bigint, COUNT(*)::bigint FROM {table} GROUP BY status");
  // `status IN (0, 1)` matches the partial claim index's predicate.
  sql.count_ready_by_topic = render(
      "SELECT topic, COUNT(*)::bigint FROM {table} WHERE status IN (0, 1) AND status = 0 "
      "GROUP BY topic");
  sql.has_pending_work = render(
      "SELECT CASE WHEN EXISTS (SELECT 1 FROM {table} WHERE status IN (0, 1) AND (status = 1 OR "
      "((due_at IS NULL OR due_at <= now()) AND "
      "(next_attempt_at IS NULL OR next_attempt_at <= now())))) THEN 1 ELSE 0 END::bigint");
  const std::string ready_due =
      "status = 0 AND (due_at IS NULL OR due_at <= now()) AND "
      "(next_attempt_at IS NULL OR next_attempt_at <= now())";
  sql.backlog = render(
      "SELECT count(*) FILTER (WHERE " + ready_due + ")::bigint, "
      "count(*) FILTER (WHERE status = 1)::bigint, "
      "(SELECT count(*) FROM {table} WHERE status = 3)::bigint, "
      "COALESCE(floor(extract(epoch from now() - min(GREATEST(created_at, due_at, "
      "next_attempt_at)) FILTER (WHERE " + ready_due + ")) * 1000)::bigint, 0), "
      "COALESCE(floor(extract(epoch from max(locked_until) FILTER (WHERE status = 1) - now()) "
      "* 1000)::bigint, 0) "
      "FROM {table} WHERE status IN (0, 1)");
  sql.cleanup = render("DELETE FROM {table} WHERE status = 2 AND processed_at < now() - " +
                       Millis("$1::bigint"));
  sql.oldest_ready_age = render(
      "SELECT GREATEST(0, " + Ms("now()") + " - " + Ms("created_at") + ") FROM {table} "
      "WHERE status = 0 ORDER BY created_at, id LIMIT 1");
  sql.list_failed = render(
      "SELECT id, message_id, topic, attempts::bigint, " + Ms("processed_at") + ", last_error, " +
      Ms("created_at") + " FROM {table} WHERE status = 3 AND ($1::text IS NULL OR topic = $2::text) "
      "AND ($3::bigint IS NULL OR processed_at >= now() - " + Millis("$4::bigint") + ") "
      "ORDER BY processed_at DESC, id DESC LIMIT $5::bigint");
  sql.find_by_message_id = render(
      "SELECT id, message_id, topic, payload, correlation_id, " + Ms("created_at") + ", " +
      Ms("due_at") + ", status::bigint, attempts::bigint, " + Ms("next_attempt_at") + ", " +
      Ms("locked_until") + ", owner_token, " + Ms("processed_at") + ", processed_by, last_error, "
      "replay_count::bigint, " + Ms("replayed_at") + " FROM {table} WHERE message_id = $1::text "
      "ORDER BY id");
  sql.replay = render(
      "UPDATE {table} SET status = 0, attempts = 0, next_attempt_at = NULL, locked_until = NULL, "
      "owner_token = NULL, processed_at = NULL, processed_by = NULL, "
      "replay_count = replay_count + 1, replayed_at = now() WHERE " + std::string(kReplayWhere));
  sql.count_replay =
      render("SELECT COUNT(*)::bigint FROM {table} WHERE " + std::string(kReplayWhere));
  sql.max_id = render("SELECT COALESCE(MAX(id), 0)::bigint FROM {table}");
  // The outer `status = 3` is re-checked on a row changed meanwhile (a concurrent replay).
  sql.purge_batch = render(
      "DELETE FROM {table} WHERE status = 3 AND id IN (SELECT id FROM {table} WHERE status = 3 "
      "AND ($1::text IS NULL OR topic = $2::text) AND ($3::bigint IS NULL OR processed_at < now() - " +
      Millis("$4::bigint") + ") AND id <= $5::bigint ORDER BY processed_at, id LIMIT $6::bigint)");
  sql.count_purge = render(
      "SELECT COUNT(*)::bigint FROM {table} WHERE status = 3 AND ($1::text IS NULL OR "
      "topic = $2::text) AND ($3::bigint IS NULL OR processed_at < now() - " +
      Millis("$4::bigint") + ")");
  return sql;
}

std::string PostgresDialect::NowMsExpression() const { return Ms("now()"); }

std::string PostgresDialect::IdListParameter(const std::vector<int64_t>& ids) const {
  return JoinIds(ids, '{', '}');
}

Status PostgresDialect::OpenSession(const StoreOptions& options,
                                    std::unique_ptr<Poco::Data::Session>* session) const {
  RegisterConnector();
  PostgresServerHealth& health = PostgresServerHealth::Instance();
  if (probe_next_open_.load(std::memory_order_acquire) || health.Suspect(target_.server)) {
    Status reachable = ProbePostgres(target_.conninfo);
    if (!reachable.ok()) {
      health.Failed(target_.server);
      return reachable.WithContext("cannot connect to PostgreSQL at " + target_.description);
    }
  }
  try {
    auto opened = std::make_unique<Poco::Data::Session>(Poco::Data::PostgreSQL::Connector::KEY,
                                                        target_.conninfo);
    // Server notices go through the logger, never raw to stderr; idempotent DDL ("already
    // exists, skipping") NOTICEs are not even sent.
    if (auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(opened->impl())) {
      RouteNoticesToLog(static_cast<PGconn*>(impl->handle()));
    }
    *opened << "SET client_min_messages TO warning", Poco::Data::Keywords::now;
    // A statement waits for a lock at most busy_timeout (SQLite's meaning of the knob), so a table
    // locked by another client (an idle transaction holding LOCK TABLE) fails this store's call
    // with a clear Unavailable ("canceling statement due to lock timeout", backed off and logged)
    // instead of pinning a worker for as long as the lock is held. 0 would mean no limit.
    const int64_t lock_ms = std::max<int64_t>(1, options.busy_timeout.count());
    *opened << "SET lock_timeout = " + std::to_string(lock_ms), Poco::Data::Keywords::now;
    *session = std::move(opened);
    probe_next_open_.store(false, std::memory_order_release);
    health.Succeeded(target_.server);
    return Status::OK();
  } catch (...) {
    probe_next_open_.store(true, std::memory_order_release);
    health.Failed(target_.server);
    // Unavailable, on one line, as ProbePostgres reports the same failure (libpq's text spans
    // lines; Poco prefixes "Connection Error: ").
    const Status failed = StatusFromCurrentException(*this);
    return Status::Unavailable(OneLineLibpqMessage(failed.message().c_str()))
        .WithContext("cannot connect to PostgreSQL at " + target_.description);
  }
}

std::unique_ptr<StoreConnection> PostgresDialect::NewConnection(
    std::unique_ptr<Poco::Data::Session> session, const OutboxSql* sql,
    WriteGate* /*gate*/) const {
  return std::make_unique<PostgresStoreConnection>(std::move(session), sql);
}

Status PostgresDialect::TranslateException(const Poco::Exception& e) const {
  namespace pg = Poco::Data::PostgreSQL;
  std::string message = PocoExceptionMessage(e);
  // Poco appends the statement's SQL after libpq's (multi-line) text when a PREPARE fails: keep
  // the server's first line, which names the problem, and drop the SQL.
  if (const size_t at = message.find("postgresql_stmt_prepare error: ");
      at != std::string::npos) {
    message = message.substr(0, message.find('\n', at));
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  // The next open probes first: a failed statement often means the server went away.
  if (Is<pg::ConnectionException>(e)) {
    probe_next_open_.store(true, std::memory_order_release);
    PostgresServerHealth::Instance().Failed(target_.server);
    return Status::Unavailable(message);
  }
  if (Is<pg::PostgreSQLException>(e)) {
    std::string state = SqlState(message);
    std::string cls = state.substr(0, std::min<size_t>(2, state.size()));
    if (cls == "08" || cls == "53" || cls == "57" || cls == "40" || cls == "55" || cls == "3D") {
      probe_next_open_.store(true, std::memory_order_release);
      // The connection or the server went away (not one database's or one row's trouble).
      if (cls == "08" || cls == "57") PostgresServerHealth::Instance().Failed(target_.server);
      return Status::Unavailable(message);
    }
    if (cls == "23" || cls == "22") return Status::InvalidArgument(message);
    if (state == "42P01" || state == "3F000") return Status::NotFound(message);
    // Poco reports errors of PQprepare without a SQLSTATE; a missing table or schema shows up
    // there (the statement is prepared on first use), so it is recognised by libpq's text.
    if (state.empty() && message.find("postgresql_stmt_prepare error") != std::string::npos &&
        (message.find("ERROR:  relation \"") != std::string::npos ||
         message.find("ERROR:  schema \"") != std::string::npos) &&
        message.find("\" does not exist") != std::string::npos) {
      return Status::NotFound(message);
    }
    // A lock wait cut by lock_timeout (stores.busy_timeout) while the statement is prepared on
    // first use (parse analysis takes the table's lock): no SQLSTATE, recognised by its text.
    if (state.empty() && message.find("due to lock timeout") != std::string::npos) {
      return Status::Unavailable(message);
    }
    if (state.empty() &&
        (message.find("server closed the connection") != std::string::npos ||
         message.find("no connection to the server") != std::string::npos ||
         message.find("terminating connection") != std::string::npos)) {
      probe_next_open_.store(true, std::memory_order_release);
      PostgresServerHealth::Instance().Failed(target_.server);
      return Status::Unavailable(message);
    }
    return Status::Internal(message);
  }
  return TranslateGenericPocoException(e);
}

std::string ClaimableProbeSql(const std::string& schema, const std::string& table,
                              const std::string& key) {
  std::string quoted_key = "'";
  for (char c : key) quoted_key += c == '\'' ? std::string("''") : std::string(1, c);
  quoted_key += "'";
  return "SELECT " + quoted_key + "::text WHERE EXISTS (SELECT 1 FROM " + QuoteIdentifier(schema) +
         "." + QuoteIdentifier(table) + " WHERE " + kClaimable + ")";
}

}  // namespace outboxd::sql_store
