// The SQLite table contract: defaults a plain-SQL producer relies on, CHECK constraints, idempotent
// schema creation, table naming, the claim index, and how a missing file or table is reported.
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/poco/sqlite_dialect.h"
#include "store_test_support.h"

namespace outboxd::testing {
namespace {

using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using Poco::Data::Keywords::use;
using std::chrono::seconds;

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

std::vector<std::string> SchemaObjects(StoreTestDb& db) {
  std::vector<std::string> names;
  Poco::Data::Statement stmt(db.Raw());
  stmt << "SELECT type || ':' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
          "ORDER BY 1",
      into(names);
  stmt.execute();
  return names;
}

TEST(SqliteStoreSchemaTest, ProducerEnqueuesWithPlainSqlAndDefaults) {
  StoreTestDb db;
  std::unique_ptr<OutboxStore> store = db.Open();
  std::string topic = "Orders.Created";
  std::string payload = R"({"id":7})";
  int64_t before = db.DbNow();
  db.Raw() << "INSERT INTO outbox(topic, payload) VALUES (?, ?)", use(topic), use(payload), now;
  int64_t after = db.DbNow();

  StoredRow row = db.Row(db.QueryInt("SELECT MAX(id) FROM outbox"));
  EXPECT_TRUE(std::regex_match(row.message_id, kUuidV4)) << row.message_id;
  EXPECT_GE(row.created_at, before);
  EXPECT_LE(row.created_at, after);
  EXPECT_EQ(row.status, 0);
  EXPECT_EQ(row.attempts, 0);
  EXPECT_FALSE(row.due_at.has_value());
  EXPECT_FALSE(row.correlation_id.has_value());
  EXPECT_FALSE(row.owner_token.has_value());

  std::vector<OutboxMessage> claimed;
  ASSERT_TRUE(store->ClaimDue(10, seconds(30), "owner", &claimed).ok());
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].topic, topic);
  EXPECT_EQ(claimed[0].payload, payload);
  EXPECT_EQ(claimed[0].message_id, row.message_id);
}

TEST(SqliteStoreSchemaTest, DefaultMessageIdsAreDistinctVersion4Uuids) {
  StoreTestDb db;
  std::unique_ptr<OutboxStore> store = db.Open();
  db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
          "INSERT INTO outbox(topic, payload) SELECT 't', 'p' FROM n");
  std::vector<std::string> ids;
  db.Raw() << "SELECT message_id FROM outbox", into(ids), now;
  ASSERT_EQ(ids.size(), 500u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 500u);
  for (const std::string& id : ids) EXPECT_TRUE(std::regex_match(id, kUuidV4)) << id;
}

TEST(SqliteStoreSchemaTest, ChecksRejectMalformedRowsInTheProducersTransaction) {
  StoreTestDb db;
  std::unique_ptr<OutboxStore> store = db.Open();
  const std::vector<std::string> malformed = {
      "(topic, payload, due_at) VALUES ('t', 'p', '2024-01-01')",
      "(topic, payload, due_at) VALUES ('t', 'p', 1.5)",
      "(topic, payload, created_at) VALUES ('t', 'p', 'yesterday')",
      "(topic, payload, status) VALUES ('t', 'p', 7)",
      "(topic, payload, status) VALUES ('t', 'p', 1)",  // in progress without owner and lease
      "(topic, payload, attempts) VALUES ('t', 'p', -1)",
      "(topic, payload) VALUES ('', 'p')",
      "(topic, payload) VALUES ('t', NULL)",
      "(topic, payload) VALUES (NULL, 'p')",
      "(topic, payload, next_attempt_at) VALUES ('t', 'p', 'soon')",
  };
  for (const std::string& values : malformed) {
    db.Exec("BEGIN");
    db.Exec("INSERT INTO outbox(topic, payload) VALUES ('ok', 'ok')");
    EXPECT_THROW(db.Exec("INSERT INTO outbox" + values), Poco::Exception) << values;
    db.Exec("ROLLBACK");
  }
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM outbox"), 0);
  // Integers written as text are coerced by the INTEGER column and accepted.
  db.Exec("INSERT INTO outbox(topic, payload, due_at) VALUES ('t', 'p', '123')");
  EXPECT_EQ(db.QueryInt("SELECT due_at FROM outbox"), 123);
}

TEST(SqliteStoreSchemaTest, SchemaCreationIsIdempotentAcrossStores) {
  StoreTestDb db;
  std::unique_ptr<OutboxStore> first = db.Open();
  ASSERT_TRUE(first->EnsureSchema().ok());
  ASSERT_TRUE(first->EnsureSchema().ok());
  std::unique_ptr<OutboxStore> second = db.Open();
  ASSERT_TRUE(second->EnsureSchema().ok());
  EXPECT_EQ(SchemaObjects(db),
            (std::vector<std::string>{"index:ix_outbox_claim", "table:outbox"}));
  std::string index_sql;
  db.Raw() << "SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_claim'", into(index_sql), now;
  EXPECT_NE(index_sql.find("WHERE status IN (0, 1)"), std::string::npos) << index_sql;
}

TEST(SqliteStoreSchemaTest, DatabaseRunsInWalMode) {
  StoreTestDb db;
  std::unique_ptr<OutboxStore> store = db.Open();
  std::string mode;
  db.Raw() << "PRAGMA journal_mode", into(mode), now;
  EXPECT_EQ(mode, "wal");
}

TEST(SqliteStoreSchemaTest, ClaimRenewAndPendingChecksUseThePartialIndex) {
  StoreTestDb db;
  std::unique_ptr<OutboxStore> store = db.Open();
  poco_store::OutboxSql sql = poco_store::SqliteDialect(db.path()).RenderSql({"", "outbox"});
  for (const std::string* statement : {&sql.claim, &sql.renew_lease, &sql.has_pending_work}) {
    std::string literal = *statement;  // parameters as literals: the plan is the same
    for (size_t pos = literal.find('?'); pos != std::string::npos; pos = literal.find('?', pos)) {
      literal.replace(pos, 1, "1");
    }
    std::vector<std::string> plan;
    std::vector<Poco::Int64> a, b, c;
    db.Raw() << "EXPLAIN QUERY PLAN " + literal, into(a), into(b), into(c), into(plan), now;
    std::string joined;
    for (const std::string& line : plan) joined += line + "\n";
    EXPECT_NE(joined.find("ix_outbox_claim"), std::string::npos) << *statement << "\n" << joined;
  }
}

TEST(SqliteStoreSchemaTest, CustomTableNameIsUsedForTableAndIndex) {
  StoreTestDb db("tenant_outbox");
  std::unique_ptr<OutboxStore> store = db.Open();
  EnqueueN(store.get(), 2);
  std::vector<OutboxMessage> claimed;
  ASSERT_TRUE(store->ClaimDue(10, seconds(30), "owner", &claimed).ok());
  EXPECT_EQ(claimed.size(), 2u);
  EXPECT_EQ(SchemaObjects(db), (std::vector<std::string>{"index:ix_tenant_outbox_claim",
                                                         "table:tenant_outbox"}));
}

TEST(SqliteStoreSchemaTest, BadTableOrSchemaNamesAreRejected) {
  StoreTestDb db;
  for (const std::string& name :
       {std::string(), std::string("1abc"), std::string("a-b"), std::string("a b"),
        std::string("outbox; DROP TABLE x"), std::string("\"outbox\""), std::string("t\xc3\xa4"),
        std::string(64, 'a')}) {
    StoreLocation location = db.Location();
    location.table_name = name;
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(location, StoreTestDb::Options(), &store);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << name;
    EXPECT_NE(status.message().find("table name '" + name + "'"), std::string::npos)
        << status.message();
    EXPECT_EQ(store, nullptr);
  }
  StoreLocation location = db.Location();
  location.schema_name = "in fra";
  std::unique_ptr<OutboxStore> store;
  EXPECT_EQ(OpenOutboxStore(location, StoreTestDb::Options(), &store).code(),
            Status::Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(db.path()));
}

TEST(SqliteStoreSchemaTest, MissingFileIsUnavailableAndNotCreated) {
  StoreTestDb db;
  StoreOptions options = StoreTestDb::Options();
  options.create_database = false;
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(db.Location(), options, &store).ok()) << "opening is lazy";

  std::vector<OutboxMessage> out;
  Status status = store->ClaimDue(1, seconds(30), "owner", &out);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_NE(status.message().find("store 'customer-001'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("tenant database file '" + db.path() + "' does not exist"),
            std::string::npos)
      << status.message();
  EXPECT_EQ(store->EnsureSchema().code(), Status::Code::kUnavailable);
  std::string id;
  NewMessage message;
  message.topic = "t";
  EXPECT_EQ(store->Enqueue(message, &id).code(), Status::Code::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(db.path()));

  // Once the file exists (created by someone else), the same store works.
  std::unique_ptr<OutboxStore> creator = db.Open();
  EXPECT_TRUE(std::filesystem::exists(db.path()));
  EXPECT_TRUE(store->ClaimDue(1, seconds(30), "owner", &out).ok());
}

TEST(SqliteStoreSchemaTest, MissingTableWithoutSchemaCreationIsNotFound) {
  StoreTestDb db;
  db.Exec("CREATE TABLE unrelated (x INTEGER)");
  StoreOptions options = StoreTestDb::Options();
  options.create_schema = false;
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(db.Location(), options, &store).ok());
  std::vector<OutboxMessage> out;
  Status status = store->ClaimDue(1, seconds(30), "owner", &out);
  EXPECT_EQ(status.code(), Status::Code::kNotFound) << status.ToString();
  EXPECT_NE(status.message().find("no such table"), std::string::npos) << status.message();
}

TEST(SqliteStoreSchemaTest, ForeignTableWithTheSameNameIsRejected) {
  StoreTestDb db;
  db.Exec("CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT)");
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(db.Location(), StoreTestDb::Options(), &store).ok());
  Status status = store->EnsureSchema();
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("missing columns: message_id, topic, payload"),
            std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace outboxd::testing
