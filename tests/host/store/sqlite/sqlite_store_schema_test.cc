// SQLite-only store behaviour: WAL mode, the partial claim index in the query plan, a missing
// database file (Unavailable, never created), a locked database, and the type coercion of INTEGER
// columns. Behaviour common to both engines is in outbox_store_*_test.cc.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/sql/sql_outbox_store.h"
#include "store/sqlite/sqlite_dialect.h"
#include "host/store/store_test_backend.h"

namespace outboxd::testing {
namespace {

using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kLongLease = seconds(30);

class SqliteStoreTest : public ::testing::Test {
 protected:
  StoreTestDb db_{Engine::kSqlite};
};

TEST_F(SqliteStoreTest, DatabaseRunsInWalMode) {
  std::unique_ptr<OutboxStore> store = db_.Open();
  std::string mode;
  db_.Raw() << "PRAGMA journal_mode", into(mode), now;
  EXPECT_EQ(mode, "wal");
}

TEST_F(SqliteStoreTest, ClaimRenewAndPendingChecksUseThePartialIndex) {
  std::unique_ptr<OutboxStore> store = db_.Open();
  sql_store::OutboxSql sql = sql_store::SqliteDialect(db_.path()).RenderSql({"", "outbox"});
  for (const std::string* statement : {&sql.claim, &sql.renew_lease, &sql.has_pending_work}) {
    std::string literal = *statement;  // parameters as literals: the plan is the same
    for (size_t pos = literal.find('?'); pos != std::string::npos; pos = literal.find('?', pos)) {
      literal.replace(pos, 1, "1");
    }
    std::vector<std::string> plan;
    std::vector<Poco::Int64> a, b, c;
    db_.Raw() << "EXPLAIN QUERY PLAN " + literal, into(a), into(b), into(c), into(plan), now;
    std::string joined;
    for (const std::string& line : plan) joined += line + "\n";
    EXPECT_NE(joined.find("ix_outbox_claim"), std::string::npos) << *statement << "\n" << joined;
  }
}

TEST_F(SqliteStoreTest, MissingFileIsUnavailableAndNotCreated) {
  StoreOptions options = StoreTestDb::Options();
  options.create_database = false;
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(db_.Location(), options, &store).ok()) << "opening is lazy";

  std::vector<OutboxMessage> out;
  Status status = store->ClaimDue(1, seconds(30), "owner", &out);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_NE(status.message().find("store 'customer-001'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("tenant database file '" + db_.path() + "' does not exist"),
            std::string::npos)
      << status.message();
  EXPECT_EQ(store->EnsureSchema().code(), Status::Code::kUnavailable);
  std::string id;
  NewMessage message;
  message.topic = "t";
  EXPECT_EQ(store->Enqueue(message, &id).code(), Status::Code::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(db_.path()));

  // Once the file exists (created by someone else), the same store works.
  std::unique_ptr<OutboxStore> creator = db_.Open();
  EXPECT_TRUE(std::filesystem::exists(db_.path()));
  EXPECT_TRUE(store->ClaimDue(1, seconds(30), "owner", &out).ok());
}

// A locked database is transient: Unavailable, naming store and operation; the connection that
// hit the error is dropped, and the store recovers once the lock is gone.
TEST_F(SqliteStoreTest, LockedDatabaseIsUnavailableAndTheStoreRecovers) {
  StoreOptions options = StoreTestDb::Options();
  options.busy_timeout = milliseconds(50);
  std::unique_ptr<OutboxStore> store = db_.Open(options);
  auto* poco = dynamic_cast<sql_store::SqlOutboxStore*>(store.get());
  ASSERT_NE(poco, nullptr);
  EnqueueN(store.get(), 1);

  db_.Exec("BEGIN IMMEDIATE");
  std::vector<OutboxMessage> out;
  Status status = store->ClaimDue(1, kLongLease, "owner-A", &out);
  db_.Exec("ROLLBACK");
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("store 'customer-001': claim failed: "), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("locked"), std::string::npos) << status.message();
  EXPECT_EQ(poco->open_connections(), 0) << "the failed connection must be discarded";
  EXPECT_TRUE(out.empty());

  ASSERT_TRUE(store->ClaimDue(1, kLongLease, "owner-A", &out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(poco->idle_connections(), 1);
}

// SQLite columns take any type; the CHECKs keep text and reals out, but text that is an integer is
// coerced by the INTEGER column's affinity and accepted.
TEST_F(SqliteStoreTest, IntegersWrittenAsTextAreCoercedAndAccepted) {
  std::unique_ptr<OutboxStore> store = db_.Open();
  db_.Exec("INSERT INTO outbox(topic, payload, due_at) VALUES ('t', 'p', '123')");
  EXPECT_EQ(db_.QueryInt("SELECT due_at FROM outbox"), 123);
  EXPECT_EQ(db_.QueryTexts("SELECT typeof(due_at) FROM outbox"),
            std::vector<std::string>{"integer"});
}

}  // namespace
}  // namespace outboxd::testing
