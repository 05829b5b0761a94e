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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/outbox_message.h"
#include "store/poco/sql_dialect.h"

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

  // Runs a one-off statement (schema DDL), not kept.
  void ExecuteOnce(const std::string& sql);
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
  bool HasPendingWork();
  StoreBacklog Backlog();
  int64_t Cleanup(int64_t retention_ms);

 private:
  struct Statements;  // defined in the .cc: Poco statements and their bound variables

  std::unique_ptr<Poco::Data::Session> session_;
  const OutboxSql* sql_;
  std::unique_ptr<Statements> statements_;
};

}  // namespace outboxd::poco_store

#endif  // OUTBOXD_STORE_POCO_STORE_CONNECTION_H_
