// SqlOutboxStore: OutboxStore on one tenant table through Poco Data, written once against
// SqlDialect (SQLite: SqliteDialect in store/sqlite/; PostgreSQL: PostgresDialect in
// store/postgres/), on the connections the dialect makes. Obtain one through OpenOutboxStore
// (store/outbox_store.h); this header is for tests and for dialect authors.
//
// Behaviour beyond the OutboxStore contract:
//  - Connections open lazily, at most StoreOptions::max_connections, and are reused; a connection
//    that raised any database error is closed instead of being reused. An operation that fails as
//    Unavailable on a reused connection whose session is gone (PostgreSQL: backend terminated)
//    runs once more on a fresh connection before the store reports Unavailable.
//  - SQLite: a pooled connection whose file was replaced or deleted under the same path (device or
//    inode changed: a backup restored with `mv`) is closed before use and a fresh one opened; the
//    schema is checked again on the new file.
//  - With StoreOptions::create_schema, the first call of any operation creates the table and
//    indexes, or upgrades an older table (EnsureSchema); after one success that is a single atomic
//    load. One worker of the store checks at a time (the others wait for its result), and a
//    deployer that finds the schema complete once it holds the deployers' lock runs no DDL, so a
//    table is deployed once even when processes race on first use. Success is remembered
//    process-wide per (database, table), so a re-created store does not deploy again; an error
//    saying the table is missing forgets it, and the next call deploys again.
//  - Complete reports every distinct id of `completions` exactly once, in input order, in
//    report->applied or report->lease_lost (appended). When an id occurs more than once, its first
//    completion is the one applied. On error the report is left untouched and nothing is applied.
//  - ClaimDue appends the claimed rows oldest first (created_at, then id).
//  - PurgeFailed deletes one batch per pooled-connection use, so workers get the connection (and
//    on SQLite the write mutex below) between batches.
//  - SQLite: write transactions of this store (claim, complete, renew, enqueue, cleanup, replay,
//    purge) take turns through a SqliteWriteGate, held while the statement runs. SQLite has one
//    writer per file; without the gate, concurrent workers collide in BEGIN IMMEDIATE and sleep in
//    SQLite's busy handler (1, 2, 5, 10 ... ms) while the file sits idle. When another process
//    holds the lock, one worker waits for it (up to busy_timeout) and the others get Unavailable
//    at once ("locked by another process"), so the dispatcher backs the store off by itself.
//  - Every error message reads "store '<identifier>': <operation> failed: <reason>" and never
//    contains a password.
//
// OWNERSHIP: owns its dialect, connections and statements.
// THREADING: thread-safe; no lock is held while a database call runs, except the SQLite write
// gate above.
#ifndef OUTBOXD_STORE_SQL_SQL_OUTBOX_STORE_H_
#define OUTBOXD_STORE_SQL_SQL_OUTBOX_STORE_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/outbox_store.h"
#include "store/sql/connection_pool.h"
#include "common/mutex.h"
#include "store/sql/sql_dialect.h"
#include "store/sql/store_connection.h"
#include "store/sql/write_gate.h"

namespace outboxd::sql_store {

class SqlOutboxStore final : public OutboxStore {
 public:
  // Validates the schema and table names (InvalidArgument) and options; opens nothing.
  static Status Create(const TenantLocation& location, const StoreOptions& options,
                       std::unique_ptr<SqlDialect> dialect,
                       std::unique_ptr<SqlOutboxStore>* store);

  ~SqlOutboxStore() override;

  const TenantLocation& location() const override { return location_; }
  Status EnsureSchema() override;
  Status ClaimDue(int limit, std::chrono::milliseconds lease, const std::string& owner_token,
                  std::vector<OutboxMessage>* out) override;
  Status Complete(const std::string& owner_token, const std::vector<Completion>& completions,
                  CompletionReport* report) override;
  Status RenewLease(const std::string& owner_token, std::chrono::milliseconds lease,
                    int64_t* renewed) override;
  Status Enqueue(const NewMessage& message, std::string* message_id) override;
  Status GetStats(StoreStats* stats) override;
  Status CountReadyByTopic(std::map<std::string, int64_t>* counts) override;
  Status HasPendingWork(bool* pending) override;
  Status GetBacklog(StoreBacklog* backlog) override;
  Status Cleanup(std::chrono::milliseconds retention, int64_t* deleted) override;
  Status ListFailed(const FailedQuery& query, std::vector<FailedMessage>* out) override;
  Status FindByMessageId(const std::string& message_id, std::vector<StoredMessage>* out) override;
  Status ReplayFailed(const ReplaySelection& selection, bool dry_run, int64_t* count) override;
  Status PurgeFailed(const PurgeSelection& selection, bool dry_run, int64_t* count) override;
  Status GetSchemaStatus(SchemaStatus* status) override;

  const SqlDialect& dialect() const { return *dialect_; }
  // Connections that exist / sit idle right now (diagnostics and tests).
  int open_connections() const override { return pool_.open_connections(); }
  bool serializes_writes() const override { return serialize_writes_; }
  int idle_connections() const { return pool_.idle_connections(); }
  // Sessions this store has opened since it was created (tests: a steady state opens none).
  int64_t sessions_opened() const { return pool_.opened_total(); }
  // Schema deployments (write transactions with DDL) this store has run.
  int64_t schema_deployments() const { return schema_deployments_.load(); }

 private:
  SqlOutboxStore(const TenantLocation& location, const StoreOptions& options,
                  std::unique_ptr<SqlDialect> dialect, const OutboxTable& table);

  Status OpenConnection(std::unique_ptr<StoreConnection>* out);
  // A pooled connection to the database the name points at now: stale ones (another SQLite file
  // under the same path) are closed and the schema memo forgotten.
  Status AcquireCurrent(std::unique_ptr<StoreConnection>* out);
  Status EnsureSchemaIfConfigured();
  // Brings the table to kOutboxSchemaVersion on `connection` (docs/store.md, "Schema versions").
  Status DeploySchema(StoreConnection& connection);
  // "<schema>.<table>" (or "<table>" on SQLite) and the refusal of a table newer than this binary.
  std::string TableName() const;
  Status TooNew(int version) const;
  // Runs fn(StoreConnection&) -> Status on a pooled connection, converting exceptions. When a
  // reused PostgreSQL session turns out dead, fn runs once more on a fresh connection, unless the
  // operation is kNotRetried: one whose second run could repeat a change the server committed just
  // before the link died (an insert; claims and outcomes are guarded by owner tokens and leases).
  enum class OnDeadSession { kRetry, kNotRetried };
  template <typename Fn>
  Status Run(const char* operation, Fn&& fn, OnDeadSession on_dead = OnDeadSession::kRetry);
  // This store's turn at the SQLite write gate for its scope (nothing on other engines).
  class WriteTurn {
   public:
    explicit WriteTurn(WriteGate* gate) : gate_(gate) {}
    ~WriteTurn() {
      if (gate_ != nullptr) gate_->Leave();
    }
    WriteTurn(const WriteTurn&) = delete;
    WriteTurn& operator=(const WriteTurn&) = delete;

   private:
    WriteGate* const gate_;
  };
  // Takes the write turn; throws LockedByOtherProcess (Run reports Unavailable, keeps the
  // connection) when another worker already waits for a lock held by another process.
  WriteTurn WriteLock();
  // "store '<id>': <operation> failed: <reason>", with any password redacted.
  Status Failed(const char* operation, const Status& status) const;

  const TenantLocation location_;
  const StoreOptions options_;
  const std::unique_ptr<SqlDialect> dialect_;
  const OutboxTable table_;
  const OutboxSql sql_;
  const std::string schema_key_;  // process-wide "schema deployed" memo key
  // SQLite's (SqlDialect::NewWriteGate), null on other engines. Before pool_: outlives the
  // connections it is installed on.
  const std::unique_ptr<WriteGate> write_gate_;
  const bool serialize_writes_;  // write_gate_ != nullptr
  ConnectionPool<StoreConnection> pool_;
  std::atomic<bool> schema_ready_{false};
  std::atomic<int64_t> schema_deployments_{0};
  Mutex schema_mu_;
  CondVar schema_changed_;
  bool schema_checking_ GUARDED_BY(schema_mu_) = false;  // one worker runs EnsureSchema's check
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_SQL_OUTBOX_STORE_H_
