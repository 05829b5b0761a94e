// SqliteStoreConnection: a StoreConnection on an SQLite session whose hot statements (BEGIN,
// COMMIT, ROLLBACK, claim, the four outcomes, lease renewal, the pending-work check) run through
// the sqlite3 C API on the session's own handle, each prepared once (SQLITE_PREPARE_PERSISTENT) and
// reset after each run. Poco 1.11's SQLite connector re-prepares the SQL text on every
// Statement::execute (sqlite3_prepare_v2: ~10% of outboxd's instructions in a SQLite burn-down) and
// copies every column through Nullable vectors; this path does neither (docs/store.md, "Code
// layout"). Errors throw the same Poco SQLite exception types (Utility::throwException), so
// SqliteDialect::TranslateException maps them as before. The other statements run through Poco
// (StoreConnection).
//
// Each connection installs the store's SqliteWriteGate as its busy handler.
//
// OWNERSHIP: as StoreConnection; `gate` is borrowed and must outlive the connection.
// THREADING: as StoreConnection (one thread at a time).
#ifndef OUTBOXD_STORE_SQLITE_SQLITE_STORE_CONNECTION_H_
#define OUTBOXD_STORE_SQLITE_SQLITE_STORE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/sql/store_connection.h"
#include "store/sqlite/sqlite_write_gate.h"

struct sqlite3;

namespace outboxd::sql_store {

class SqliteStoreConnection final : public StoreConnection {
 public:
  // REQUIRES: `session` is an SQLite session.
  SqliteStoreConnection(std::unique_ptr<Poco::Data::Session> session, const OutboxSql* sql,
                        SqliteWriteGate* gate);
  ~SqliteStoreConnection() override;

  void BeginWrite() override;
  void Commit() override;
  void Rollback() override;
  void Claim(const std::string& owner_token, int64_t lease_ms, int limit,
             std::vector<OutboxMessage>* out) override;
  void MarkDispatched(const std::string& processed_by, const std::string& id_list,
                      const std::string& owner_token, std::vector<int64_t>* applied) override;
  void Release(const std::string& id_list, const std::string& owner_token,
               std::vector<int64_t>* applied) override;
  void Reschedule(const std::string& reschedule_list, const std::string& owner_token,
                  std::vector<int64_t>* applied) override;
  void Fail(const std::string& processed_by, const std::string& fail_list,
            const std::string& owner_token, std::vector<int64_t>* applied) override;
  int64_t RenewLease(const std::string& owner_token, int64_t lease_ms) override;
  bool HasPendingWork() override;

 private:
  struct NativeStatements;  // defined in the .cc: one sqlite3_stmt per hot statement

  sqlite3* const db_;
  std::unique_ptr<NativeStatements> native_;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQLITE_SQLITE_STORE_CONNECTION_H_
