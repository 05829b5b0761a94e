// Test support for the store suites: one SQLite tenant file in a private TempDir, stores opened on
// it through OpenOutboxStore, and a raw Poco session to seed and inspect rows behind the store's
// back (the way a producer or an operator would).
//
// THREADING: StoreTestDb is confined to the test's main thread; the stores it opens are
// thread-safe as usual.
#ifndef OUTBOXD_TESTS_HOST_STORE_STORE_TEST_SUPPORT_H_
#define OUTBOXD_TESTS_HOST_STORE_STORE_TEST_SUPPORT_H_

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/poco/sqlite_dialect.h"
#include "support/temp_dir.h"

namespace outboxd::testing {

// One row as stored, read with plain SQL.
struct StoredRow {
  int64_t id = 0;
  std::string message_id;
  std::string topic;
  std::string payload;
  std::optional<std::string> correlation_id;
  int64_t created_at = 0;
  std::optional<int64_t> due_at;
  int status = -1;
  int attempts = -1;
  std::optional<int64_t> next_attempt_at;
  std::optional<int64_t> locked_until;
  std::optional<std::string> owner_token;
  std::optional<int64_t> processed_at;
  std::optional<std::string> processed_by;
  std::optional<std::string> last_error;
};

inline std::optional<std::string> Opt(const Poco::Nullable<std::string>& v) {
  return v.isNull() ? std::nullopt : std::optional<std::string>(v.value());
}
inline std::optional<int64_t> Opt(const Poco::Nullable<Poco::Int64>& v) {
  return v.isNull() ? std::nullopt : std::optional<int64_t>(v.value());
}

// Polls `condition` every 5 ms until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class StoreTestDb {
 public:
  explicit StoreTestDb(std::string table = "outbox", std::string identifier = "customer-001")
      : path_((dir_ / "tenant.db").string()),
        table_(std::move(table)),
        identifier_(std::move(identifier)) {}

  const std::string& path() const { return path_; }
  const std::string& table() const { return table_; }
  const TempDir& dir() const { return dir_; }

  StoreLocation Location() const {
    StoreLocation location;
    location.identifier = identifier_;
    location.connection_string = "sqlite:" + path_;
    location.table_name = table_;
    return location;
  }

  static StoreOptions Options() {
    StoreOptions options;
    options.worker_id = "test-worker";
    options.create_database = true;
    return options;
  }

  // Opens a store on the file (creating file and schema); fails the test on error.
  std::unique_ptr<OutboxStore> Open(const StoreOptions& options = Options()) const {
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(Location(), options, &store);
    EXPECT_TRUE(status.ok()) << status.ToString();
    if (store != nullptr && options.create_schema) {
      Status schema = store->EnsureSchema();
      EXPECT_TRUE(schema.ok()) << schema.ToString();
    }
    return store;
  }

  // The raw session (opened on first use; the file must exist by then).
  Poco::Data::Session& Raw() {
    if (raw_ == nullptr) {
      poco_store::SqliteDialect::RegisterConnector();
      raw_ = std::make_unique<Poco::Data::Session>("SQLite", path_);
      *raw_ << "PRAGMA busy_timeout = 5000", Poco::Data::Keywords::now;
    }
    return *raw_;
  }

  void Exec(const std::string& sql) { Raw() << sql, Poco::Data::Keywords::now; }

  std::string Quoted() const { return "\"" + table_ + "\""; }

  static std::string NowExpr() { return poco_store::SqliteDialect("").NowMsExpression(); }

  int64_t DbNow() {
    Poco::Int64 now_ms = 0;
    Raw() << "SELECT " + NowExpr(), Poco::Data::Keywords::into(now_ms), Poco::Data::Keywords::now;
    return now_ms;
  }

  int64_t QueryInt(const std::string& sql) {
    Poco::Int64 value = 0;
    Raw() << sql, Poco::Data::Keywords::into(value), Poco::Data::Keywords::now;
    return value;
  }

  // Inserts a row with explicit column values (SQL literals); returns its id.
  int64_t InsertRow(const std::string& columns, const std::string& values) {
    Exec("INSERT INTO " + Quoted() + " (" + columns + ") VALUES (" + values + ")");
    return QueryInt("SELECT last_insert_rowid()");
  }

  StoredRow Row(int64_t id) {
    using Poco::Data::Keywords::into;
    using Poco::Data::Keywords::use;
    StoredRow row;
    Poco::Int64 key = id, pid = 0, created_at = 0, status = -1, attempts = -1;
    Poco::Nullable<std::string> correlation, owner, processed_by, last_error;
    Poco::Nullable<Poco::Int64> due_at, next_attempt_at, locked_until, processed_at;
    Poco::Data::Statement stmt(Raw());
    stmt << "SELECT id, message_id, topic, payload, correlation_id, created_at, due_at, status, "
            "attempts, next_attempt_at, locked_until, owner_token, processed_at, processed_by, "
            "last_error FROM " + Quoted() + " WHERE id = ?",
        into(pid), into(row.message_id), into(row.topic), into(row.payload), into(correlation),
        into(created_at), into(due_at), into(status), into(attempts), into(next_attempt_at),
        into(locked_until), into(owner), into(processed_at), into(processed_by),
        into(last_error), use(key);
    size_t rows = stmt.execute();
    EXPECT_EQ(rows, 1u) << "no row with id " << id;
    row.id = pid;
    row.correlation_id = Opt(correlation);
    row.created_at = created_at;
    row.due_at = Opt(due_at);
    row.status = static_cast<int>(status);
    row.attempts = static_cast<int>(attempts);
    row.next_attempt_at = Opt(next_attempt_at);
    row.locked_until = Opt(locked_until);
    row.owner_token = Opt(owner);
    row.processed_at = Opt(processed_at);
    row.processed_by = Opt(processed_by);
    row.last_error = Opt(last_error);
    return row;
  }

 private:
  TempDir dir_;
  std::string path_;
  std::string table_;
  std::string identifier_;
  std::unique_ptr<Poco::Data::Session> raw_;
};

// Enqueues `count` messages "topic-<i>" / "payload-<i>"; returns nothing (ids via claims).
inline void EnqueueN(OutboxStore* store, int count, const std::string& topic = "Test.Topic") {
  for (int i = 0; i < count; ++i) {
    NewMessage message;
    message.topic = topic;
    message.payload = "payload-" + std::to_string(i);
    std::string message_id;
    Status status = store->Enqueue(message, &message_id);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
}

inline std::vector<int64_t> Ids(const std::vector<OutboxMessage>& messages) {
  std::vector<int64_t> ids;
  for (const OutboxMessage& m : messages) ids.push_back(m.id);
  return ids;
}

inline Completion Dispatched(int64_t id) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kDispatched;
  return c;
}
inline Completion Rescheduled(int64_t id, std::chrono::milliseconds delay, std::string error) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kReschedule;
  c.delay = delay;
  c.error = std::move(error);
  return c;
}
inline Completion Failed(int64_t id, std::string error) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kFail;
  c.error = std::move(error);
  return c;
}
inline Completion Released(int64_t id) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kRelease;
  return c;
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_HOST_STORE_STORE_TEST_SUPPORT_H_
