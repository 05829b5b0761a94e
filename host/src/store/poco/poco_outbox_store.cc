#include "store/poco/poco_outbox_store.h"

#include <Poco/Data/Session.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "store/poco/poco_error.h"

namespace outboxd::poco_store {

namespace {

// Tables whose schema this process has deployed: "<database key>\n<schema>.<table>". A store that is
// re-created (changed connection string) or a second store on the same table skips the work.
class DeployedSchemas {
 public:
  bool Contains(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return keys_.count(key) > 0;
  }
  void Add(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    keys_.insert(key);
  }
  void Remove(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    keys_.erase(key);
  }

 private:
  std::mutex mu_;
  std::unordered_set<std::string> keys_;
};

DeployedSchemas& ProcessDeployedSchemas() {
  static DeployedSchemas* schemas = new DeployedSchemas();  // never destroyed: used at exit
  return *schemas;
}


Status WithMessage(Status::Code code, std::string message) {
  switch (code) {
    case Status::Code::kOk: return Status::OK();
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Status::Code::kNotFound: return Status::NotFound(std::move(message));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Status::Code::kIoError: return Status::IoError(std::move(message));
    case Status::Code::kInternal: return Status::Internal(std::move(message));
    case Status::Code::kNotSupported: return Status::NotSupported(std::move(message));
  }
  return Status::Internal(std::move(message));
}

void ReplaceAll(std::string* text, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return;
  for (size_t pos = text->find(from); pos != std::string::npos;
       pos = text->find(from, pos + to.size())) {
    text->replace(pos, from.size(), to);
  }
}

// Best effort: the connection is discarded after an error anyway, which also rolls back.
void RollbackQuietly(StoreConnection& connection) {
  try {
    connection.Rollback();
  } catch (...) {
  }
}

// The required columns absent from `columns`, comma-separated ("" when none is missing).
std::string MissingColumns(const std::vector<std::string>& columns) {
  std::string missing;
  for (const std::string& required : RequiredOutboxColumns()) {
    if (std::find(columns.begin(), columns.end(), required) != columns.end()) continue;
    missing += (missing.empty() ? "" : ", ") + required;
  }
  return missing;
}

// Compact JSON; invalid UTF-8 in error texts becomes U+FFFD instead of failing the batch.
std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool OlderFirst(const OutboxMessage& a, const OutboxMessage& b) {
  return std::tie(a.created_at_ms, a.id) < std::tie(b.created_at_ms, b.id);
}

}  // namespace

Status PocoOutboxStore::Create(const StoreLocation& location, const StoreOptions& options,
                               std::unique_ptr<SqlDialect> dialect,
                               std::unique_ptr<PocoOutboxStore>* store) {
  OutboxTable table;
  table.table = location.table_name;
  Status status = ValidateSqlIdentifier("table name", location.table_name);
  if (status.ok() && !location.schema_name.empty()) {
    status = ValidateSqlIdentifier("schema name", location.schema_name);
    table.schema = location.schema_name;
  }
  if (status.ok() && options.max_connections < 1) {
    status = Status::InvalidArgument("max_connections must be >= 1, got " +
                                     std::to_string(options.max_connections));
  }
  if (status.ok() && options.busy_timeout.count() < 0) {
    status = Status::InvalidArgument("busy_timeout must not be negative");
  }
  if (!status.ok()) return status.WithContext("store '" + location.identifier + "'");
  store->reset(new PocoOutboxStore(location, options, std::move(dialect), table));
  return Status::OK();
}

PocoOutboxStore::PocoOutboxStore(const StoreLocation& location, const StoreOptions& options,
                                 std::unique_ptr<SqlDialect> dialect, const OutboxTable& table)
    : location_(location),
      options_(options),
      dialect_(std::move(dialect)),
      table_(table),
      sql_(dialect_->RenderSql(table_)),
      schema_key_(dialect_->DatabaseKey() + "\n" + table_.schema + "." + table_.table),
      pool_(options.max_connections,
            [this](std::unique_ptr<StoreConnection>* out) { return OpenConnection(out); },
            options.connection_budget.get()),
      serialize_writes_(dialect_->name() == "SQLite") {}

std::unique_lock<std::mutex> PocoOutboxStore::WriteLock() {
  if (!serialize_writes_) return std::unique_lock<std::mutex>();
  return std::unique_lock<std::mutex>(write_mu_);
}

PocoOutboxStore::~PocoOutboxStore() = default;

Status PocoOutboxStore::OpenConnection(std::unique_ptr<StoreConnection>* out) {
  std::unique_ptr<Poco::Data::Session> session;
  OBX_RETURN_IF_ERROR(dialect_->OpenSession(options_, &session));
  *out = std::make_unique<StoreConnection>(std::move(session), &sql_);
  return Status::OK();
}

template <typename Fn>
Status PocoOutboxStore::Run(const char* operation, Fn&& fn) {
  std::unique_ptr<StoreConnection> connection;
  Status status = pool_.Acquire(&connection);
  if (!status.ok()) return Failed(operation, status);
  bool broken = false;
  try {
    status = fn(*connection);
  } catch (...) {
    status = StatusFromCurrentException(*dialect_);
    broken = true;
  }
  if (broken) {
    if (dialect_->AbandonStatementsOnError()) connection->AbandonStatements();
    pool_.Discard(std::move(connection));
  } else {
    pool_.Release(std::move(connection));
  }
  if (status.code() == Status::Code::kNotFound && options_.create_schema) {
    // The table went away (dropped, file replaced): deploy it again on the next call.
    ProcessDeployedSchemas().Remove(schema_key_);
    schema_ready_.store(false, std::memory_order_release);
  }
  return status.ok() ? status : Failed(operation, status);
}

Status PocoOutboxStore::Failed(const char* operation, const Status& status) const {
  std::string message = "store '" + location_.identifier + "': " + operation +
                        " failed: " + status.message();
  ReplaceAll(&message, location_.connection_string,
             RedactConnectionString(location_.connection_string));
  return WithMessage(status.code(), std::move(message));
}

Status PocoOutboxStore::EnsureSchemaIfConfigured() {
  return options_.create_schema ? EnsureSchema() : Status::OK();
}


Status PocoOutboxStore::EnsureSchema() {
  if (schema_ready_.load(std::memory_order_acquire)) return Status::OK();
  if (ProcessDeployedSchemas().Contains(schema_key_)) {
    schema_ready_.store(true, std::memory_order_release);
    return Status::OK();
  }
  Status status = Run("schema setup", [this](StoreConnection& connection) {
    connection.BeginWrite();
    try {
      for (const std::string& statement : sql_.prepare_schema) connection.ExecuteOnce(statement);
      connection.ExecuteOnce(sql_.create_table);
      std::string missing = MissingColumns(connection.ListColumns());
      if (!missing.empty()) {
        connection.Rollback();
        return Status::InvalidArgument("existing table '" + table_.table +
                                       "' is not an outbox table (missing columns: " + missing +
                                       ")");
      }
      for (const std::string& statement : sql_.create_indexes) connection.ExecuteOnce(statement);
      connection.Commit();
    } catch (...) {
      RollbackQuietly(connection);
      throw;
    }
    return Status::OK();
  });
  if (status.ok()) {
    ProcessDeployedSchemas().Add(schema_key_);
    schema_ready_.store(true, std::memory_order_release);
  }
  return status;
}

Status PocoOutboxStore::ClaimDue(int limit, std::chrono::milliseconds lease,
                                 const std::string& owner_token, std::vector<OutboxMessage>* out) {
  if (limit <= 0) {
    return Failed("claim", Status::InvalidArgument("limit must be > 0, got " +
                                                   std::to_string(limit)));
  }
  if (lease.count() <= 0) {
    return Failed("claim", Status::InvalidArgument("lease must be > 0 ms, got " +
                                                   std::to_string(lease.count())));
  }
  if (owner_token.empty()) {
    return Failed("claim", Status::InvalidArgument("owner token must not be empty"));
  }
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  std::vector<OutboxMessage> claimed;
  OBX_RETURN_IF_ERROR(Run("claim", [&](StoreConnection& connection) {
    auto lock = WriteLock();
    connection.Claim(owner_token, lease.count(), limit, &claimed);
    return Status::OK();
  }));
  std::sort(claimed.begin(), claimed.end(), OlderFirst);  // RETURNING order is unspecified
  out->insert(out->end(), std::make_move_iterator(claimed.begin()),
              std::make_move_iterator(claimed.end()));
  return Status::OK();
}

Status PocoOutboxStore::Complete(const std::string& owner_token,
                                 const std::vector<Completion>& completions,
                                 CompletionReport* report) {
  if (owner_token.empty()) {
    return Failed("complete", Status::InvalidArgument("owner token must not be empty"));
  }
  std::vector<const Completion*> distinct;  // first completion per id, input order
  std::unordered_set<int64_t> seen;
  // The JSON list parameters of OutboxSql, one per kind.
  std::vector<int64_t> dispatched;
  std::vector<int64_t> released;
  nlohmann::json rescheduled = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  for (const Completion& completion : completions) {
    if (completion.kind == Completion::Kind::kReschedule && completion.delay.count() < 0) {
      return Failed("complete", Status::InvalidArgument(
                                    "reschedule delay must be >= 0 ms, got " +
                                    std::to_string(completion.delay.count()) + " for id " +
                                    std::to_string(completion.id)));
    }
    if (!seen.insert(completion.id).second) continue;
    distinct.push_back(&completion);
    switch (completion.kind) {
      case Completion::Kind::kDispatched: dispatched.push_back(completion.id); break;
      case Completion::Kind::kRelease: released.push_back(completion.id); break;
      case Completion::Kind::kReschedule:
        rescheduled.push_back(nlohmann::json::array(
            {completion.id, static_cast<int64_t>(completion.delay.count()), completion.error}));
        break;
      case Completion::Kind::kFail:
        failed.push_back(nlohmann::json::array({completion.id, completion.error}));
        break;
      default:
        return Failed("complete", Status::InvalidArgument(
                                      "unknown completion kind for id " +
                                      std::to_string(completion.id)));
    }
  }
  if (distinct.empty()) return Status::OK();
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());

  std::vector<int64_t> applied;
  // One kind of outcome (the common case: a whole batch dispatched) is one statement, atomic on its
  // own: on PostgreSQL it runs without BEGIN/COMMIT, saving two of the batch's four round trips.
  // SQLite keeps BEGIN IMMEDIATE (takes the write lock up front instead of upgrading a read).
  const int kinds = (dispatched.empty() ? 0 : 1) + (released.empty() ? 0 : 1) +
                    (rescheduled.empty() ? 0 : 1) + (failed.empty() ? 0 : 1);
  const bool explicit_transaction = kinds > 1 || serialize_writes_;
  OBX_RETURN_IF_ERROR(Run("complete", [&](StoreConnection& connection) {
    auto lock = WriteLock();
    if (!explicit_transaction) {
      if (!dispatched.empty()) {
        connection.MarkDispatched(options_.worker_id, dialect_->IdListParameter(dispatched),
                                  owner_token, &applied);
      } else if (!released.empty()) {
        connection.Release(dialect_->IdListParameter(released), owner_token, &applied);
      } else if (!rescheduled.empty()) {
        connection.Reschedule(JsonText(rescheduled), owner_token, &applied);
      } else {
        connection.Fail(options_.worker_id + ":FAILED", JsonText(failed), owner_token, &applied);
      }
      return Status::OK();
    }
    connection.BeginWrite();
    try {
      if (!dispatched.empty()) {
        connection.MarkDispatched(options_.worker_id, dialect_->IdListParameter(dispatched),
                                  owner_token, &applied);
      }
      if (!released.empty()) {
        connection.Release(dialect_->IdListParameter(released), owner_token, &applied);
      }
      if (!rescheduled.empty()) {
        connection.Reschedule(JsonText(rescheduled), owner_token, &applied);
      }
      if (!failed.empty()) {
        connection.Fail(options_.worker_id + ":FAILED", JsonText(failed), owner_token, &applied);
      }
      connection.Commit();
    } catch (...) {
      RollbackQuietly(connection);
      throw;
    }
    return Status::OK();
  }));

  std::unordered_set<int64_t> applied_ids(applied.begin(), applied.end());
  for (const Completion* c : distinct) {
    (applied_ids.count(c->id) > 0 ? report->applied : report->lease_lost).push_back(c->id);
  }
  return Status::OK();
}

Status PocoOutboxStore::RenewLease(const std::string& owner_token, std::chrono::milliseconds lease,
                                   int64_t* renewed) {
  if (lease.count() <= 0) {
    return Failed("renew lease", Status::InvalidArgument("lease must be > 0 ms, got " +
                                                         std::to_string(lease.count())));
  }
  if (owner_token.empty()) {
    return Failed("renew lease", Status::InvalidArgument("owner token must not be empty"));
  }
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("renew lease", [&](StoreConnection& connection) {
    auto lock = WriteLock();
    *renewed = connection.RenewLease(owner_token, lease.count());
    return Status::OK();
  });
}

Status PocoOutboxStore::Enqueue(const NewMessage& message, std::string* message_id) {
  if (message.topic.empty()) {
    return Failed("enqueue", Status::InvalidArgument("topic must not be empty"));
  }
  if (message.delay.count() < 0) {
    return Failed("enqueue", Status::InvalidArgument("delay must be >= 0 ms, got " +
                                                     std::to_string(message.delay.count())));
  }
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("enqueue", [&](StoreConnection& connection) {
    auto lock = WriteLock();
    *message_id = connection.Enqueue(message);
    return Status::OK();
  });
}

Status PocoOutboxStore::GetStats(StoreStats* stats) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("stats", [&](StoreConnection& connection) {
    *stats = connection.CountByStatus();
    return Status::OK();
  });
}

Status PocoOutboxStore::HasPendingWork(bool* pending) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("pending-work check", [&](StoreConnection& connection) {
    *pending = connection.HasPendingWork();
    return Status::OK();
  });
}

Status PocoOutboxStore::GetBacklog(StoreBacklog* backlog) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("backlog query", [&](StoreConnection& connection) {
    *backlog = connection.Backlog();
    return Status::OK();
  });
}

Status PocoOutboxStore::Cleanup(std::chrono::milliseconds retention, int64_t* deleted) {
  if (retention.count() < 0) {
    return Failed("cleanup", Status::InvalidArgument("retention must be >= 0 ms, got " +
                                                     std::to_string(retention.count())));
  }
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("cleanup", [&](StoreConnection& connection) {
    auto lock = WriteLock();
    *deleted = connection.Cleanup(retention.count());
    return Status::OK();
  });
}

}  // namespace outboxd::poco_store
