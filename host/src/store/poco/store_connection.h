// StoreConnection: one Poco session on a tenant database plus the store's statements, each built
// once on first use with its parameters bound to member variables and re-executed after that.
// (Poco 1.11's SQLite connector still re-prepares the SQL text on every execution; building the
// Statement once saves the binding and parsing work on our side.)
//
// Every method runs one statement and throws Poco::Exception on any database error: the store
// catches at its edge, converts to Status and discards the connection.
//
// OWNERSHIP: owns its session and statements; `sql` is borrowed and must outlive the connection.
// THREADING: confined to one thread at a time (the pool lends it to one caller).
#ifndef OUTBOXD_STORE_POCO_STORE_CONNECTION_H_
#define OUTBOXD_STORE_POCO_STORE_CONNECTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/outbox_message.h"
#include "store/poco/sql_dialect.h"

struct sqlite3;

namespace outboxd::poco_store {

class StoreConnection {
 public:
  StoreConnection(std::unique_ptr<Poco::Data::Session> session, const OutboxSql* sql);
  ~StoreConnection();

  // Forgets the prepared statements without destroying them (they stay allocated, reachable from
  // a process-wide list). For a connection that failed on PostgreSQL: Poco 1.11's
  // PostgreSQL StatementExecutor keeps a dangling PGresult after a failed execute and frees it again
  // in its destructor (a double free). Costs a few KB per failed connection.
  void AbandonStatements();
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
  // The sqlite3 handle of an SQLite session, null otherwise.
  sqlite3* sqlite_handle() const;

  // Runs a one-off statement (schema DDL), not kept.
  void ExecuteOnce(const std::string& sql);
  // Runs a one-off statement that returns one integer (one row, one column).
  int64_t QueryIntOnce(const std::string& sql);
  std::vector<std::string> ListColumns();

  void BeginWrite();
  void Commit();
  void Rollback();

  // Appends the claimed rows to *out, in no particular order.
  void Claim(const std::string& owner_token, int64_t lease_ms, int limit,
             std::vector<OutboxMessage>* out);

  // Each takes a JSON list parameter (see OutboxSql) and appends the ids it changed to *applied.
  void MarkDispatched(const std::string& processed_by, const std::string& id_list,
                      const std::string& owner_token, std::vector<int64_t>* applied);
  void Release(const std::string& id_list, const std::string& owner_token,
               std::vector<int64_t>* applied);
  void Reschedule(const std::string& reschedule_list, const std::string& owner_token,
                  std::vector<int64_t>* applied);
  void Fail(const std::string& processed_by, const std::string& fail_list,
            const std::string& owner_token, std::vector<int64_t>* applied);

  int64_t RenewLease(const std::string& owner_token, int64_t lease_ms);
  std::string Enqueue(const NewMessage& message);
  StoreStats CountByStatus();
  std::map<std::string, int64_t> CountReadyByTopic();  // run once, not kept (outboxctl only)
  bool HasPendingWork();
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

 private:
  struct Statements;  // defined in the .cc: Poco statements and their bound variables

  std::unique_ptr<Poco::Data::Session> session_;
  const OutboxSql* sql_;
  std::unique_ptr<Statements> statements_;
  std::optional<std::string> identity_;
  bool reused_ = false;
};

}  // namespace outboxd::poco_store

#endif  // OUTBOXD_STORE_POCO_STORE_CONNECTION_H_
