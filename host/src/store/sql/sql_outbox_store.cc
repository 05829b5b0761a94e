#include "store/sql/sql_outbox_store.h"

#include <Poco/Data/Session.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <optional>
#include <mutex>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "store/sql/poco_error.h"

namespace outboxd::sql_store {

namespace {

// Thrown by WriteLock when another worker waits for a lock another process holds; Run catches it.
struct LockedByOtherProcess {};

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

// The claim with its payload cap in place of the dialect's kNoPayloadCap (0: no cap, kept).
OutboxSql WithPayloadCap(OutboxSql sql, int64_t max_payload_bytes) {
  if (max_payload_bytes <= 0) return sql;
  const std::string marker = kNoPayloadCap;
  const std::string cap = std::to_string(max_payload_bytes);
  for (size_t at = sql.claim.find(marker); at != std::string::npos;
       at = sql.claim.find(marker, at + cap.size())) {
    sql.claim.replace(at, marker.size(), cap);
  }
  return sql;
}

}  // namespace

Status SqlOutboxStore::Create(const TenantLocation& location, const StoreOptions& options,
                               std::unique_ptr<SqlDialect> dialect,
                               std::unique_ptr<SqlOutboxStore>* store) {
  OutboxTable table;
  table.table = location.table_name;
  Status status = ValidateSqlIdentifier("table name", location.table_name);
  if (status.ok() && !location.schema_name.empty()) {
    status = ValidateSqlIdentifier("schema name", location.schema_name);
    table.schema = location.schema_name;
  }
  if (status.ok() && location.table_name == kSchemaVersionTable) {
    status = Status::InvalidArgument("table name '" + location.table_name +
                                     "' is reserved for the schema version table");
  }
  if (status.ok() && options.max_connections < 1) {
    status = Status::InvalidArgument("max_connections must be >= 1, got " +
                                     std::to_string(options.max_connections));
  }
  if (status.ok() && options.busy_timeout.count() < 0) {
    status = Status::InvalidArgument("busy_timeout must not be negative");
  }
  if (!status.ok()) return status.WithContext("store '" + location.identifier + "'");
  store->reset(new SqlOutboxStore(location, options, std::move(dialect), table));
  return Status::OK();
}

SqlOutboxStore::SqlOutboxStore(const TenantLocation& location, const StoreOptions& options,
                                 std::unique_ptr<SqlDialect> dialect, const OutboxTable& table)
    : location_(location),
      options_(options),
      dialect_(std::move(dialect)),
      table_(table),
      sql_(WithPayloadCap(dialect_->RenderSql(table_), options.max_payload_bytes)),
      schema_key_(dialect_->DatabaseKey() + "\n" + table_.schema + "." + table_.table),
      write_gate_(dialect_->NewWriteGate(options)),
      serialize_writes_(write_gate_ != nullptr),
      pool_(options.max_connections,
            [this](std::unique_ptr<StoreConnection>* out) { return OpenConnection(out); },
            options.connection_budget.get()) {}

SqlOutboxStore::WriteTurn SqlOutboxStore::WriteLock() {
  if (!serialize_writes_) return WriteTurn(nullptr);
  if (!write_gate_->Enter()) throw LockedByOtherProcess();
  return WriteTurn(write_gate_.get());
}

SqlOutboxStore::~SqlOutboxStore() = default;

Status SqlOutboxStore::OpenConnection(std::unique_ptr<StoreConnection>* out) {
  // The identity first: should the file be replaced meanwhile, the next use reopens again.
  std::optional<std::string> identity = dialect_->DatabaseIdentity();
  std::unique_ptr<Poco::Data::Session> session;
  OBX_RETURN_IF_ERROR(dialect_->OpenSession(options_, &session));
  *out = dialect_->NewConnection(std::move(session), &sql_, write_gate_.get());
  (*out)->set_identity(std::move(identity));
  return Status::OK();
}

Status SqlOutboxStore::AcquireCurrent(std::unique_ptr<StoreConnection>* out) {
  // Each stale connection found is closed; at most every pooled one, then a fresh open.
  for (int attempt = 0;; ++attempt) {
    OBX_RETURN_IF_ERROR(pool_.Acquire(out));
    if (!(*out)->identity().has_value()) return Status::OK();
    std::optional<std::string> now = dialect_->DatabaseIdentity();
    if (now == (*out)->identity() || attempt > options_.max_connections) return Status::OK();
    pool_.Discard(std::move(*out));
    // A different file: its schema is checked again.
    ProcessDeployedSchemas().Remove(schema_key_);
    schema_ready_.store(false, std::memory_order_release);
  }
}

template <typename Fn>
Status SqlOutboxStore::Run(const char* operation, Fn&& fn, OnDeadSession on_dead) {
  Status status;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<StoreConnection> connection;
    status = AcquireCurrent(&connection);
    if (!status.ok()) return Failed(operation, status);
    bool broken = false;
    try {
      status = fn(*connection);
    } catch (const LockedByOtherProcess&) {
      status = Status::Unavailable(
          "the database file is locked by another process (another worker of this store is "
          "already waiting for it, up to stores.busy_timeout)");
    } catch (...) {
      status = StatusFromCurrentException(*dialect_);
      broken = true;
    }
    // A reused session that the server dropped (backend killed, idle connection cut): one more
    // try on a fresh connection, so one dead connection does not take the tenant offline.
    const bool retry = broken && attempt == 0 && on_dead == OnDeadSession::kRetry &&
                       status.code() == Status::Code::kUnavailable &&
                       dialect_->RetryOnFreshConnection() && connection->reused() &&
                       !connection->SessionAlive();
    if (broken) {
      if (dialect_->AbandonStatementsOnError()) connection->AbandonStatements();
      pool_.Discard(std::move(connection));
    } else {
      connection->set_reused();
      pool_.Release(std::move(connection));
    }
    if (!retry) break;
  }
  if (status.code() == Status::Code::kNotFound && options_.create_schema) {
    // The table went away (dropped, file replaced): deploy it again on the next call.
    ProcessDeployedSchemas().Remove(schema_key_);
    schema_ready_.store(false, std::memory_order_release);
  }
  return status.ok() ? status : Failed(operation, status);
}

Status SqlOutboxStore::Failed(const char* operation, const Status& status) const {
  std::string message = "store '" + location_.identifier + "': " + operation +
                        " failed: " + status.message();
  return WithMessage(status.code(), RedactConnectionSecrets(message, location_.connection_string));
}

Status SqlOutboxStore::EnsureSchemaIfConfigured() {
  return options_.create_schema ? EnsureSchema() : Status::OK();
}


Status SqlOutboxStore::EnsureSchema() {
  if (schema_ready_.load(std::memory_order_acquire)) return Status::OK();
  if (ProcessDeployedSchemas().Contains(schema_key_)) {
    schema_ready_.store(true, std::memory_order_release);
    return Status::OK();
  }
  {
    // One worker checks (and deploys); the others wait for it instead of racing it, then use its
    // result or, when it failed, try themselves. No lock is held during its database calls.
    MutexLock lock(&schema_mu_);
    schema_changed_.Wait(&schema_mu_, [this]() REQUIRES(schema_mu_) { return !schema_checking_; });
    if (schema_ready_.load(std::memory_order_acquire)) return Status::OK();
    schema_checking_ = true;
  }
  Status status = Run("schema setup", [this](StoreConnection& connection) {
    return DeploySchema(connection);
  });
  if (status.ok()) {
    ProcessDeployedSchemas().Add(schema_key_);
    schema_ready_.store(true, std::memory_order_release);
  }
  {
    MutexLock lock(&schema_mu_);
    schema_checking_ = false;
  }
  schema_changed_.NotifyAll();
  return status;
}

std::string SqlOutboxStore::TableName() const {
  // SQLite has no schemas (the location's default schema name is ignored there).
  if (table_.schema.empty() || dialect_->name() == "SQLite") return table_.table;
  return table_.schema + "." + table_.table;
}

Status SqlOutboxStore::TooNew(int version) const {
  return Status::InvalidArgument(
      "table '" + TableName() + "' is at schema version " + std::to_string(version) +
      ", newer than this binary's version " + std::to_string(kOutboxSchemaVersion) +
      "; refusing to use or downgrade it (run an outboxd/outboxctl of that version or later)");
}

// See docs/store.md, "Schema versions". Throws on database errors (Run converts them); the caller's
// Run discards the connection then, which also ends any session-level lock it held.
Status SqlOutboxStore::DeploySchema(StoreConnection& connection) {
  // The cheap check of every first use: one catalog read, plus the version row when there is a
  // version table. DDL only when something is missing.
  StoreConnection::SchemaProbe probe = connection.ProbeSchema();
  std::optional<int> recorded;
  if (probe.version_table_exists) recorded = connection.ReadVersion();
  if (recorded && *recorded > kOutboxSchemaVersion) return TooNew(*recorded);
  auto trigger_as_wanted = [&](const StoreConnection::SchemaProbe& p) {
    return p.notify_trigger_exists == sql_.want_notify_trigger;
  };
  if (probe.table_exists && recorded == kOutboxSchemaVersion && probe.claim_index_exists &&
      probe.failed_index == 2 && trigger_as_wanted(probe)) {
    return Status::OK();
  }

  // Step 1, one write transaction (PostgreSQL: under the deployers' advisory lock, with a lock
  // timeout so that producers queue behind an ALTER TABLE for at most that long).
  bool complete = false;
  connection.BeginWrite();
  try {
    for (const std::string& statement : sql_.prepare_schema) connection.ExecuteOnce(statement);
    probe = connection.ProbeSchema();  // again, now that we hold the lock
    if (probe.table_exists && probe.version_table_exists && probe.claim_index_exists &&
        probe.failed_index == 2 && trigger_as_wanted(probe)) {
      recorded = connection.ReadVersion();
      if (recorded == kOutboxSchemaVersion) {
        connection.Commit();  // another deployer finished while we waited for its lock: no DDL
        return Status::OK();
      }
    }
    schema_deployments_.fetch_add(1, std::memory_order_relaxed);
    const bool created = !probe.table_exists;
    connection.ExecuteOnce(sql_.create_table);
    connection.ExecuteOnce(sql_.create_version_table);
    recorded = connection.ReadVersion();
    if (recorded && *recorded > kOutboxSchemaVersion) {
      connection.Rollback();
      return TooNew(*recorded);
    }
    std::vector<std::string> columns = connection.ListColumns();
    std::string missing = MissingColumns(columns);
    if (!missing.empty()) {
      connection.Rollback();
      return Status::InvalidArgument("existing table '" + table_.table +
                                     "' is not an outbox table (missing columns: " + missing +
                                     ")");
    }
    for (const auto& [column, alter] : sql_.add_columns) {
      if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
        connection.ExecuteOnce(alter);
      }
    }
    if (!probe.claim_index_exists) connection.ExecuteOnce(sql_.create_claim_index);
    // A table created just now is empty and invisible to others: its index is built in place.
    const bool index_here = sql_.create_failed_index_concurrently.empty() || created;
    if (index_here && probe.failed_index != 2) connection.ExecuteOnce(sql_.create_failed_index);
    if (sql_.want_notify_trigger && !probe.notify_trigger_exists) {
      for (const std::string& statement : sql_.notify_setup) connection.ExecuteOnce(statement);
    } else if (!sql_.want_notify_trigger && probe.notify_trigger_exists) {
      for (const std::string& statement : sql_.notify_teardown) connection.ExecuteOnce(statement);
    }
    complete = index_here || probe.failed_index == 2;
    if (complete && recorded != kOutboxSchemaVersion) {
      connection.WriteVersion(kOutboxSchemaVersion);
    }
    connection.Commit();
  } catch (...) {
    RollbackQuietly(connection);
    throw;
  }
  if (complete) return Status::OK();

  // Step 2 (PostgreSQL, existing table): the failed-rows index, built CONCURRENTLY (producers and
  // workers keep writing), which cannot run in a transaction. A session-level advisory lock of its
  // own lets one deployer build it; an INVALID index left by an interrupted build is dropped
  // first. Then the version row, in a short transaction under the deployers' lock.
  // A deployer that finds the lock taken does not wait: another one is building the index and
  // writes the version when done, and the table is usable meanwhile (the columns exist). Waiting
  // would deadlock: CREATE INDEX CONCURRENTLY waits for the snapshot of a session that waits for
  // its lock.
  // The build waits for every transaction of the database older than it (a pg_dump, a long
  // report), at most stores.busy_timeout (lock_timeout). Cut short, it leaves the upgrade pending
  // (version 1, `schema status` says so; an INVALID index the next deployer rebuilds) but the
  // table usable, so the tenant is still served; the next process start or `outboxctl schema
  // apply` tries again.
  if (connection.QueryIntOnce(sql_.index_lock) == 0) return Status::OK();
  probe = connection.ProbeSchema();
  try {
    if (probe.failed_index == 1) connection.ExecuteOnce(sql_.drop_invalid_failed_index);
    if (probe.failed_index != 2) connection.ExecuteOnce(sql_.create_failed_index_concurrently);
  } catch (...) {
    const Status failed = StatusFromCurrentException(*dialect_);
    if (failed.code() != Status::Code::kUnavailable || !connection.SessionAlive()) throw;
    connection.ExecuteOnce(sql_.index_unlock);
    return Status::OK();
  }
  connection.BeginWrite();
  try {
    for (const std::string& statement : sql_.prepare_schema) connection.ExecuteOnce(statement);
    recorded = connection.ReadVersion();
    if (recorded && *recorded > kOutboxSchemaVersion) {
      connection.Rollback();
      connection.ExecuteOnce(sql_.index_unlock);
      return TooNew(*recorded);
    }
    if (recorded != kOutboxSchemaVersion) connection.WriteVersion(kOutboxSchemaVersion);
    connection.Commit();
  } catch (...) {
    RollbackQuietly(connection);
    throw;
  }
  connection.ExecuteOnce(sql_.index_unlock);
  return Status::OK();
}

Status SqlOutboxStore::GetSchemaStatus(SchemaStatus* status) {
  return Run("schema status", [&](StoreConnection& connection) {
    StoreConnection::SchemaProbe probe = connection.ProbeSchema();
    std::optional<int> recorded;
    if (probe.version_table_exists) recorded = connection.ReadVersion();
    status->binary_version = kOutboxSchemaVersion;
    // A table without a version row is outboxd 0.1.0's: version 1.
    status->current_version = !probe.table_exists ? 0 : recorded.value_or(1);
    return Status::OK();
  });
}

Status SqlOutboxStore::ClaimDue(int limit, std::chrono::milliseconds lease,
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
  for (OutboxMessage& m : claimed) {
    m.payload_withheld =
        options_.max_payload_bytes > 0 && m.payload_bytes > options_.max_payload_bytes;
  }
  out->insert(out->end(), std::make_move_iterator(claimed.begin()),
              std::make_move_iterator(claimed.end()));
  return Status::OK();
}

Status SqlOutboxStore::Complete(const std::string& owner_token,
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
        failed.push_back(nlohmann::json::array(
            {completion.id, completion.error, completion.count_attempt ? 1 : 0}));
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

Status SqlOutboxStore::RenewLease(const std::string& owner_token, std::chrono::milliseconds lease,
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

Status SqlOutboxStore::Enqueue(const NewMessage& message, std::string* message_id) {
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
  }, OnDeadSession::kNotRetried);
}

Status SqlOutboxStore::GetStats(StoreStats* stats) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("stats", [&](StoreConnection& connection) {
    *stats = connection.CountByStatus();
    stats->oldest_ready_age_ms = connection.OldestReadyAge();
    return Status::OK();
  });
}

Status SqlOutboxStore::CountReadyByTopic(std::map<std::string, int64_t>* counts) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("ready-by-topic count", [&](StoreConnection& connection) {
    *counts = connection.CountReadyByTopic();
    return Status::OK();
  });
}

Status SqlOutboxStore::HasPendingWork(bool* pending) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("pending-work check", [&](StoreConnection& connection) {
    *pending = connection.HasPendingWork();
    return Status::OK();
  });
}

Status SqlOutboxStore::GetBacklog(StoreBacklog* backlog) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("backlog query", [&](StoreConnection& connection) {
    *backlog = connection.Backlog();
    return Status::OK();
  });
}

Status SqlOutboxStore::Cleanup(std::chrono::milliseconds retention, int64_t* deleted) {
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

// --- Operator views and actions (issue 11) --------------------------------------------------------

namespace {

constexpr int kMaxOperatorRows = 100000;

Status CheckReplaySelection(const ReplaySelection& selection) {
  const int selectors = (selection.message_ids.empty() ? 0 : 1) + (selection.topic ? 1 : 0) +
                        (selection.all ? 1 : 0);
  if (selectors != 1) {
    return Status::InvalidArgument(
        "replay needs exactly one of: message ids, a topic, or all failed rows");
  }
  return Status::OK();
}

std::optional<int64_t> Millis(const std::optional<std::chrono::milliseconds>& d) {
  if (!d) return std::nullopt;
  return static_cast<int64_t>(d->count());
}

}  // namespace

Status SqlOutboxStore::ListFailed(const FailedQuery& query, std::vector<FailedMessage>* out) {
  if (query.limit < 1 || query.limit > kMaxOperatorRows) {
    return Failed("list failed", Status::InvalidArgument("limit must be in 1..100000, got " +
                                                         std::to_string(query.limit)));
  }
  if (query.failed_within && query.failed_within->count() < 0) {
    return Failed("list failed", Status::InvalidArgument("failed_within must not be negative"));
  }
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  std::vector<FailedMessage> rows;
  OBX_RETURN_IF_ERROR(Run("list failed", [&](StoreConnection& connection) {
    connection.ListFailed(query.topic, Millis(query.failed_within), query.limit, &rows);
    return Status::OK();
  }));
  out->insert(out->end(), std::make_move_iterator(rows.begin()),
              std::make_move_iterator(rows.end()));
  return Status::OK();
}

Status SqlOutboxStore::FindByMessageId(const std::string& message_id,
                                        std::vector<StoredMessage>* out) {
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  std::vector<StoredMessage> rows;
  OBX_RETURN_IF_ERROR(Run("find message", [&](StoreConnection& connection) {
    connection.FindByMessageId(message_id, &rows);
    return Status::OK();
  }));
  out->insert(out->end(), std::make_move_iterator(rows.begin()),
              std::make_move_iterator(rows.end()));
  return Status::OK();
}

Status SqlOutboxStore::ReplayFailed(const ReplaySelection& selection, bool dry_run,
                                     int64_t* count) {
  Status valid = CheckReplaySelection(selection);
  if (!valid.ok()) return Failed("replay", valid);
  std::optional<std::string> ids;
  if (!selection.message_ids.empty()) ids = JsonText(nlohmann::json(selection.message_ids));
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  return Run("replay", [&](StoreConnection& connection) {
    auto lock = WriteLock();
    *count = connection.Replay(selection.topic, ids, dry_run);
    return Status::OK();
  });
}

Status SqlOutboxStore::PurgeFailed(const PurgeSelection& selection, bool dry_run,
                                    int64_t* count) {
  if (selection.batch_size < 1 || selection.batch_size > kMaxOperatorRows) {
    return Failed("purge", Status::InvalidArgument("batch size must be in 1..100000, got " +
                                                   std::to_string(selection.batch_size)));
  }
  if (selection.older_than && selection.older_than->count() < 0) {
    return Failed("purge", Status::InvalidArgument("older_than must not be negative"));
  }
  OBX_RETURN_IF_ERROR(EnsureSchemaIfConfigured());
  const std::optional<int64_t> older_than = Millis(selection.older_than);
  *count = 0;
  if (dry_run) {
    return Run("purge", [&](StoreConnection& connection) {
      *count = connection.CountPurge(selection.topic, older_than);
      return Status::OK();
    });
  }
  // Rows that fail after the purge started (higher ids) are left alone, so the loop ends.
  int64_t max_id = 0;
  OBX_RETURN_IF_ERROR(Run("purge", [&](StoreConnection& connection) {
    max_id = connection.MaxId();
    return Status::OK();
  }));
  for (;;) {
    int64_t deleted = 0;
    // One batch per call: the SQLite write lock and the connection go back between batches.
    Status status = Run("purge", [&](StoreConnection& connection) {
      auto lock = WriteLock();
      deleted = connection.PurgeBatch(selection.topic, older_than, max_id, selection.batch_size);
      return Status::OK();
    });
    if (!status.ok()) {
      return status.WithContext(std::to_string(*count) + " rows deleted before the error");
    }
    *count += deleted;
    if (deleted < selection.batch_size) return Status::OK();
  }
}

}  // namespace outboxd::sql_store
