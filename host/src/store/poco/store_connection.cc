#include "store/poco/store_connection.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>
#include <Poco/String.h>
#include <Poco/Types.h>
#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <utility>

namespace outboxd::poco_store {

namespace {

using Poco::Int64;
using Poco::Data::Session;
using Poco::Data::Statement;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::use;
using NullableText = Poco::Nullable<std::string>;
using NullableInt = Poco::Nullable<Int64>;

// Each statement struct binds its members by reference once; `stmt` is declared last so it is
// destroyed before the variables it refers to.

struct PlainStatement {  // BEGIN, COMMIT, ROLLBACK
  PlainStatement(Session& s, const std::string& sql) : stmt(s) { stmt << sql; }
  Statement stmt;
};

struct ClaimStatement {
  ClaimStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(owner_token), use(lease_ms), use(limit), into(id), into(message_id),
        into(topic), into(payload), into(correlation_id), into(created_at), into(due_at),
        into(attempts), into(last_error), into(next_attempt_at), into(payload_bytes);
  }
  std::string owner_token;
  Int64 lease_ms = 0;
  Int64 limit = 0;
  std::vector<Int64> id;
  std::vector<std::string> message_id;
  std::vector<std::string> topic;
  std::vector<std::string> payload;
  std::vector<NullableText> correlation_id;
  std::vector<Int64> created_at;
  std::vector<NullableInt> due_at;
  std::vector<Int64> attempts;
  std::vector<NullableText> last_error;
  std::vector<NullableInt> next_attempt_at;
  std::vector<Int64> payload_bytes;
  Statement stmt;
};

struct BacklogStatement {
  BacklogStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, into(ready_due), into(in_progress), into(failed), into(oldest_age_ms),
        into(latest_lease_left_ms);
  }
  std::vector<Int64> ready_due;
  std::vector<Int64> in_progress;
  std::vector<Int64> failed;
  std::vector<Int64> oldest_age_ms;
  std::vector<Int64> latest_lease_left_ms;
  Statement stmt;
};

struct MarkDispatchedStatement {
  MarkDispatchedStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(processed_by), use(id_list), use(owner_token), into(ids);
  }
  std::string processed_by;
  std::string id_list;
  std::string owner_token;
  std::vector<Int64> ids;
  Statement stmt;
};

struct ReleaseStatement {
  ReleaseStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(id_list), use(owner_token), into(ids);
  }
  std::string id_list;
  std::string owner_token;
  std::vector<Int64> ids;
  Statement stmt;
};

struct RescheduleStatement {
  RescheduleStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(reschedule_list), use(owner_token), into(ids);
  }
  std::string reschedule_list;
  std::string owner_token;
  std::vector<Int64> ids;
  Statement stmt;
};

struct FailStatement {
  FailStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(processed_by), use(fail_list), use(owner_token), into(ids);
  }
  std::string processed_by;
  std::string fail_list;
  std::string owner_token;
  std::vector<Int64> ids;
  Statement stmt;
};

struct RenewLeaseStatement {
  RenewLeaseStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(lease_ms), use(owner_token);
  }
  Int64 lease_ms = 0;
  std::string owner_token;
  Statement stmt;
};

struct EnqueueStatement {
  EnqueueStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(message_id), use(topic), use(payload), use(correlation_id), use(delay_ms),
        use(delay_ms), into(stored_message_id);
  }
  NullableText message_id;
  std::string topic;
  std::string payload;
  NullableText correlation_id;
  Int64 delay_ms = 0;
  std::vector<std::string> stored_message_id;
  Statement stmt;
};

struct CountByStatusStatement {
  CountByStatusStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, into(status), into(count);
  }
  std::vector<Int64> status;
  std::vector<Int64> count;
  Statement stmt;
};

struct HasPendingWorkStatement {
  HasPendingWorkStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, into(flag);
  }
  std::vector<Int64> flag;
  Statement stmt;
};

struct CleanupStatement {
  CleanupStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(retention_ms);
  }
  Int64 retention_ms = 0;
  Statement stmt;
};

// The SQLite fast path: one sqlite3_stmt per hot statement, prepared once (SQLITE_PREPARE_PERSISTENT)
// on the session's own sqlite3 handle and reset after each run. Poco 1.11's SQLite connector
// re-prepares the SQL text on every Statement::execute (sqlite3_prepare_v2: ~10% of outboxd's
// instructions in a SQLite burn-down) and copies every column through Nullable vectors; this path
// does neither. Errors throw the same Poco SQLite exception types (Utility::throwException), so
// SqliteDialect::TranslateException maps them as before.
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

template <typename T>
T& Prepared(std::unique_ptr<T>* slot, Session& session, const std::string& sql) {
  if (*slot == nullptr) *slot = std::make_unique<T>(session, sql);
  return **slot;
}

std::optional<std::string> FromNullable(const NullableText& value) {
  if (value.isNull()) return std::nullopt;
  return value.value();
}

}  // namespace

struct StoreConnection::Statements {
  std::unique_ptr<PlainStatement> begin_write;
  std::unique_ptr<PlainStatement> commit;
  std::unique_ptr<PlainStatement> rollback;
  std::unique_ptr<ClaimStatement> claim;
  std::unique_ptr<MarkDispatchedStatement> mark_dispatched;
  std::unique_ptr<ReleaseStatement> release;
  std::unique_ptr<RescheduleStatement> reschedule;
  std::unique_ptr<FailStatement> fail;
  std::unique_ptr<RenewLeaseStatement> renew_lease;
  std::unique_ptr<EnqueueStatement> enqueue;
  std::unique_ptr<CountByStatusStatement> count_by_status;
  std::unique_ptr<HasPendingWorkStatement> has_pending_work;
  std::unique_ptr<BacklogStatement> backlog;
  std::unique_ptr<CleanupStatement> cleanup;

  // SQLite sessions only (db != nullptr): the hot statements through the sqlite3 C API.
  sqlite3* db = nullptr;
  std::unique_ptr<NativeStatement> n_begin_write;
  std::unique_ptr<NativeStatement> n_commit;
  std::unique_ptr<NativeStatement> n_rollback;
  std::unique_ptr<NativeStatement> n_claim;
  std::unique_ptr<NativeStatement> n_mark_dispatched;
  std::unique_ptr<NativeStatement> n_release;
  std::unique_ptr<NativeStatement> n_reschedule;
  std::unique_ptr<NativeStatement> n_fail;
  std::unique_ptr<NativeStatement> n_renew_lease;
  std::unique_ptr<NativeStatement> n_has_pending_work;
};

StoreConnection::StoreConnection(std::unique_ptr<Poco::Data::Session> session,
                                 const OutboxSql* sql)
    : session_(std::move(session)), sql_(sql), statements_(std::make_unique<Statements>()) {
  if (Poco::icompare(session_->connector(), std::string("sqlite")) == 0) {
    statements_->db = Poco::Data::SQLite::Utility::dbHandle(*session_);
  }
}

StoreConnection::~StoreConnection() {
  statements_.reset();  // statements before the session they run on
}

bool StoreConnection::SessionAlive() const {
  try {
    return session_->isConnected();
  } catch (...) {
    return false;
  }
}

sqlite3* StoreConnection::sqlite_handle() const { return statements_ ? statements_->db : nullptr; }

void StoreConnection::AbandonStatements() {
  static std::mutex mu;
  static auto* abandoned = new std::vector<Statements*>();  // never freed, on purpose
  std::lock_guard<std::mutex> lock(mu);
  abandoned->push_back(statements_.release());
}

void StoreConnection::ExecuteOnce(const std::string& sql) {
  Statement stmt(*session_);
  stmt << sql;
  stmt.execute();
}

int64_t StoreConnection::QueryIntOnce(const std::string& sql) {
  Int64 value = 0;
  Statement stmt(*session_);
  stmt << sql, into(value);
  stmt.execute();
  return value;
}

std::vector<std::string> StoreConnection::ListColumns() {
  std::vector<std::string> names;
  Statement stmt(*session_);
  stmt << sql_->list_columns, into(names);
  stmt.execute();
  return names;
}

void StoreConnection::BeginWrite() {
  if (sqlite3* db = statements_->db) {
    NativePrepared(&statements_->n_begin_write, db, sql_->begin_write).Run();
    return;
  }
  Prepared(&statements_->begin_write, *session_, sql_->begin_write).stmt.execute();
}

void StoreConnection::Commit() {
  if (sqlite3* db = statements_->db) {
    NativePrepared(&statements_->n_commit, db, sql_->commit).Run();
    return;
  }
  Prepared(&statements_->commit, *session_, sql_->commit).stmt.execute();
}

void StoreConnection::Rollback() {
  if (sqlite3* db = statements_->db) {
    NativePrepared(&statements_->n_rollback, db, sql_->rollback).Run();
    return;
  }
  Prepared(&statements_->rollback, *session_, sql_->rollback).stmt.execute();
}

void StoreConnection::Claim(const std::string& owner_token, int64_t lease_ms, int limit,
                            std::vector<OutboxMessage>* out) {
  if (sqlite3* db = statements_->db) {
    NativeStatement& n = NativePrepared(&statements_->n_claim, db, sql_->claim);
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
    return;
  }
  ClaimStatement& s = Prepared(&statements_->claim, *session_, sql_->claim);
  s.owner_token = owner_token;
  s.lease_ms = lease_ms;
  s.limit = limit;
  s.id.clear();
  s.message_id.clear();
  s.topic.clear();
  s.payload.clear();
  s.correlation_id.clear();
  s.created_at.clear();
  s.due_at.clear();
  s.attempts.clear();
  s.last_error.clear();
  s.next_attempt_at.clear();
  s.payload_bytes.clear();
  s.stmt.execute();
  for (size_t i = 0; i < s.id.size(); ++i) {
    OutboxMessage m;
    m.id = s.id[i];
    m.message_id = std::move(s.message_id[i]);
    m.topic = std::move(s.topic[i]);
    m.payload = std::move(s.payload[i]);
    m.correlation_id = FromNullable(s.correlation_id[i]);
    m.created_at_ms = s.created_at[i];
    if (!s.due_at[i].isNull()) m.due_at_ms = s.due_at[i].value();
    m.attempts = static_cast<int32_t>(s.attempts[i]);
    m.last_error = FromNullable(s.last_error[i]);
    if (!s.next_attempt_at[i].isNull()) m.next_attempt_at_ms = s.next_attempt_at[i].value();
    m.payload_bytes = s.payload_bytes[i];
    out->push_back(std::move(m));
  }
}

void StoreConnection::MarkDispatched(const std::string& processed_by, const std::string& id_list,
                                     const std::string& owner_token,
                                     std::vector<int64_t>* applied) {
  if (sqlite3* db = statements_->db) {
    NativeStatement& n = NativePrepared(&statements_->n_mark_dispatched, db, sql_->mark_dispatched);
    n.Bind(1, processed_by);
    n.Bind(2, id_list);
    n.Bind(3, owner_token);
    n.RunCollectingIds(applied);
    return;
  }
  MarkDispatchedStatement& s =
      Prepared(&statements_->mark_dispatched, *session_, sql_->mark_dispatched);
  s.processed_by = processed_by;
  s.id_list = id_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

void StoreConnection::Release(const std::string& id_list, const std::string& owner_token,
                              std::vector<int64_t>* applied) {
  if (sqlite3* db = statements_->db) {
    NativeStatement& n = NativePrepared(&statements_->n_release, db, sql_->release);
    n.Bind(1, id_list);
    n.Bind(2, owner_token);
    n.RunCollectingIds(applied);
    return;
  }
  ReleaseStatement& s = Prepared(&statements_->release, *session_, sql_->release);
  s.id_list = id_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

void StoreConnection::Reschedule(const std::string& reschedule_list,
                                 const std::string& owner_token, std::vector<int64_t>* applied) {
  if (sqlite3* db = statements_->db) {
    NativeStatement& n = NativePrepared(&statements_->n_reschedule, db, sql_->reschedule);
    n.Bind(1, reschedule_list);
    n.Bind(2, owner_token);
    n.RunCollectingIds(applied);
    return;
  }
  RescheduleStatement& s = Prepared(&statements_->reschedule, *session_, sql_->reschedule);
  s.reschedule_list = reschedule_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

void StoreConnection::Fail(const std::string& processed_by, const std::string& fail_list,
                           const std::string& owner_token, std::vector<int64_t>* applied) {
  if (sqlite3* db = statements_->db) {
    NativeStatement& n = NativePrepared(&statements_->n_fail, db, sql_->fail);
    n.Bind(1, processed_by);
    n.Bind(2, fail_list);
    n.Bind(3, owner_token);
    n.RunCollectingIds(applied);
    return;
  }
  FailStatement& s = Prepared(&statements_->fail, *session_, sql_->fail);
  s.processed_by = processed_by;
  s.fail_list = fail_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

int64_t StoreConnection::RenewLease(const std::string& owner_token, int64_t lease_ms) {
  if (sqlite3* db = statements_->db) {
    NativeStatement& n = NativePrepared(&statements_->n_renew_lease, db, sql_->renew_lease);
    n.Bind(1, lease_ms);
    n.Bind(2, owner_token);
    while (n.Step()) {
    }
    return n.Done();
  }
  RenewLeaseStatement& s = Prepared(&statements_->renew_lease, *session_, sql_->renew_lease);
  s.lease_ms = lease_ms;
  s.owner_token = owner_token;
  return static_cast<int64_t>(s.stmt.execute());
}

std::string StoreConnection::Enqueue(const NewMessage& message) {
  EnqueueStatement& s = Prepared(&statements_->enqueue, *session_, sql_->enqueue);
  if (message.message_id.has_value() && !message.message_id->empty()) {
    s.message_id = *message.message_id;
  } else {
    s.message_id.clear();
  }
  s.topic = message.topic;
  s.payload = message.payload;
  if (message.correlation_id.has_value()) {
    s.correlation_id = *message.correlation_id;
  } else {
    s.correlation_id.clear();
  }
  s.delay_ms = message.delay.count();
  s.stored_message_id.clear();
  s.stmt.execute();
  if (s.stored_message_id.size() != 1) {
    throw Poco::Data::DataException("insert returned " +
                                    std::to_string(s.stored_message_id.size()) + " rows");
  }
  return s.stored_message_id.front();
}

StoreStats StoreConnection::CountByStatus() {
  CountByStatusStatement& s =
      Prepared(&statements_->count_by_status, *session_, sql_->count_by_status);
  s.status.clear();
  s.count.clear();
  s.stmt.execute();
  StoreStats stats;
  for (size_t i = 0; i < s.status.size(); ++i) {
    switch (static_cast<MessageStatus>(s.status[i])) {
      case MessageStatus::kReady: stats.ready = s.count[i]; break;
      case MessageStatus::kInProgress: stats.in_progress = s.count[i]; break;
      case MessageStatus::kDone: stats.done = s.count[i]; break;
      case MessageStatus::kFailed: stats.failed = s.count[i]; break;
    }
  }
  return stats;
}

bool StoreConnection::HasPendingWork() {
  if (sqlite3* db = statements_->db) {
    NativeStatement& n = NativePrepared(&statements_->n_has_pending_work, db, sql_->has_pending_work);
    bool pending = false;
    while (n.Step()) pending = pending || n.Int(0) != 0;
    n.Done();
    return pending;
  }
  HasPendingWorkStatement& s =
      Prepared(&statements_->has_pending_work, *session_, sql_->has_pending_work);
  s.flag.clear();
  s.stmt.execute();
  return !s.flag.empty() && s.flag.front() != 0;
}

StoreBacklog StoreConnection::Backlog() {
  BacklogStatement& s = Prepared(&statements_->backlog, *session_, sql_->backlog);
  s.ready_due.clear();
  s.in_progress.clear();
  s.failed.clear();
  s.oldest_age_ms.clear();
  s.latest_lease_left_ms.clear();
  s.stmt.execute();
  if (s.ready_due.size() != 1) {
    throw Poco::Data::DataException("backlog query returned " +
                                    std::to_string(s.ready_due.size()) + " rows");
  }
  StoreBacklog backlog;
  backlog.ready_due = s.ready_due[0];
  backlog.in_progress = s.in_progress[0];
  backlog.failed = s.failed[0];
  backlog.oldest_ready_age_ms = std::max<int64_t>(0, s.oldest_age_ms[0]);
  backlog.latest_lease_left_ms = s.latest_lease_left_ms[0];
  return backlog;
}

int64_t StoreConnection::Cleanup(int64_t retention_ms) {
  CleanupStatement& s = Prepared(&statements_->cleanup, *session_, sql_->cleanup);
  s.retention_ms = retention_ms;
  return static_cast<int64_t>(s.stmt.execute());
}

namespace {

NullableText ToNullable(const std::optional<std::string>& value) {
  return value ? NullableText(*value) : NullableText();
}

NullableInt ToNullable(std::optional<int64_t> value) {
  return value ? NullableInt(static_cast<Int64>(*value)) : NullableInt();
}

std::optional<int64_t> FromNullable(const NullableInt& value) {
  if (value.isNull()) return std::nullopt;
  return static_cast<int64_t>(value.value());
}

}  // namespace

std::map<std::string, int64_t> StoreConnection::CountReadyByTopic() {
  std::vector<std::string> topic;
  std::vector<Int64> count;
  Statement stmt(*session_);
  stmt << sql_->count_ready_by_topic, into(topic), into(count);
  stmt.execute();
  std::map<std::string, int64_t> counts;
  for (size_t i = 0; i < topic.size() && i < count.size(); ++i) counts[topic[i]] = count[i];
  return counts;
}

std::optional<int64_t> StoreConnection::OldestReadyAge() {
  std::vector<Int64> age;
  Statement stmt(*session_);
  stmt << sql_->oldest_ready_age, into(age);
  stmt.execute();
  if (age.empty()) return std::nullopt;
  return static_cast<int64_t>(age.front());
}

StoreConnection::SchemaProbe StoreConnection::ProbeSchema() {
  Int64 table = 0, versions = 0, claim = 0, failed = 0, trigger = 0;
  Statement stmt(*session_);
  stmt << sql_->schema_probe, into(table), into(versions), into(claim), into(failed),
      into(trigger);
  stmt.execute();
  SchemaProbe probe;
  probe.table_exists = table != 0;
  probe.version_table_exists = versions != 0;
  probe.claim_index_exists = claim != 0;
  probe.failed_index = static_cast<int>(failed);
  probe.notify_trigger_exists = trigger != 0;
  return probe;
}

std::optional<int> StoreConnection::ReadVersion() {
  std::vector<Int64> version;
  Statement stmt(*session_);
  stmt << sql_->read_version, into(version);
  stmt.execute();
  if (version.empty()) return std::nullopt;
  return static_cast<int>(version.front());
}

void StoreConnection::WriteVersion(int version) {
  Int64 value = version;
  Statement stmt(*session_);
  stmt << sql_->write_version, use(value);
  stmt.execute();
}

void StoreConnection::ListFailed(const std::optional<std::string>& topic,
                                 std::optional<int64_t> within_ms, int limit,
                                 std::vector<FailedMessage>* out) {
  NullableText topic1 = ToNullable(topic), topic2 = ToNullable(topic);
  NullableInt within1 = ToNullable(within_ms), within2 = ToNullable(within_ms);
  Int64 max_rows = limit;
  std::vector<Int64> id, attempts, processed_at, created_at;
  std::vector<std::string> message_id, topic_out;
  std::vector<NullableText> last_error;
  Statement stmt(*session_);
  stmt << sql_->list_failed, use(topic1), use(topic2), use(within1), use(within2), use(max_rows),
      into(id), into(message_id), into(topic_out), into(attempts), into(processed_at),
      into(last_error), into(created_at);
  stmt.execute();
  for (size_t i = 0; i < id.size(); ++i) {
    FailedMessage m;
    m.id = id[i];
    m.message_id = std::move(message_id[i]);
    m.topic = std::move(topic_out[i]);
    m.attempts = static_cast<int32_t>(attempts[i]);
    m.processed_at_ms = processed_at[i];
    m.last_error = FromNullable(last_error[i]);
    m.created_at_ms = created_at[i];
    out->push_back(std::move(m));
  }
}

void StoreConnection::FindByMessageId(const std::string& message_id,
                                      std::vector<StoredMessage>* out) {
  std::string key = message_id;
  std::vector<Int64> id, created_at, status, attempts, replay_count;
  std::vector<std::string> message_ids, topic, payload;
  std::vector<NullableText> correlation_id, owner_token, processed_by, last_error;
  std::vector<NullableInt> due_at, next_attempt_at, locked_until, processed_at, replayed_at;
  Statement stmt(*session_);
  stmt << sql_->find_by_message_id, use(key), into(id), into(message_ids), into(topic),
      into(payload), into(correlation_id), into(created_at), into(due_at), into(status),
      into(attempts), into(next_attempt_at), into(locked_until), into(owner_token),
      into(processed_at), into(processed_by), into(last_error), into(replay_count),
      into(replayed_at);
  stmt.execute();
  for (size_t i = 0; i < id.size(); ++i) {
    StoredMessage m;
    m.id = id[i];
    m.message_id = std::move(message_ids[i]);
    m.topic = std::move(topic[i]);
    m.payload = std::move(payload[i]);
    m.correlation_id = FromNullable(correlation_id[i]);
    m.created_at_ms = created_at[i];
    m.due_at_ms = FromNullable(due_at[i]);
    m.status = static_cast<MessageStatus>(status[i]);
    m.attempts = static_cast<int32_t>(attempts[i]);
    m.next_attempt_at_ms = FromNullable(next_attempt_at[i]);
    m.locked_until_ms = FromNullable(locked_until[i]);
    m.owner_token = FromNullable(owner_token[i]);
    m.processed_at_ms = FromNullable(processed_at[i]);
    m.processed_by = FromNullable(processed_by[i]);
    m.last_error = FromNullable(last_error[i]);
    m.replay_count = static_cast<int32_t>(replay_count[i]);
    m.replayed_at_ms = FromNullable(replayed_at[i]);
    out->push_back(std::move(m));
  }
}

int64_t StoreConnection::Replay(const std::optional<std::string>& topic,
                                const std::optional<std::string>& message_ids_json, bool dry_run) {
  NullableText topic1 = ToNullable(topic), topic2 = ToNullable(topic);
  NullableText ids1 = ToNullable(message_ids_json), ids2 = ToNullable(message_ids_json);
  Statement stmt(*session_);
  if (dry_run) {
    Int64 count = 0;
    stmt << sql_->count_replay, use(topic1), use(topic2), use(ids1), use(ids2), into(count);
    stmt.execute();
    return count;
  }
  stmt << sql_->replay, use(topic1), use(topic2), use(ids1), use(ids2);
  return static_cast<int64_t>(stmt.execute());
}

int64_t StoreConnection::MaxId() {
  Int64 max_id = 0;
  Statement stmt(*session_);
  stmt << sql_->max_id, into(max_id);
  stmt.execute();
  return max_id;
}

int64_t StoreConnection::PurgeBatch(const std::optional<std::string>& topic,
                                    std::optional<int64_t> older_than_ms, int64_t max_id,
                                    int batch) {
  NullableText topic1 = ToNullable(topic), topic2 = ToNullable(topic);
  NullableInt older1 = ToNullable(older_than_ms), older2 = ToNullable(older_than_ms);
  Int64 last_id = max_id;
  Int64 limit = batch;
  Statement stmt(*session_);
  stmt << sql_->purge_batch, use(topic1), use(topic2), use(older1), use(older2), use(last_id),
      use(limit);
  return static_cast<int64_t>(stmt.execute());
}

int64_t StoreConnection::CountPurge(const std::optional<std::string>& topic,
                                    std::optional<int64_t> older_than_ms) {
  NullableText topic1 = ToNullable(topic), topic2 = ToNullable(topic);
  NullableInt older1 = ToNullable(older_than_ms), older2 = ToNullable(older_than_ms);
  Int64 count = 0;
  Statement stmt(*session_);
  stmt << sql_->count_purge, use(topic1), use(topic2), use(older1), use(older2), into(count);
  stmt.execute();
  return count;
}

}  // namespace outboxd::poco_store
