// The store suites' test backend: one fresh tenant per StoreTestDb on either engine, stores opened
// on it through OpenOutboxStore, and a raw Poco session to seed and inspect rows behind the store's
// back (the way a producer or an operator would), with SQL helpers that read the same on both
// engines.
//
//   SQLite:     a database file in a private TempDir.
//   PostgreSQL: a schema of its own in the database of OBX_TEST_PG_URL (the store creates it;
//               dropped with CASCADE at the end), or with own_database a database of its own
//               (CREATE DATABASE, dropped WITH (FORCE) at the end) for tests that look at backends
//               in pg_stat_activity. Names are "obx_t_<pid>_<counter>_<random>", so test processes
//               running in parallel never collide.
//
// Times: tests handle them as epoch milliseconds on both engines. In SQL, Time(ms) is a literal
// for a time column, NowPlus(ms) the database clock plus an offset, MsOf(column) a time column as
// epoch milliseconds (PostgreSQL: to_timestamp(ms / 1000.0) and
// floor(extract(epoch from x) * 1000)::bigint).
//
// Parameterised suites derive their fixture from EngineTest, which skips (or, under
// OBX_REQUIRE_PG=1, fails) the PostgreSQL instances when OBX_TEST_PG_URL is unset, and instantiate
// with OBX_INSTANTIATE_FOR_ENGINES(Fixture): test names end in /Sqlite and /Postgres.
//
// THREADING: a StoreTestDb is confined to the test's main thread (its raw session is not shared);
// the stores it opens are thread-safe as usual.
#ifndef OUTBOXD_TESTS_HOST_STORE_STORE_TEST_BACKEND_H_
#define OUTBOXD_TESTS_HOST_STORE_STORE_TEST_BACKEND_H_

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/postgres/postgres_conninfo.h"
#include "store/postgres/postgres_dialect.h"
#include "store/sqlite/sqlite_dialect.h"
#include "store_test_support.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd::testing {

enum class Engine { kSqlite, kPostgres };

inline std::string EngineName(Engine engine) {
  return engine == Engine::kSqlite ? "Sqlite" : "Postgres";
}

inline std::string EngineParamName(const ::testing::TestParamInfo<Engine>& info) {
  return EngineName(info.param);
}

// A name no other test (in this or a parallel process) uses: obx_t_<pid>_<counter>_<random>.
inline std::string UniqueTestName(const std::string& prefix = "obx_t") {
  static std::atomic<int> counter{0};
  static const uint32_t salt = std::random_device{}();
  std::ostringstream name;
  name << prefix << "_" << ::getpid() << "_" << counter.fetch_add(1) << "_" << std::hex << salt;
  return name.str();
}

// The test server of OBX_TEST_PG_URL, as libpq options, able to name any database on it.
class PostgresTestCluster {
 public:
  // Throws std::runtime_error when OBX_TEST_PG_URL is unset or libpq cannot parse it.
  PostgresTestCluster() {
    std::string url = PostgresTestUrl();
    if (url.empty()) throw std::runtime_error(PostgresTestServerMissingReason());
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (options == nullptr) {
      std::string why = error != nullptr ? error : "unparsable";
      if (error != nullptr) PQfreemem(error);
      throw std::runtime_error("OBX_TEST_PG_URL: " + why);
    }
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      std::string key = o->keyword;
      if (key == "dbname") {
        main_database_ = o->val;
      } else if (key != "application_name") {
        options_.emplace_back(key, o->val);
      }
    }
    PQconninfoFree(options);
    if (main_database_.empty()) main_database_ = "postgres";
  }

  const std::string& main_database() const { return main_database_; }

  // "postgresql:///<database>?host=...&port=...&user=..." plus `extra` ("k=v&k=v"), every value
  // percent-encoded.
  std::string Url(const std::string& database, const std::string& extra = "") const {
    std::string url = "postgresql:///" + Encode(database);
    char separator = '?';
    for (const auto& [key, value] : options_) {
      url += separator + key + "=" + Encode(value);
      separator = '&';
    }
    if (!extra.empty()) url += separator + extra;
    return url;
  }

  // A libpq keyword string for `database` with its own application_name (so the raw sessions of
  // the tests never count as the store's "outboxd" backends).
  std::string Conninfo(const std::string& database,
                       const std::string& application_name = "obx_test_raw") const {
    sql_store::PostgresTarget target;
    Status parsed = sql_store::ParsePostgresConnection(
        Url(database, "application_name=" + application_name), &target);
    if (!parsed.ok()) throw std::runtime_error(parsed.ToString());
    return target.conninfo;
  }

  std::unique_ptr<Poco::Data::Session> Session(const std::string& database) const {
    sql_store::PostgresDialect::RegisterConnector();
    auto session = std::make_unique<Poco::Data::Session>(Poco::Data::PostgreSQL::Connector::KEY,
                                                         Conninfo(database));
    // No "drop cascades to ..." NOTICEs on the test's stderr.
    *session << "SET client_min_messages TO warning", Poco::Data::Keywords::now;
    return session;
  }

 private:
  static std::string Encode(const std::string& text) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.' || c == '~' || c == '/') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }

  std::string main_database_;
  std::vector<std::pair<std::string, std::string>> options_;
};

class StoreTestDb {
 public:
  // A fresh tenant. On PostgreSQL OBX_TEST_PG_URL must be set (fixtures check with EngineTest).
  explicit StoreTestDb(Engine engine, std::string table = "outbox",
                       std::string identifier = "customer-001", bool own_database = false)
      : engine_(engine), table_(std::move(table)), identifier_(std::move(identifier)) {
    if (engine_ == Engine::kSqlite) {
      dir_ = std::make_unique<TempDir>();
      path_ = (*dir_ / "tenant.db").string();
      return;
    }
    cluster_ = std::make_unique<PostgresTestCluster>();
    schema_ = UniqueTestName();
    if (own_database) {
      database_ = UniqueTestName("obx_db");
      auto admin = cluster_->Session(cluster_->main_database());
      *admin << "CREATE DATABASE \"" + database_ + "\"", Poco::Data::Keywords::now;
      own_database_ = true;
    } else {
      database_ = cluster_->main_database();
    }
  }

  ~StoreTestDb() {
    if (engine_ != Engine::kPostgres) return;
    raw_.reset();
    try {
      if (own_database_) {
        auto admin = cluster_->Session(cluster_->main_database());
        *admin << "DROP DATABASE IF EXISTS \"" + database_ + "\" WITH (FORCE)",
            Poco::Data::Keywords::now;
      } else {
        auto session = cluster_->Session(database_);
        *session << "DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE", Poco::Data::Keywords::now;
      }
    } catch (const Poco::Exception& e) {
      ADD_FAILURE() << "cannot clean up test tenant " << database_ << "." << schema_ << ": "
                    << e.displayText();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot clean up test tenant " << database_ << "." << schema_ << ": "
                    << e.what();
    }
  }

  StoreTestDb(const StoreTestDb&) = delete;
  StoreTestDb& operator=(const StoreTestDb&) = delete;

  Engine engine() const { return engine_; }
  bool is_postgres() const { return engine_ == Engine::kPostgres; }
  const std::string& table() const { return table_; }
  const std::string& path() const { return path_; }          // SQLite: the database file
  const std::string& schema() const { return schema_; }      // PostgreSQL: the tenant's schema
  const std::string& database() const { return database_; }  // PostgreSQL: the database name
  const PostgresTestCluster& cluster() const { return *cluster_; }

  // The tenant's connection string for stores; `extra` adds URI parameters on PostgreSQL.
  std::string ConnectionString(const std::string& extra = "") const {
    return is_postgres() ? cluster_->Url(database_, extra) : "sqlite:" + path_;
  }

  TenantLocation Location() const {
    TenantLocation location;
    location.identifier = identifier_;
    location.connection_string = ConnectionString();
    if (is_postgres()) location.schema_name = schema_;
    location.table_name = table_;
    return location;
  }

  static StoreOptions Options() {
    StoreOptions options;
    options.worker_id = "test-worker";
    options.create_database = true;
    return options;
  }

  // Opens a store on the tenant (creating file and schema); fails the test on error.
  std::unique_ptr<OutboxStore> Open(const StoreOptions& options = Options()) const {
    return OpenAt(Location(), options);
  }

  static std::unique_ptr<OutboxStore> OpenAt(const TenantLocation& location,
                                             const StoreOptions& options) {
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(location, options, &store);
    EXPECT_TRUE(status.ok()) << status.ToString();
    if (store != nullptr && options.create_schema) {
      Status schema = store->EnsureSchema();
      EXPECT_TRUE(schema.ok()) << schema.ToString();
    }
    return store;
  }

  // The raw session (opened on first use; on SQLite this creates the file).
  Poco::Data::Session& Raw() {
    if (raw_ == nullptr) {
      if (is_postgres()) {
        raw_ = cluster_->Session(database_);
      } else {
        sql_store::SqliteDialect::RegisterConnector();
        raw_ = std::make_unique<Poco::Data::Session>("SQLite", path_);
        *raw_ << "PRAGMA busy_timeout = 5000", Poco::Data::Keywords::now;
      }
    }
    return *raw_;
  }

  // Raw statements throw std::runtime_error with the database's full text (Poco's own what() is
  // just the exception's name).
  void Exec(const std::string& sql) {
    Guarded(sql, [&] { Raw() << sql, Poco::Data::Keywords::now; });
  }

  int64_t QueryInt(const std::string& sql) {
    Poco::Int64 value = 0;
    Guarded(sql,
            [&] { Raw() << sql, Poco::Data::Keywords::into(value), Poco::Data::Keywords::now; });
    return value;
  }

  std::vector<int64_t> QueryInts(const std::string& sql) {
    std::vector<Poco::Int64> values;
    Guarded(sql,
            [&] { Raw() << sql, Poco::Data::Keywords::into(values), Poco::Data::Keywords::now; });
    return std::vector<int64_t>(values.begin(), values.end());
  }

  std::vector<std::string> QueryTexts(const std::string& sql) {
    std::vector<std::string> values;
    Guarded(sql,
            [&] { Raw() << sql, Poco::Data::Keywords::into(values), Poco::Data::Keywords::now; });
    return values;
  }

  // --- SQL fragments that read the same on both engines ---------------------------------------

  // The outbox table as raw SQL names it: "table" (SQLite) or "schema"."table".
  std::string Table() const { return Quoted(table_); }
  std::string Quoted(const std::string& table) const {
    return is_postgres() ? "\"" + schema_ + "\".\"" + table + "\"" : "\"" + table + "\"";
  }
  // The n-th (1-based) statement parameter.
  std::string P(int n) const { return is_postgres() ? "$" + std::to_string(n) : "?"; }
  // A time column value of `ms` epoch milliseconds.
  std::string Time(int64_t ms) const {
    return is_postgres() ? "to_timestamp(" + std::to_string(ms) + " / 1000.0)" : std::to_string(ms);
  }
  // The database clock plus `offset_ms`, as a time column value.
  std::string NowPlus(int64_t offset_ms) const {
    return is_postgres()
               ? "(now() + (" + std::to_string(offset_ms) + ") * interval '1 millisecond')"
               : "(" + sql_store::SqliteDialect("").NowMsExpression() + " + (" +
                     std::to_string(offset_ms) + "))";
  }
  // A time column (or expression) as integer epoch milliseconds.
  std::string MsOf(const std::string& column) const {
    return is_postgres() ? "floor(extract(epoch from " + column + ") * 1000)::bigint" : column;
  }
  std::string NowExpr() const {
    return is_postgres() ? MsOf("now()") : sql_store::SqliteDialect("").NowMsExpression();
  }

  int64_t DbNow() { return QueryInt("SELECT " + NowExpr()); }

  // Inserts a row with explicit column values (SQL, see Time and NowPlus); returns its id.
  int64_t InsertRow(const std::string& columns, const std::string& values) {
    return QueryInt("INSERT INTO " + Table() + " (" + columns + ") VALUES (" + values +
                    ") RETURNING id");
  }

  // Inserts `count` ready rows with topic `topic` and payloads "p1".."p<count>" in one statement.
  void InsertMany(int count, const std::string& topic = "t") {
    Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
         std::to_string(count) + ") INSERT INTO " + Table() + " (topic, payload) SELECT '" + topic +
         "', 'p' || i FROM n");
  }

  int64_t CountRows(const std::string& where = "") {
    return QueryInt("SELECT COUNT(*) FROM " + Table() + (where.empty() ? "" : " WHERE " + where));
  }

  StoredRow Row(int64_t id) {
    using Poco::Data::Keywords::into;
    StoredRow row;
    Poco::Int64 pid = 0, created_at = 0, status = -1, attempts = -1;
    Poco::Nullable<std::string> correlation, owner, processed_by, last_error;
    Poco::Nullable<Poco::Int64> due_at, next_attempt_at, locked_until, processed_at;
    const std::string integer = is_postgres() ? "::bigint" : "";
    Poco::Data::Statement stmt(Raw());
    stmt << "SELECT id, message_id, topic, payload, correlation_id, " + MsOf("created_at") + ", " +
                MsOf("due_at") + ", status" + integer + ", attempts" + integer + ", " +
                MsOf("next_attempt_at") + ", " + MsOf("locked_until") + ", owner_token, " +
                MsOf("processed_at") + ", processed_by, last_error FROM " + Table() +
                " WHERE id = " + std::to_string(id),
        into(pid), into(row.message_id), into(row.topic), into(row.payload), into(correlation),
        into(created_at), into(due_at), into(status), into(attempts), into(next_attempt_at),
        into(locked_until), into(owner), into(processed_at), into(processed_by), into(last_error);
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

  // --- The tenant's schema objects ------------------------------------------------------------

  // Whether anything of the tenant exists yet: the SQLite file, or the PostgreSQL schema.
  bool TenantExists() {
    if (!is_postgres()) return std::filesystem::exists(path_);
    return QueryInt("SELECT COUNT(*) FROM pg_namespace WHERE nspname = '" + schema_ + "'") > 0;
  }

  // Creates a table the store did not make ("id INTEGER PRIMARY KEY, body TEXT"), with the
  // PostgreSQL schema if needed.
  void CreateForeignTable(const std::string& table, const std::string& columns) {
    if (is_postgres()) Exec("CREATE SCHEMA IF NOT EXISTS \"" + schema_ + "\"");
    Exec("CREATE TABLE " + Quoted(table) + " (" + columns + ")");
  }

  // "table:<name>" and "index:<name>" of the tenant, sorted; primary-key and engine-internal
  // objects left out.
  std::vector<std::string> SchemaObjects() {
    if (!is_postgres()) {
      return QueryTexts(
          "SELECT type || ':' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
          "ORDER BY 1");
    }
    return QueryTexts(
        "SELECT o FROM (SELECT 'table:' || tablename AS o FROM pg_tables WHERE schemaname = '" +
        schema_ + "' UNION ALL SELECT 'index:' || indexname FROM pg_indexes WHERE schemaname = '" +
        schema_ + "' AND indexname NOT LIKE '%\\_pkey') AS objects ORDER BY 1");
  }

  // The CREATE INDEX text of `index` as the engine stores it.
  std::string IndexDefinition(const std::string& index) {
    std::vector<std::string> sql =
        QueryTexts(is_postgres() ? "SELECT indexdef FROM pg_indexes WHERE schemaname = '" +
                                       schema_ + "' AND indexname = '" + index + "'"
                                 : "SELECT sql FROM sqlite_master WHERE name = '" + index + "'");
    return sql.empty() ? std::string() : sql.front();
  }

 private:
  template <typename Fn>
  static void Guarded(const std::string& sql, Fn&& fn) {
    try {
      fn();
    } catch (const Poco::Exception& e) {
      throw std::runtime_error(e.displayText() + " [SQL: " + sql + "]");
    }
  }

  Engine engine_;
  std::string table_;
  std::string identifier_;
  std::unique_ptr<TempDir> dir_;                  // SQLite
  std::string path_;                              // SQLite
  std::unique_ptr<PostgresTestCluster> cluster_;  // PostgreSQL
  std::string schema_;                            // PostgreSQL
  std::string database_;                          // PostgreSQL
  bool own_database_ = false;                     // PostgreSQL
  std::unique_ptr<Poco::Data::Session> raw_;
};

// Base fixture of the engine-parameterised suites: without a PostgreSQL server the Postgres
// instances skip (or fail under OBX_REQUIRE_PG=1). Derived SetUps call EngineTest::SetUp() first
// and return when IsSkipped() or HasFatalFailure().
class EngineTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) {
      std::string url;
      OBX_REQUIRE_TEST_POSTGRES(&url);
    }
  }

  Engine engine() const { return GetParam(); }
  bool is_postgres() const { return GetParam() == Engine::kPostgres; }
  std::unique_ptr<StoreTestDb> NewDb(const std::string& table = "outbox") const {
    return std::make_unique<StoreTestDb>(GetParam(), table);
  }
};

#define OBX_INSTANTIATE_FOR_ENGINES(fixture)                                         \
  INSTANTIATE_TEST_SUITE_P(Engines, fixture,                                         \
                           ::testing::Values(::outboxd::testing::Engine::kSqlite,    \
                                             ::outboxd::testing::Engine::kPostgres), \
                           ::outboxd::testing::EngineParamName)

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_HOST_STORE_STORE_TEST_BACKEND_H_
