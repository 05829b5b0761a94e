// The table contract on each engine: defaults a plain-SQL producer relies on, CHECK constraints,
// idempotent schema creation, table naming, and how a missing or foreign table is reported.
// SQLite-only behaviour (WAL, the query plan, the missing file) is in sqlite_store_schema_test.cc,
// PostgreSQL-only behaviour (schemas, concurrent deployers, the notify trigger) in
// postgres_store_schema_test.cc.
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store_test_backend.h"

namespace outboxd::testing {
namespace {

using Poco::Data::Keywords::now;
using Poco::Data::Keywords::use;
using std::chrono::seconds;

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

class OutboxStoreSchemaTest : public EngineTest {};

OBX_INSTANTIATE_FOR_ENGINES(OutboxStoreSchemaTest);

TEST_P(OutboxStoreSchemaTest, ProducerEnqueuesWithPlainSqlAndDefaults) {
  std::unique_ptr<StoreTestDb> db = NewDb();
  std::unique_ptr<OutboxStore> store = db->Open();
  std::string topic = "Orders.Created";
  std::string payload = R"({"id":7})";
  int64_t before = db->DbNow();
  db->Raw() << "INSERT INTO " + db->Table() + " (topic, payload) VALUES (" + db->P(1) + ", " +
                   db->P(2) + ")",
      use(topic), use(payload), now;
  int64_t after = db->DbNow();

  StoredRow row = db->Row(db->QueryInt("SELECT MAX(id) FROM " + db->Table()));
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
  EXPECT_EQ(claimed[0].created_at_ms, row.created_at);
}

TEST_P(OutboxStoreSchemaTest, DefaultMessageIdsAreDistinctVersion4Uuids) {
  std::unique_ptr<StoreTestDb> db = NewDb();
  std::unique_ptr<OutboxStore> store = db->Open();
  db->InsertMany(500);
  std::vector<std::string> ids = db->QueryTexts("SELECT message_id FROM " + db->Table());
  ASSERT_EQ(ids.size(), 500u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 500u);
  for (const std::string& id : ids) EXPECT_TRUE(std::regex_match(id, kUuidV4)) << id;
}

TEST_P(OutboxStoreSchemaTest, ChecksRejectMalformedRowsInTheProducersTransaction) {
  std::unique_ptr<StoreTestDb> db = NewDb();
  std::unique_ptr<OutboxStore> store = db->Open();
  std::vector<std::string> malformed = {
      "(topic, payload, status) VALUES ('t', 'p', 7)",
      "(topic, payload, status) VALUES ('t', 'p', -1)",
      "(topic, payload, status) VALUES ('t', 'p', 1)",  // in progress without owner and lease
      "(topic, payload, status, owner_token) VALUES ('t', 'p', 1, 'o')",  // ... without lease
      "(topic, payload, attempts) VALUES ('t', 'p', -1)",
      "(topic, payload) VALUES ('', 'p')",
      "(topic, payload) VALUES ('t', NULL)",
      "(topic, payload) VALUES (NULL, 'p')",
      "(topic, payload, message_id) VALUES ('t', 'p', '')",
      "(topic, payload, due_at) VALUES ('t', 'p', 'soon')",
      "(topic, payload, next_attempt_at) VALUES ('t', 'p', 'soon')",
      "(topic, payload, due_at) VALUES ('t', 'p', 1.5)",
  };
  if (db->engine() == Engine::kSqlite) {
    // SQLite columns take any type: the CHECKs are what keeps text out of the time columns.
    malformed.push_back("(topic, payload, due_at) VALUES ('t', 'p', '2024-01-01')");
    malformed.push_back("(topic, payload, created_at) VALUES ('t', 'p', 'yesterday')");
    malformed.push_back("(topic, payload) VALUES ('t', x'00')");
  }
  // Rejected by a constraint or the column type, not by a mistake in the statement.
  const std::regex rejected(
      "CHECK constraint failed|NOT NULL constraint failed|violates check constraint|"
      "violates not-null constraint|invalid input syntax for type timestamp with time zone|"
      "column \"(due_at|next_attempt_at)\" is of type timestamp with time zone");
  for (const std::string& values : malformed) {
    db->Exec("BEGIN");
    db->Exec("INSERT INTO " + db->Table() + " (topic, payload) VALUES ('ok', 'ok')");
    try {
      db->Exec("INSERT INTO " + db->Table() + " " + values);
      ADD_FAILURE() << "accepted: " << values;
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(std::regex_search(e.what(), rejected)) << values << ": " << e.what();
    }
    db->Exec("ROLLBACK");
  }
  EXPECT_EQ(db->CountRows(), 0) << "the producer's whole transaction rolled back";
  // A well-formed row with every optional column set is accepted.
  db->InsertRow("topic, payload, status, owner_token, locked_until, due_at, attempts",
                "'t', 'p', 1, 'o', " + db->NowPlus(1000) + ", " + db->NowPlus(0) + ", 2");
  EXPECT_EQ(db->CountRows("status = 1 AND attempts = 2"), 1);
}

TEST_P(OutboxStoreSchemaTest, SchemaCreationIsIdempotentAcrossStores) {
  std::unique_ptr<StoreTestDb> db = NewDb();
  std::unique_ptr<OutboxStore> first = db->Open();
  ASSERT_TRUE(first->EnsureSchema().ok());
  ASSERT_TRUE(first->EnsureSchema().ok());
  std::unique_ptr<OutboxStore> second = db->Open();
  ASSERT_TRUE(second->EnsureSchema().ok());
  EXPECT_EQ(db->SchemaObjects(),
            (std::vector<std::string>{"index:ix_outbox_claim", "index:ix_outbox_failed", "table:outbox",
                                      "table:outbox_schema"}));
  std::string index_sql = db->IndexDefinition("ix_outbox_claim");
  // Done and failed rows are not in the claim index (PostgreSQL prints IN as = ANY).
  const std::string partial =
      db->is_postgres() ? "WHERE (status = ANY (ARRAY[0, 1]))" : "WHERE status IN (0, 1)";
  EXPECT_NE(index_sql.find(partial), std::string::npos) << index_sql;
  EXPECT_NE(index_sql.find("(created_at, id)"), std::string::npos) << index_sql;

  // A store that does not remember the deployment (memo forgotten after the table vanished)
  // deploys again on the same database.
  db->Exec("DROP TABLE " + db->Table());
  std::vector<OutboxMessage> out;
  Status gone = second->ClaimDue(1, seconds(30), "owner", &out);
  EXPECT_EQ(gone.code(), Status::Code::kNotFound) << gone.ToString();
  EXPECT_TRUE(second->ClaimDue(1, seconds(30), "owner", &out).ok());
  EXPECT_EQ(db->SchemaObjects(),
            (std::vector<std::string>{"index:ix_outbox_claim", "index:ix_outbox_failed", "table:outbox",
                                      "table:outbox_schema"}));
}

TEST_P(OutboxStoreSchemaTest, CustomTableNameIsUsedForTableAndIndex) {
  std::unique_ptr<StoreTestDb> db = NewDb("tenant_outbox");
  std::unique_ptr<OutboxStore> store = db->Open();
  EnqueueN(store.get(), 2);
  std::vector<OutboxMessage> claimed;
  ASSERT_TRUE(store->ClaimDue(10, seconds(30), "owner", &claimed).ok());
  EXPECT_EQ(claimed.size(), 2u);
  EXPECT_EQ(db->SchemaObjects(),
            (std::vector<std::string>{"index:ix_tenant_outbox_claim", "index:ix_tenant_outbox_failed",
                                      "table:outbox_schema", "table:tenant_outbox"}));
  EXPECT_EQ(db->CountRows("status = 1"), 2);
}

TEST_P(OutboxStoreSchemaTest, BadTableOrSchemaNamesAreRejected) {
  std::unique_ptr<StoreTestDb> db = NewDb();
  for (const std::string& name :
       {std::string(), std::string("1abc"), std::string("a-b"), std::string("a b"),
        std::string("outbox; DROP TABLE x"), std::string("\"outbox\""), std::string("t\xc3\xa4"),
        std::string(64, 'a')}) {
    TenantLocation location = db->Location();
    location.table_name = name;
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(location, StoreTestDb::Options(), &store);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << name;
    EXPECT_NE(status.message().find("table name '" + name + "'"), std::string::npos)
        << status.message();
    EXPECT_EQ(store, nullptr);
  }
  for (const std::string& name :
       {std::string("in fra"), std::string("x\"; DROP SCHEMA y; --"), std::string(64, 's')}) {
    TenantLocation location = db->Location();
    location.schema_name = name;
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(location, StoreTestDb::Options(), &store);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << name;
    EXPECT_NE(status.message().find("schema name '" + name + "'"), std::string::npos)
        << status.message();
    EXPECT_EQ(store, nullptr);
  }
  EXPECT_FALSE(db->TenantExists()) << "a rejected name must not touch the database";
}

TEST_P(OutboxStoreSchemaTest, MissingTableWithoutSchemaCreationIsNotFound) {
  std::unique_ptr<StoreTestDb> db = NewDb();
  db->CreateForeignTable("unrelated", "x INTEGER");
  StoreOptions options = StoreTestDb::Options();
  options.create_schema = false;
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(db->Location(), options, &store).ok());
  std::vector<OutboxMessage> out;
  Status status = store->ClaimDue(1, seconds(30), "owner", &out);
  EXPECT_EQ(status.code(), Status::Code::kNotFound) << status.ToString();
  EXPECT_NE(status.message().find("store 'customer-001': claim failed"), std::string::npos)
      << status.message();
  const std::string missing = db->is_postgres()
                                  ? "relation \"" + db->schema() + ".outbox\" does not exist"
                                  : "no such table";
  EXPECT_NE(status.message().find(missing), std::string::npos) << status.message();
  NewMessage message;
  message.topic = "t";
  std::string id;
  EXPECT_EQ(store->Enqueue(message, &id).code(), Status::Code::kNotFound);
  EXPECT_EQ(db->SchemaObjects(), (std::vector<std::string>{"table:unrelated"}))
      << "nothing was created";
}

TEST_P(OutboxStoreSchemaTest, ForeignTableWithTheSameNameIsRejected) {
  std::unique_ptr<StoreTestDb> db = NewDb();
  db->CreateForeignTable("outbox", "id INTEGER PRIMARY KEY, body TEXT");
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(db->Location(), StoreTestDb::Options(), &store).ok());
  Status status = store->EnsureSchema();
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("missing columns: message_id, topic, payload"), std::string::npos)
      << status.message();
  std::vector<OutboxMessage> out;
  EXPECT_EQ(store->ClaimDue(1, seconds(30), "owner", &out).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(db->SchemaObjects(), (std::vector<std::string>{"table:outbox"}))
      << "the foreign table is not altered and no index is added";
}

}  // namespace
}  // namespace outboxd::testing
