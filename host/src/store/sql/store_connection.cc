#include "store/sql/store_connection.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Types.h>

#include <algorithm>
#include <utility>

#include "store/sql/poco_statements.h"

namespace outboxd::sql_store {

namespace {

using Poco::Int64;
using Poco::Data::Session;
using Poco::Data::Statement;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::use;

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


struct CleanupStatement {
  CleanupStatement(Session& s, const std::string& sql) : stmt(s) {
    stmt << sql, use(retention_ms);
  }
  Int64 retention_ms = 0;
  Statement stmt;
};


}  // namespace

struct StoreConnection::Statements {
  std::unique_ptr<EnqueueStatement> enqueue;
  std::unique_ptr<CountByStatusStatement> count_by_status;
  std::unique_ptr<BacklogStatement> backlog;
  std::unique_ptr<CleanupStatement> cleanup;
};

StoreConnection::StoreConnection(std::unique_ptr<Poco::Data::Session> session,
                                 const OutboxSql* sql)
    : session_(std::move(session)), sql_(sql), statements_(std::make_unique<Statements>()) {}

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

void StoreConnection::AbandonStatements() { AbandonForever(&statements_); }

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

}  // namespace outboxd::sql_store
