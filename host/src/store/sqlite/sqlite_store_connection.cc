#include "store/sqlite/sqlite_store_connection.h"

#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <sqlite3.h>

#include <utility>

namespace outboxd::sql_store {

namespace {

// One prepared sqlite3_stmt on the connection's handle (see the header).
class NativeStatement {
 public:
  NativeStatement(sqlite3* db, const std::string& sql) : db_(db) {
    const int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
      Poco::Data::SQLite::Utility::throwException(db, rc);
    }
  }
  ~NativeStatement() { sqlite3_finalize(stmt_); }
  NativeStatement(const NativeStatement&) = delete;
  NativeStatement& operator=(const NativeStatement&) = delete;

  // The bound strings must stay alive until Done() (SQLITE_STATIC: no copy).
  void Bind(int index, const std::string& value) {
    Check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                            SQLITE_STATIC));
  }
  void Bind(int index, int64_t value) { Check(sqlite3_bind_int64(stmt_, index, value)); }

  // True while a row is available; false once done. Throws (after a reset) on an error.
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    Poco::Data::SQLite::Utility::throwException(db_, rc);
    return false;
  }
  // Resets for the next run; returns the rows changed by this run.
  int64_t Done() {
    const int64_t changed = sqlite3_changes64(db_);
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return changed;
  }
  void Run() {
    while (Step()) {
    }
    Done();
  }
  // Runs to the end, appending column 0 of every row (RETURNING id).
  void RunCollectingIds(std::vector<int64_t>* ids) {
    while (Step()) ids->push_back(sqlite3_column_int64(stmt_, 0));
    Done();
  }

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(size));
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      Poco::Data::SQLite::Utility::throwException(db_, rc);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

NativeStatement& NativePrepared(std::unique_ptr<NativeStatement>* slot, sqlite3* db,
                                const std::string& sql) {
  if (*slot == nullptr) *slot = std::make_unique<NativeStatement>(db, sql);
  return **slot;
}

}  // namespace

struct SqliteStoreConnection::NativeStatements {
  std::unique_ptr<NativeStatement> begin_write;
  std::unique_ptr<NativeStatement> commit;
  std::unique_ptr<NativeStatement> rollback;
  std::unique_ptr<NativeStatement> claim;
  std::unique_ptr<NativeStatement> mark_dispatched;
  std::unique_ptr<NativeStatement> release;
  std::unique_ptr<NativeStatement> reschedule;
  std::unique_ptr<NativeStatement> fail;
  std::unique_ptr<NativeStatement> renew_lease;
  std::unique_ptr<NativeStatement> has_pending_work;
};

SqliteStoreConnection::SqliteStoreConnection(std::unique_ptr<Poco::Data::Session> session,
                                             const OutboxSql* sql, SqliteWriteGate* gate)
    : StoreConnection(std::move(session), sql),
      db_(Poco::Data::SQLite::Utility::dbHandle(this->session())),
      native_(std::make_unique<NativeStatements>()) {
  gate->Install(db_);
}

SqliteStoreConnection::~SqliteStoreConnection() = default;  // statements before the session

void SqliteStoreConnection::BeginWrite() {
  NativePrepared(&native_->begin_write, db_, sql().begin_write).Run();
}

void SqliteStoreConnection::Commit() { NativePrepared(&native_->commit, db_, sql().commit).Run(); }

void SqliteStoreConnection::Rollback() {
  NativePrepared(&native_->rollback, db_, sql().rollback).Run();
}

void SqliteStoreConnection::Claim(const std::string& owner_token, int64_t lease_ms, int limit,
                                  std::vector<OutboxMessage>* out) {
  NativeStatement& n = NativePrepared(&native_->claim, db_, sql().claim);
  n.Bind(1, owner_token);
  n.Bind(2, lease_ms);
  n.Bind(3, static_cast<int64_t>(limit));
  while (n.Step()) {
    OutboxMessage m;
    m.id = n.Int(0);
    m.message_id = n.Text(1);
    m.topic = n.Text(2);
    m.payload = n.Text(3);
    if (!n.IsNull(4)) m.correlation_id = n.Text(4);
    m.created_at_ms = n.Int(5);
    if (!n.IsNull(6)) m.due_at_ms = n.Int(6);
    m.attempts = static_cast<int32_t>(n.Int(7));
    if (!n.IsNull(8)) m.last_error = n.Text(8);
    if (!n.IsNull(9)) m.next_attempt_at_ms = n.Int(9);
    m.payload_bytes = n.Int(10);
    out->push_back(std::move(m));
  }
  n.Done();
}

void SqliteStoreConnection::MarkDispatched(const std::string& processed_by,
                                           const std::string& id_list,
                                           const std::string& owner_token,
                                           std::vector<int64_t>* applied) {
  NativeStatement& n = NativePrepared(&native_->mark_dispatched, db_, sql().mark_dispatched);
  n.Bind(1, processed_by);
  n.Bind(2, id_list);
  n.Bind(3, owner_token);
  n.RunCollectingIds(applied);
}

void SqliteStoreConnection::Release(const std::string& id_list, const std::string& owner_token,
                                    std::vector<int64_t>* applied) {
  NativeStatement& n = NativePrepared(&native_->release, db_, sql().release);
  n.Bind(1, id_list);
  n.Bind(2, owner_token);
  n.RunCollectingIds(applied);
}

void SqliteStoreConnection::Reschedule(const std::string& reschedule_list,
                                       const std::string& owner_token,
                                       std::vector<int64_t>* applied) {
  NativeStatement& n = NativePrepared(&native_->reschedule, db_, sql().reschedule);
  n.Bind(1, reschedule_list);
  n.Bind(2, owner_token);
  n.RunCollectingIds(applied);
}

void SqliteStoreConnection::Fail(const std::string& processed_by, const std::string& fail_list,
                                 const std::string& owner_token, std::vector<int64_t>* applied) {
  NativeStatement& n = NativePrepared(&native_->fail, db_, sql().fail);
  n.Bind(1, processed_by);
  n.Bind(2, fail_list);
  n.Bind(3, owner_token);
  n.RunCollectingIds(applied);
}

int64_t SqliteStoreConnection::RenewLease(const std::string& owner_token, int64_t lease_ms) {
  NativeStatement& n = NativePrepared(&native_->renew_lease, db_, sql().renew_lease);
  n.Bind(1, lease_ms);
  n.Bind(2, owner_token);
  while (n.Step()) {
  }
  return n.Done();
}

bool SqliteStoreConnection::HasPendingWork() {
  NativeStatement& n = NativePrepared(&native_->has_pending_work, db_, sql().has_pending_work);
  bool pending = false;
  while (n.Step()) pending = pending || n.Int(0) != 0;
  n.Done();
  return pending;
}

}  // namespace outboxd::sql_store
