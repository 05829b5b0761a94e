// Tests for plugins/discovery_sql (the built discovery_sql.so through FakeHost) against SQLite
// global databases made per test: the seed's Customers query, custom queries with schema/table
// columns, skipped malformed rows, a missing file, bad SQL, password redaction and config
// validation. PostgreSQL runs only when OBX_TEST_PG_URL names a database the test may create tables
// in (packaging/pg-cluster.sh exports one for a throwaway cluster).
#include <Poco/Data/SQLite/SessionImpl.h>
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "plugins/built_plugin.h"
#include "support/hostile_connections.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd::testing {
namespace {

using obx::testing::DiscoverResult;
using obx::testing::FakeHost;
using Poco::Data::Keywords::now;

constexpr char kCustomersSchema[] =
    "CREATE TABLE Customers (CustomerId NVARCHAR(100) PRIMARY KEY, "
    "CustomerName NVARCHAR(255) NOT NULL, ConnectionString NVARCHAR(1000), "
    "IsActive BIT NOT NULL DEFAULT 1)";

class SqlDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    descriptor_ = EnterBuiltPlugin(host_, "discovery_sql");
    db_path_ = (dir_ / "global.db").string();
  }

  // Runs statements on the test's global database (created on first use).
  void Exec(std::initializer_list<std::string> statements) {
    Poco::Data::Session session(
        Poco::AutoPtr<Poco::Data::SessionImpl>(new Poco::Data::SQLite::SessionImpl(db_path_)));
    for (const std::string& sql : statements) session << sql, now;
  }

  std::unique_ptr<obx::testing::DiscoveryInstance> Create(const std::string& extra = "") {
    auto created = host_.CreateDiscovery(
        descriptor_, R"({"connection": "sqlite:)" + db_path_ + "\"" + extra + "}");
    EXPECT_EQ(created.status, OBX_STATUS_OK) << created.error;
    return std::move(created.instance);
  }

  FakeHost host_;
  const obx_plugin_descriptor* descriptor_ = nullptr;
  TempDir dir_;
  std::string db_path_;
};

TEST_F(SqlDiscoveryTest, DescriptorIsADiscoveryProvider) {
  EXPECT_STREQ(descriptor_->name, "sql");
  EXPECT_EQ(descriptor_->kinds, OBX_KIND_DISCOVERY);
  ASSERT_NE(descriptor_->discovery, nullptr);
}

// Issue 14 finding 10: a Customers identifier holding a NUL byte reaches the host whole, so the
// host's rules (obx/cpp/validate.hpp, applied by FakeHost too) refuse it; it is never cut to
// "acme", which would take over that tenant's identifier.
TEST_F(SqlDiscoveryTest, IdentifierWithANulByteIsRefusedNotCut) {
  Exec({kCustomersSchema,
        "INSERT INTO Customers (CustomerId, CustomerName, ConnectionString, IsActive) VALUES "
        "('acme' || char(0) || 'evil', 'Evil', 'sqlite:/data/evil.db', 1), "
        "('zeta', 'Zeta', 'sqlite:/data/zeta.db', 1)"});
  DiscoverResult r = Create()->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].identifier, "zeta");
  EXPECT_EQ(r.rejected, 1);
  ASSERT_EQ(r.rejections.size(), 1u);
  EXPECT_EQ(r.rejections[0], "identifier contains control characters");
}

TEST_F(SqlDiscoveryTest, DefaultQueryReturnsActiveCustomers) {
  Exec({kCustomersSchema,
        "INSERT INTO Customers (CustomerId, CustomerName, ConnectionString, IsActive) VALUES "
        "('customer-001', 'Acme Corp', 'sqlite:/data/acme.db', 1), "
        "('customer-002', 'Globex Inc', 'sqlite:/data/globex.db', 0), "
        "('customer-003', 'Initech', 'postgresql://db/initech', 1)"});
  auto d = Create();
  DiscoverResult r = d->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].identifier, "customer-001");
  EXPECT_EQ(r.records[0].connection_string, "sqlite:/data/acme.db");
  EXPECT_EQ(r.records[0].schema_name, "");
  EXPECT_EQ(r.records[0].table_name, "");
  EXPECT_EQ(r.records[1].identifier, "customer-003");

  // Deactivating and adding customers shows up at the next discover (fresh session each time).
  Exec({"UPDATE Customers SET IsActive = 0 WHERE CustomerId = 'customer-001'",
        "INSERT INTO Customers VALUES ('customer-004', 'New', 'sqlite:/data/new.db', 1)"});
  DiscoverResult again = d->Discover();
  ASSERT_TRUE(again.ok()) << again.error;
  ASSERT_EQ(again.records.size(), 2u);
  EXPECT_EQ(again.records[0].identifier, "customer-003");
  EXPECT_EQ(again.records[1].identifier, "customer-004");
}

TEST_F(SqlDiscoveryTest, EmptyResultIsAnEmptyList) {
  Exec({kCustomersSchema});
  DiscoverResult r = Create()->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.records.empty());
}

TEST_F(SqlDiscoveryTest, CustomQueryWithSchemaAndTableColumns) {
  Exec({"CREATE TABLE tenants (id TEXT, dsn TEXT, sch TEXT, tbl TEXT)",
        "INSERT INTO tenants VALUES ('t1', 'postgresql://h/t1', 'infra', 'outbox_v2'), "
        "('t2', 'sqlite:/t2.db', NULL, NULL)"});
  // Column names match case-insensitively.
  auto d = Create(R"(, "query": "SELECT id AS Identifier, dsn AS CONNECTION_STRING, )"
                  R"(sch AS schema_name, tbl AS table_name FROM tenants ORDER BY id")");
  DiscoverResult r = d->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].identifier, "t1");
  EXPECT_EQ(r.records[0].connection_string, "postgresql://h/t1");
  EXPECT_EQ(r.records[0].schema_name, "infra");
  EXPECT_EQ(r.records[0].table_name, "outbox_v2");
  EXPECT_EQ(r.records[1].identifier, "t2");
  EXPECT_EQ(r.records[1].schema_name, "");
  EXPECT_EQ(r.records[1].table_name, "");
}

TEST_F(SqlDiscoveryTest, MalformedRowsAreSkippedWithAWarningNamingTheRow) {
  Exec({"CREATE TABLE tenants (n INTEGER, id TEXT, dsn TEXT)",
        "INSERT INTO tenants VALUES (1, 'good-1', 'sqlite:/g1.db'), (2, NULL, 'sqlite:/x.db'), "
        "(3, 'no-dsn', ''), (4, 'good-2', 'sqlite:/g2.db'), (5, 'good-1', 'sqlite:/dup.db'), "
        "(6, '', NULL)"});
  auto d = Create(
      R"(, "query": "SELECT id AS identifier, dsn AS connection_string FROM tenants ORDER BY n")");
  DiscoverResult r = d->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].identifier, "good-1");
  EXPECT_EQ(r.records[0].connection_string, "sqlite:/g1.db");
  EXPECT_EQ(r.records[1].identifier, "good-2");
  EXPECT_TRUE(host_.HasLog("row 2 skipped: NULL or empty identifier", OBX_LOG_WARN));
  EXPECT_TRUE(host_.HasLog("row 3 skipped: NULL or empty connection_string (identifier \"no-dsn\")",
                           OBX_LOG_WARN));
  EXPECT_TRUE(host_.HasLog("row 5 skipped: duplicate identifier \"good-1\"", OBX_LOG_WARN));
  EXPECT_TRUE(host_.HasLog("row 6 skipped", OBX_LOG_WARN));
}

TEST_F(SqlDiscoveryTest, MissingDatabaseFileIsAnErrorAndIsNotCreated) {
  auto d = Create();  // global.db was never created
  DiscoverResult r = d->Discover();
  EXPECT_EQ(r.status, OBX_STATUS_ERROR);
  EXPECT_NE(r.error.find("database file not found: " + db_path_), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(db_path_));
}

TEST_F(SqlDiscoveryTest, BadSqlFailsDiscoverNamingTheConnection) {
  Exec({kCustomersSchema});
  auto d = Create(R"(, "query": "SELEC nonsense")");
  DiscoverResult r = d->Discover();
  EXPECT_EQ(r.status, OBX_STATUS_ERROR);
  EXPECT_NE(r.error.find("sql discovery on sqlite:" + db_path_), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("syntax error"), std::string::npos) << r.error;
}

TEST_F(SqlDiscoveryTest, MissingTableFailsDiscover) {
  Exec({"CREATE TABLE other (x)"});
  DiscoverResult r = Create()->Discover();
  EXPECT_EQ(r.status, OBX_STATUS_ERROR);
  EXPECT_NE(r.error.find("no such table: Customers"), std::string::npos) << r.error;
}

TEST_F(SqlDiscoveryTest, QueryWithoutTheRequiredColumnsFailsDiscover) {
  Exec({kCustomersSchema});
  DiscoverResult r =
      Create(R"(, "query": "SELECT CustomerId, ConnectionString FROM Customers")")->Discover();
  EXPECT_EQ(r.status, OBX_STATUS_ERROR);
  EXPECT_NE(r.error.find("must return columns \"identifier\" and \"connection_string\""),
            std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("got: CustomerId, ConnectionString"), std::string::npos) << r.error;
}

TEST_F(SqlDiscoveryTest, PostgresErrorsRedactThePassword) {
  // A socket directory that does not exist: libpq fails at once, no server or port involved.
  const std::string uri =
      "postgresql://app:s3cret-pw@/globaldb?host=" + (dir_ / "no-socket-dir").string();
  auto created = host_.CreateDiscovery(descriptor_, R"({"connection": ")" + uri + "\"}");
  ASSERT_EQ(created.status, OBX_STATUS_OK) << created.error;
  DiscoverResult r = created.instance->Discover();
  EXPECT_EQ(r.status, OBX_STATUS_ERROR);
  EXPECT_NE(r.error.find("postgresql://app:***@/globaldb"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("s3cret-pw"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << "error text must be one line";
}

// Issue 14 finding 4: the redaction runs on libpq's final message, so a password libpq quotes (a
// malformed IPv6 host, a raw '%', an unescaped '/' or '@') never shows, at create or at discover.
TEST_F(SqlDiscoveryTest, HostileConnectionStringsNeverShowTheirSecret) {
  for (const auto& c : outboxd::testing::HostileConnections()) {
    nlohmann::json config = {{"connection", c.connection}};
    auto created = host_.CreateDiscovery(descriptor_, config.dump());
    std::string seen = created.error;
    if (created.status == OBX_STATUS_OK) {
      DiscoverResult r = created.instance->Discover();
      EXPECT_EQ(r.status, OBX_STATUS_ERROR) << c.name;
      EXPECT_FALSE(r.error.empty()) << c.name;
      seen += "\n" + r.error;
    } else {
      EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT) << c.name << ": " << created.error;
    }
    for (const auto& line : host_.Logs()) seen += "\n" + line.text;
    outboxd::testing::ExpectNoSecret(seen, c, "sql plugin");
  }
}

TEST_F(SqlDiscoveryTest, ConfigErrorsNameTheKeyAndRedactPasswords) {
  for (const auto& [config, expected] : std::vector<std::pair<std::string, std::string>>{
           {"{}", "missing required key \"connection\""},
           {R"({"connection": 5})", "\"connection\" must be a non-empty string"},
           {R"({"connection": "mysql://u:pw@h/db"})", "\"connection\" mysql://u:***@h/db"},
           {R"({"connection": "sqlite:"})", "no file path"},
           {R"({"connection": "sqlite:/x.db", "query": ""})", "\"query\" must be a non-empty"},
           {R"({"connection": "sqlite:/x.db", "timeout": 1})", "unknown key \"timeout\""},
           {R"({"connection": "postgresql://u:pw@h/db?bogus=1"})",
            "invalid URI query parameter"}}) {
    auto created = host_.CreateDiscovery(descriptor_, config);
    EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT) << config;
    EXPECT_NE(created.error.find(expected), std::string::npos) << created.error;
    EXPECT_EQ(created.error.find(":pw@"), std::string::npos) << created.error;
  }
}

TEST_F(SqlDiscoveryTest, ErrorsNeverShowPasswords) {
  // Each connection is rejected at create; the error quotes it with the password as ***.
  for (const auto& [connection, redacted] : std::vector<std::pair<std::string, std::string>>{
           {"mysql://app:hunter2@h/db", "mysql://app:***@h/db"},
           {"mysql://app:hun@ter2@h/db", "mysql://app:***@h/db"},
           // A value runs to white space ('&' and ';' are password characters in keyword
           // strings): what follows it in the same word is hidden too (obx/cpp/redact.hpp).
           {"mysql://h/db?sslmode=require&password=hunter2&x=1",
            "mysql://h/db?sslmode=require&password=***"},
           {"host=h PassWord = 'hunter 2' dbname=x", "host=h PassWord = *** dbname=x"},
           {"host=h pwd=hunter2;user=u", "host=h pwd=***"},
           {"postgresql://app:hunter2@h/db?bogus=1", "postgresql://app:***@h/db?bogus=1"}}) {
    auto created =
        host_.CreateDiscovery(descriptor_, nlohmann::json{{"connection", connection}}.dump());
    EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT) << connection;
    EXPECT_NE(created.error.find(redacted), std::string::npos) << created.error;
    EXPECT_EQ(created.error.find("hunter"), std::string::npos) << created.error;
  }
}

// Optional: a real PostgreSQL global database (e.g. a throwaway cluster) named by the environment
// as a libpq URI; tables are created and dropped with psql.
TEST_F(SqlDiscoveryTest, PostgresCustomersWhenAvailable) {
  // Under packaging/run-tests.sh (and so CI) the server is always there: missing it is a failure.
  std::string uri;
  OBX_REQUIRE_TEST_POSTGRES(&uri);
  const std::string table = "obx_sql_discovery_test_" + std::to_string(::getpid());
  auto psql = [&](const std::string& sql) {
    return std::system(
        ("psql -q -v ON_ERROR_STOP=1 '" + uri + "' -c \"" + sql + "\" >/dev/null")
            .c_str());
  };
  ASSERT_EQ(psql("CREATE TABLE " + table +
                 " (\\\"CustomerId\\\" text, cs text, active int); "
                 "INSERT INTO " +
                 table +
                 " VALUES ('p1', 'sqlite:/p1.db', 1), "
                 "(NULL, 'sqlite:/bad.db', 1), ('p2', 'sqlite:/p2.db', 0)"),
            0);
  auto d = host_.CreateDiscovery(
      descriptor_, nlohmann::json{{"connection", uri},
                                  {"query",
                                   "SELECT \"CustomerId\" AS identifier, cs AS connection_string, "
                                   "'tenant' AS schema_name FROM " +
                                       table + " WHERE active = 1"}}
                       .dump());
  ASSERT_TRUE(d.ok()) << d.error;
  DiscoverResult r = d.instance->Discover();
  psql("DROP TABLE " + table);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].identifier, "p1");
  EXPECT_EQ(r.records[0].connection_string, "sqlite:/p1.db");
  EXPECT_EQ(r.records[0].schema_name, "tenant");
  EXPECT_TRUE(host_.HasLog("row 2 skipped: NULL or empty identifier", OBX_LOG_WARN));
}

// The default query on the seed's Customers table as PostgreSQL users write it: unquoted names
// (folded to lower case) and a boolean IsActive.
TEST_F(SqlDiscoveryTest, PostgresDefaultQueryReadsABooleanIsActive) {
  std::string uri;
  OBX_REQUIRE_TEST_POSTGRES(&uri);
  const std::string db = "obx_sql_default_" + std::to_string(::getpid());
  const std::string db_uri = uri.substr(0, uri.rfind('/') + 1) + db;
  auto psql = [](const std::string& target, const std::string& sql) {
    return std::system(
        ("psql -q -v ON_ERROR_STOP=1 '" + target + "' -c \"" + sql + "\" >/dev/null").c_str());
  };
  psql(uri, "DROP DATABASE IF EXISTS " + db);
  ASSERT_EQ(psql(uri, "CREATE DATABASE " + db), 0);
  ASSERT_EQ(psql(db_uri,
                 "CREATE TABLE Customers (CustomerId varchar(64) PRIMARY KEY, CustomerName text, "
                 "ConnectionString text NOT NULL, IsActive boolean NOT NULL DEFAULT true); "
                 "INSERT INTO Customers VALUES ('customer-001', 'A', 'sqlite:/a.db', true), "
                 "('customer-002', 'B', 'sqlite:/b.db', false)"),
            0);
  auto d = host_.CreateDiscovery(descriptor_, nlohmann::json{{"connection", db_uri}}.dump());
  ASSERT_TRUE(d.ok()) << d.error;
  DiscoverResult r = d.instance->Discover();
  d.instance.reset();
  psql(uri, "DROP DATABASE " + db + " WITH (FORCE)");
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].identifier, "customer-001");
}

}  // namespace
}  // namespace outboxd::testing
