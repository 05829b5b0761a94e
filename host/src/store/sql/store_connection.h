// StoreConnection: one Poco session on a tenant database plus the store's statements. The base
// class runs the engine-neutral statements through Poco Data: schema setup and probes, operator
// statements (run once each), and enqueue, stats, backlog and cleanup (built once on first use with
// their parameters bound to member variables and re-executed after that). The hot statements of a
// dispatch visit (BEGIN/COMMIT/ROLLBACK, claim, the four outcomes, lease renewal, the pending-work
// check) are each engine's own, one path per engine: SqliteStoreConnection (store/sqlite/, the
// sqlite3 C API) and PostgresStoreConnection (store/postgres/, Poco Data). A dialect makes the
// right one (SqlDialect::NewConnection).
//
// Every method runs one statement and throws Poco::Exception on any database error: the store
// catches at its edge, converts to Status and discards the connection.
//
// OWNERSHIP: owns its session and statements; `sql` is borrowed and must outlive the connection.
// THREADING: confined to one thread at a time (the pool lends it to one caller).
#ifndef OUTBOXD_STORE_SQL_STORE_CONNECTION_H_
#define OUTBOXD_STORE_SQL_STORE_CONNECTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/outbox_message.h"
#include "store/sql/sql_dialect.h"

namespace outboxd::sql_store {

class StoreConnection {
 public:
  StoreConnection(std::unique_ptr<Poco::Data::Session> session, const OutboxSql* sql);
  virtual ~StoreConnection();

  // Forgets the prepared statements without destroying them (they stay allocated, reachable from
  // a process-wide list). For a connection that failed on PostgreSQL: Poco 1.11's
  // PostgreSQL StatementExecutor keeps a dangling PGresult after a failed execute and frees it again
  // in its destructor (a double free). Costs a few KB per failed connection.
  virtual void AbandonStatements();
  StoreConnection(const StoreConnection&) = delete;
  StoreConnection& operator=(const StoreConnection&) = delete;

  // SqlDialect::DatabaseIdentity when the session was opened (nullopt: the engine has none).
  const std::optional<std::string>& identity() const { return identity_; }
  void set_identity(std::optional<std::string> identity) { identity_ = std::move(identity); }
  // False until the store has run an operation on it (then it came from the pool, not the opener).
  bool reused() const { return reused_; }
  void set_reused() { reused_ = true; }
  // Whether the session still has a live link to the server (a killed backend shows false).
  bool SessionAlive() const;

  // Runs a one-off statement (schema DDL), not kept.
  void ExecuteOnce(const std::string& sql);
  // Runs a one-off statement that returns one integer (one row, one column).
  int64_t QueryIntOnce(const std::string& sql);
  std::vector<std::string> ListColumns();

  // The hot statements: each engine's connection class runs them its own way.
  virtual void BeginWrite() = 0;
  virtual void Commit() = 0;
  virtual void Rollback() = 0;

  // Appends the claimed rows to *out, in no particular order.
  virtual void Claim(const std::string& owner_token, int64_t lease_ms, int limit,
                     std::vector<OutboxMessage>* out) = 0;

  // Each takes a JSON list parameter (see OutboxSql) and appends the ids it changed to *applied.
  virtual void MarkDispatched(const std::string& processed_by, const std::string& id_list,
                              const std::string& owner_token, std::vector<int64_t>* applied) = 0;
  virtual void Release(const std::string& id_list, const std::string& owner_token,
                       std::vector<int64_t>* applied) = 0;
  virtual void Reschedule(const std::string& reschedule_list, const std::string& owner_token,
                          std::vector<int64_t>* applied) = 0;
  virtual void Fail(const std::string& processed_by, const std::string& fail_list,
                    const std::string& owner_token, std::vector<int64_t>* applied) = 0;

  virtual int64_t RenewLease(const std::string& owner_token, int64_t lease_ms) = 0;
  virtual bool HasPendingWork() = 0;

  std::string Enqueue(const NewMessage& message);
  StoreStats CountByStatus();
  std::map<std::string, int64_t> CountReadyByTopic();  // run once, not kept (outboxctl only)
  StoreBacklog Backlog();
  int64_t Cleanup(int64_t retention_ms);
  std::optional<int64_t> OldestReadyAge();

  // Schema versions (OutboxSql::schema_probe and friends). Each runs one statement, not kept.
  struct SchemaProbe {
    bool table_exists = false;
    bool version_table_exists = false;
    bool claim_index_exists = false;
    int failed_index = 0;  // 0 missing, 1 INVALID leftover, 2 valid
    bool notify_trigger_exists = false;
  };
  SchemaProbe ProbeSchema();
  std::optional<int> ReadVersion();  // REQUIRES: the version table exists
  void WriteVersion(int version);

  // Operator statements (issue 11), run once each (not kept: operators call them rarely).
  // Optional filters are nullopt for "any".
  void ListFailed(const std::optional<std::string>& topic, std::optional<int64_t> within_ms,
                  int limit, std::vector<FailedMessage>* out);
  void FindByMessageId(const std::string& message_id, std::vector<StoredMessage>* out);
  // `message_ids_json`: a JSON array of strings, or nullopt for any.
  int64_t Replay(const std::optional<std::string>& topic,
                 const std::optional<std::string>& message_ids_json, bool dry_run);
  int64_t MaxId();
  int64_t PurgeBatch(const std::optional<std::string>& topic,
                     std::optional<int64_t> older_than_ms, int64_t max_id, int batch);
  int64_t CountPurge(const std::optional<std::string>& topic,
                     std::optional<int64_t> older_than_ms);

 protected:
  Poco::Data::Session& session() const { return *session_; }
  const OutboxSql& sql() const { return *sql_; }

  // Releases *statements into a process-wide list that is never freed (AbandonStatements).
  template <typename T>
  static void AbandonForever(std::unique_ptr<T>* statements) {
    static std::mutex mu;
    static auto* abandoned = new std::vector<T*>();  // never freed, on purpose
    std::lock_guard<std::mutex> lock(mu);
    abandoned->push_back(statements->release());
  }

 private:
  struct Statements;  // defined in the .cc: Poco statements and their bound variables

  std::unique_ptr<Poco::Data::Session> session_;
  const OutboxSql* sql_;
  std::unique_ptr<Statements> statements_;
  std::optional<std::string> identity_;
  bool reused_ = false;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_STORE_CONNECTION_H_
