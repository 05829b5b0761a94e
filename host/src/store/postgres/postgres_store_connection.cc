#include "store/postgres/postgres_store_connection.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Types.h>

#include <utility>

#include "store/sql/poco_statements.h"

namespace outboxd::sql_store {

namespace {

using Poco::Int64;
using Poco::Data::Session;
using Poco::Data::Statement;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::use;

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

struct HasPendingWorkStatement {
  HasPendingWorkStatement(Session& s, const std::string& sql) : stmt(s) { stmt << sql, into(flag); }
  std::vector<Int64> flag;
  Statement stmt;
};

}  // namespace

struct PostgresStoreConnection::HotStatements {
  std::unique_ptr<PlainStatement> begin_write;
  std::unique_ptr<PlainStatement> commit;
  std::unique_ptr<PlainStatement> rollback;
  std::unique_ptr<ClaimStatement> claim;
  std::unique_ptr<MarkDispatchedStatement> mark_dispatched;
  std::unique_ptr<ReleaseStatement> release;
  std::unique_ptr<RescheduleStatement> reschedule;
  std::unique_ptr<FailStatement> fail;
  std::unique_ptr<RenewLeaseStatement> renew_lease;
  std::unique_ptr<HasPendingWorkStatement> has_pending_work;
};

PostgresStoreConnection::PostgresStoreConnection(std::unique_ptr<Poco::Data::Session> session,
                                                 const OutboxSql* sql)
    : StoreConnection(std::move(session), sql), hot_(std::make_unique<HotStatements>()) {}

// The session is closed first: Poco's PostgreSQL statements DEALLOCATE themselves on the server when
// destroyed while it is connected (one round trip each, about ten thousand when 1,000 tenants'
// connections close at shutdown); the server drops them with the session anyway. Then the
// statements (hot_, then the base class's), then the session object.
PostgresStoreConnection::~PostgresStoreConnection() {
  try {
    session().close();
  } catch (...) {
    // Closing a broken session may throw; the statements then skip their DEALLOCATE as well.
  }
}

void PostgresStoreConnection::AbandonStatements() {
  AbandonForever(&hot_);
  StoreConnection::AbandonStatements();
}

void PostgresStoreConnection::BeginWrite() {
  Prepared(&hot_->begin_write, session(), sql().begin_write).stmt.execute();
}

void PostgresStoreConnection::Commit() {
  Prepared(&hot_->commit, session(), sql().commit).stmt.execute();
}

void PostgresStoreConnection::Rollback() {
  Prepared(&hot_->rollback, session(), sql().rollback).stmt.execute();
}

void PostgresStoreConnection::Claim(const std::string& owner_token, int64_t lease_ms, int limit,
                                    std::vector<OutboxMessage>* out) {
  ClaimStatement& s = Prepared(&hot_->claim, session(), sql().claim);
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

void PostgresStoreConnection::MarkDispatched(const std::string& processed_by,
                                             const std::string& id_list,
                                             const std::string& owner_token,
                                             std::vector<int64_t>* applied) {
  MarkDispatchedStatement& s = Prepared(&hot_->mark_dispatched, session(), sql().mark_dispatched);
  s.processed_by = processed_by;
  s.id_list = id_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

void PostgresStoreConnection::Release(const std::string& id_list, const std::string& owner_token,
                                      std::vector<int64_t>* applied) {
  ReleaseStatement& s = Prepared(&hot_->release, session(), sql().release);
  s.id_list = id_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

void PostgresStoreConnection::Reschedule(const std::string& reschedule_list,
                                         const std::string& owner_token,
                                         std::vector<int64_t>* applied) {
  RescheduleStatement& s = Prepared(&hot_->reschedule, session(), sql().reschedule);
  s.reschedule_list = reschedule_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

void PostgresStoreConnection::Fail(const std::string& processed_by, const std::string& fail_list,
                                   const std::string& owner_token, std::vector<int64_t>* applied) {
  FailStatement& s = Prepared(&hot_->fail, session(), sql().fail);
  s.processed_by = processed_by;
  s.fail_list = fail_list;
  s.owner_token = owner_token;
  s.ids.clear();
  s.stmt.execute();
  applied->insert(applied->end(), s.ids.begin(), s.ids.end());
}

int64_t PostgresStoreConnection::RenewLease(const std::string& owner_token, int64_t lease_ms) {
  RenewLeaseStatement& s = Prepared(&hot_->renew_lease, session(), sql().renew_lease);
  s.lease_ms = lease_ms;
  s.owner_token = owner_token;
  return static_cast<int64_t>(s.stmt.execute());
}

bool PostgresStoreConnection::HasPendingWork() {
  HasPendingWorkStatement& s = Prepared(&hot_->has_pending_work, session(), sql().has_pending_work);
  s.flag.clear();
  s.stmt.execute();
  return !s.flag.empty() && s.flag.front() != 0;
}

}  // namespace outboxd::sql_store
