// PostgresDialect: the outbox on a PostgreSQL (13+) database through Poco's PostgreSQL connector.
// The table lives in a schema (default "infra", created with CREATE SCHEMA IF NOT EXISTS).
//
// Same contract as SQLite, PostgreSQL types: times are timestamptz from the server clock (now(),
// the statement's transaction time) and are handed to the store as epoch milliseconds; ids are
// bigserial. The claim is ONE statement: a CTE picks the oldest claimable ids with
// FOR UPDATE SKIP LOCKED, the UPDATE takes them and RETURNING hands back whole rows, so
// concurrent claimers (threads or processes on other machines) never wait on each other and never
// get the same row. Completions pass a batch's ids as one bigint[] parameter (= ANY($n)).
//
// Schema setup runs in one transaction that first takes a transaction-scoped advisory lock on the
// table's name, so concurrent deployers (several outboxd processes starting at once) serialise
// instead of failing on the catalog's unique indexes. With `notify` the schema also installs a
// statement-level AFTER INSERT trigger that runs pg_notify(kNotifyChannel, '<schema>.<table>').
//
// Opening a session: an attempt after this store's failed one, or while its server is suspect
// (postgres_server_health.h: a connection to it failed or was lost and none succeeded since), is
// preceded by ProbePostgres (see postgres_conninfo.h), so Poco is only handed a server that
// answered; a failed connect through Poco 1.11 leaks its PGconn. A store's first attempt on a
// healthy server is not probed (one server session per connection, not two).
//
// THREADING: thread-safe (the only mutable state is an atomic flag).
#ifndef OUTBOXD_STORE_POSTGRES_POSTGRES_DIALECT_H_
#define OUTBOXD_STORE_POSTGRES_POSTGRES_DIALECT_H_

#include <atomic>
#include <string>

#include "store/postgres/postgres_conninfo.h"
#include "store/sql/sql_dialect.h"

namespace outboxd::sql_store {

// The channel the insert trigger notifies; the payload is "<schema>.<table>".
inline constexpr char kNotifyChannel[] = "outboxd_outbox";

// lock_timeout of the schema setup transaction (docs/store.md, "Schema versions"): how long an
// upgrade's ALTER TABLE may wait for the table's lock, and so how long producers queued behind it
// wait at most. Past it the setup fails as Unavailable and is retried on the next call.
inline constexpr char kSchemaLockTimeout[] = "5s";

class PostgresDialect final : public SqlDialect {
 public:
  PostgresDialect(PostgresTarget target, bool notify);

  const PostgresTarget& target() const { return target_; }

  std::string name() const override { return "PostgreSQL"; }
  std::string DatabaseKey() const override { return target_.conninfo; }
  OutboxSql RenderSql(const OutboxTable& table) const override;
  std::string NowMsExpression() const override;
  std::string IdListParameter(const std::vector<int64_t>& ids) const override;
  // Poco 1.11's PostgreSQL StatementExecutor double-frees after a failed execute.
  bool AbandonStatementsOnError() const override { return true; }
  bool RetryOnFreshConnection() const override { return true; }
  Status OpenSession(const StoreOptions& options,
                     std::unique_ptr<Poco::Data::Session>* session) const override;
  Status TranslateException(const Poco::Exception& e) const override;
  // A PostgresStoreConnection (no write gate: PostgreSQL has row locks).
  std::unique_ptr<StoreConnection> NewConnection(std::unique_ptr<Poco::Data::Session> session,
                                                 const OutboxSql* sql,
                                                 WriteGate* gate) const override;

  // Registers Poco's PostgreSQL connector (idempotent, thread-safe). OpenSession calls it.
  static void RegisterConnector();

 private:
  const PostgresTarget target_;
  const bool notify_;
  mutable std::atomic<bool> probe_next_open_{false};  // this store's last attempt failed
};

// One SELECT that returns the text `key` as its only row when `schema`.`table` has a row the claim
// would take right now (the claim's own condition; an index scan of the claim index), and no row
// otherwise. The NOTIFY listener runs it on its own connection as the safety net of a listened
// table (PostgresNotifyListener). Names are validated identifiers; `key` is quoted.
std::string ClaimableProbeSql(const std::string& schema, const std::string& table,
                              const std::string& key);

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_POSTGRES_POSTGRES_DIALECT_H_
