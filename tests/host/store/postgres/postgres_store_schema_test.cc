// PostgreSQL-only schema behaviour: the table lives in its schema (CREATE SCHEMA IF NOT EXISTS,
// "infra" by default), concurrent deployers serialise, the claim is one statement the partial
// index serves, and the optional NOTIFY trigger is installed or dropped.
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/postgres/postgres_dialect.h"
#include "host/store/store_test_backend.h"

namespace outboxd::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class PostgresStoreSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string url;
    OBX_REQUIRE_TEST_POSTGRES(&url);
    db_ = std::make_unique<StoreTestDb>(Engine::kPostgres);
  }

  // A location on the tenant whose connection string differs by application_name: the same
  // database and table under another process-wide "schema deployed" key, so the store deploys
  // again instead of trusting this process's memo (as a second outboxd process would).
  TenantLocation LocationAs(const std::string& application_name) const {
    TenantLocation location = db_->Location();
    location.connection_string = db_->ConnectionString("application_name=" + application_name);
    return location;
  }

  int64_t Triggers() {
    return db_->QueryInt(
        "SELECT COUNT(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace "
        "n "
        "ON n.oid = c.relnamespace WHERE n.nspname = '" +
        db_->schema() +
        "' AND c.relname = 'outbox' AND t.tgname = 'outbox_notify' AND NOT t.tgisinternal");
  }

  std::unique_ptr<StoreTestDb> db_;
};

// A libpq connection that LISTENs, waiting for notifications with poll() and a deadline.
class Listener {
 public:
  explicit Listener(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~Listener() { PQfinish(conn_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }

  bool Exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    return ok;
  }

  // The next notification's (channel, payload), or nullopt once `timeout` has passed.
  std::optional<std::pair<std::string, std::string>> Next(milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (PGnotify* notify = PQnotifies(conn_)) {
        std::pair<std::string, std::string> out(notify->relname, notify->extra);
        PQfreemem(notify);
        return out;
      }
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd fd{PQsocket(conn_), POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) < 0) return std::nullopt;
      if (PQconsumeInput(conn_) == 0) return std::nullopt;
    }
  }

  // The next notification whose payload is one of `payloads` (other tests running in parallel
  // notify the same channel for their own tables), or nullopt after `timeout`.
  std::optional<std::string> NextOf(const std::vector<std::string>& payloads,
                                    milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      std::optional<std::pair<std::string, std::string>> next =
          Next(std::max(left, milliseconds(0)));
      if (!next.has_value()) return std::nullopt;
      for (const std::string& payload : payloads) {
        if (next->first == sql_store::kNotifyChannel && next->second == payload) return payload;
      }
    }
  }

 private:
  PGconn* conn_;
};

TEST_F(PostgresStoreSchemaTest, TableIsCreatedInItsSchemaWithCreateSchemaIfNotExists) {
  ASSERT_FALSE(db_->TenantExists()) << "the test's schema must not exist before the store runs";
  std::unique_ptr<OutboxStore> store = db_->Open();
  EXPECT_TRUE(db_->TenantExists());
  EXPECT_EQ(db_->SchemaObjects(),
            (std::vector<std::string>{"index:ix_outbox_claim", "index:ix_outbox_failed", "table:outbox",
                                      "table:outbox_schema"}));
  // PostgreSQL types: bigserial id, timestamptz times, smallint status.
  std::vector<std::string> types = db_->QueryTexts(
      "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE "
      "table_schema = '" +
      db_->schema() +
      "' AND table_name = 'outbox' AND column_name IN "
      "('id', 'created_at', 'due_at', 'locked_until', 'status', 'attempts') ORDER BY 1");
  EXPECT_EQ(types,
            (std::vector<std::string>{"attempts integer", "created_at timestamp with time zone",
                                      "due_at timestamp with time zone", "id bigint",
                                      "locked_until timestamp with time zone", "status smallint"}));
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM pg_class WHERE relkind = 'S' AND relnamespace = "
                          "(SELECT oid FROM pg_namespace WHERE nspname = '" +
                          db_->schema() + "')"),
            1)
      << "id is a bigserial";

  // A second table in the schema that now exists: CREATE SCHEMA IF NOT EXISTS is idempotent.
  TenantLocation second = db_->Location();
  second.table_name = "outbox_two";
  std::unique_ptr<OutboxStore> other = StoreTestDb::OpenAt(second, StoreTestDb::Options());
  EnqueueN(other.get(), 1);
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM " + db_->Quoted("outbox_two")), 1);
  EXPECT_EQ(db_->CountRows(), 0);

  sql_store::PostgresTarget target;
  ASSERT_TRUE(sql_store::ParsePostgresConnection(db_->ConnectionString(), &target).ok());
  sql_store::OutboxSql sql =
      sql_store::PostgresDialect(target, false).RenderSql({db_->schema(), "outbox"});
  ASSERT_EQ(sql.prepare_schema.size(), 3u);
  EXPECT_NE(sql.prepare_schema[0].find("pg_advisory_xact_lock"), std::string::npos);
  EXPECT_EQ(sql.prepare_schema[1], "CREATE SCHEMA IF NOT EXISTS \"" + db_->schema() + "\"");
  EXPECT_EQ(sql.prepare_schema[2], "SET LOCAL lock_timeout = '5s'");
}

TEST_F(PostgresStoreSchemaTest, MissingSchemaWithoutSchemaCreationIsNotFound) {
  StoreOptions options = StoreTestDb::Options();
  options.create_schema = false;
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(db_->Location(), options, &store).ok());
  std::vector<OutboxMessage> out;
  Status claim = store->ClaimDue(1, seconds(30), "owner", &out);
  EXPECT_EQ(claim.code(), Status::Code::kNotFound) << claim.ToString();
  StoreStats stats;
  Status stats_status = store->GetStats(&stats);
  EXPECT_EQ(stats_status.code(), Status::Code::kNotFound) << stats_status.ToString();
  EXPECT_FALSE(db_->TenantExists()) << "nothing is created without create_schema";
}

TEST_F(PostgresStoreSchemaTest, DefaultSchemaIsInfra) {
  // A database of its own: "infra" is a fixed name, and tests running in parallel must not share
  // it.
  StoreTestDb own(Engine::kPostgres, "outbox", "customer-001", /*own_database=*/true);
  TenantLocation location;
  location.identifier = "customer-001";
  location.connection_string = own.ConnectionString();
  ASSERT_EQ(location.schema_name, "infra");
  std::unique_ptr<OutboxStore> store = StoreTestDb::OpenAt(location, StoreTestDb::Options());
  EnqueueN(store.get(), 3);
  EXPECT_EQ(own.QueryInt("SELECT COUNT(*) FROM infra.outbox"), 3);
}

TEST_F(PostgresStoreSchemaTest, ConcurrentDeployersOnAFreshSchemaAllSucceed) {
  constexpr int kDeployers = 8;
  std::vector<std::unique_ptr<OutboxStore>> stores(kDeployers);
  for (int i = 0; i < kDeployers; ++i) {
    ASSERT_TRUE(OpenOutboxStore(LocationAs("deployer_" + std::to_string(i)), StoreTestDb::Options(),
                                &stores[i])
                    .ok());
  }
  ASSERT_FALSE(db_->TenantExists());
  StartGate gate(kDeployers);
  std::vector<Status> results(kDeployers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kDeployers; ++i) {
    threads.emplace_back([&, i] {
      gate.ArriveAndWait();
      results[i] = stores[i]->EnsureSchema();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kDeployers; ++i)
    EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].ToString();
  EXPECT_EQ(db_->SchemaObjects(),
            (std::vector<std::string>{"index:ix_outbox_claim", "index:ix_outbox_failed", "table:outbox",
                                      "table:outbox_schema"}));
  EnqueueN(stores[0].get(), 1);
  std::vector<OutboxMessage> claimed;
  ASSERT_TRUE(stores[kDeployers - 1]->ClaimDue(5, seconds(30), "owner", &claimed).ok());
  EXPECT_EQ(claimed.size(), 1u);
}

TEST_F(PostgresStoreSchemaTest, ClaimIsOneStatementServedByThePartialIndex) {
  std::unique_ptr<OutboxStore> store = db_->Open();
  sql_store::PostgresTarget target;
  ASSERT_TRUE(sql_store::ParsePostgresConnection(db_->ConnectionString(), &target).ok());
  sql_store::OutboxSql sql =
      sql_store::PostgresDialect(target, false).RenderSql({db_->schema(), "outbox"});
  EXPECT_EQ(sql.claim.find(';'), std::string::npos) << sql.claim;
  EXPECT_NE(sql.claim.find("FOR UPDATE SKIP LOCKED"), std::string::npos) << sql.claim;
  EXPECT_NE(sql.claim.find("ORDER BY created_at, id"), std::string::npos) << sql.claim;
  EXPECT_NE(sql.claim.find("RETURNING"), std::string::npos) << sql.claim;
  EXPECT_NE(sql.mark_dispatched.find("= ANY($2::bigint[])"), std::string::npos);
  EXPECT_NE(sql.release.find("= ANY($1::bigint[])"), std::string::npos);

  // Whether the index can serve the statement, not whether a tiny table makes it the cheapest:
  // with sequential scans priced out, the plan uses the partial index only if the statement's
  // WHERE implies the index predicate.
  db_->InsertMany(50);
  db_->Exec("ANALYZE " + db_->Table());
  db_->Exec("SET enable_seqscan = off");
  for (const std::string* statement : {&sql.claim, &sql.has_pending_work, &sql.renew_lease}) {
    // Every parameter is cast in the SQL ($n::type): a literal of that type plans the same.
    std::string literal =
        std::regex_replace(*statement, std::regex(R"(\$\d+::text)"), "'owner'::text");
    literal = std::regex_replace(literal, std::regex(R"(\$\d+::(bigint|integer))"), "10::$1");
    ASSERT_EQ(literal.find('$'), std::string::npos) << literal;
    std::string plan;
    for (const std::string& line : db_->QueryTexts("EXPLAIN " + literal)) plan += line + "\n";
    EXPECT_NE(plan.find("ix_outbox_claim"), std::string::npos) << *statement << "\n" << plan;
    if (statement == &sql.claim) {
      EXPECT_NE(plan.find("LockRows"), std::string::npos) << plan;
    }
  }
}

// SKIP LOCKED: a row locked by another transaction (a producer's, another claimer's) is passed
// over at once instead of making the claim wait, and is claimable once the lock is gone.
TEST_F(PostgresStoreSchemaTest, ClaimSkipsRowsLockedElsewhereWithoutWaiting) {
  std::unique_ptr<OutboxStore> store = db_->Open();
  int64_t locked = db_->InsertRow("topic, payload, created_at", "'t', 'p', " + db_->Time(1000));
  int64_t unlocked = db_->InsertRow("topic, payload, created_at", "'t', 'p', " + db_->Time(2000));
  db_->Exec("BEGIN");
  ASSERT_EQ(db_->QueryInt("SELECT id FROM " + db_->Table() + " WHERE id = " +
                          std::to_string(locked) + " FOR UPDATE"),
            locked);
  std::vector<OutboxMessage> claimed;
  auto claim = std::async(std::launch::async,
                          [&] { return store->ClaimDue(10, seconds(30), "owner", &claimed); });
  bool finished = claim.wait_for(seconds(10)) == std::future_status::ready;
  db_->Exec("ROLLBACK");  // unblocks a waiting claim, so the test ends either way
  Status status = claim.get();
  ASSERT_TRUE(finished) << "the claim waited for the locked row";
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Ids(claimed), std::vector<int64_t>{unlocked});

  claimed.clear();
  ASSERT_TRUE(store->ClaimDue(10, seconds(30), "owner", &claimed).ok());
  EXPECT_EQ(Ids(claimed), std::vector<int64_t>{locked});
}

TEST_F(PostgresStoreSchemaTest, NotifyTriggerSignalsInsertsWhenEnabled) {
  StoreOptions options = StoreTestDb::Options();
  options.notify_trigger = true;
  std::unique_ptr<OutboxStore> store = db_->Open(options);
  EXPECT_EQ(Triggers(), 1);

  Listener listener(db_->cluster().Conninfo(db_->database(), "obx_test_listen"));
  ASSERT_TRUE(listener.ok()) << listener.error();
  ASSERT_TRUE(listener.Exec(std::string("LISTEN ") + sql_store::kNotifyChannel));
  const std::string mine = db_->schema() + ".outbox";

  NewMessage message;
  message.topic = "Orders.Created";
  std::string id;
  ASSERT_TRUE(store->Enqueue(message, &id).ok());
  EXPECT_EQ(listener.NextOf({mine}, seconds(5)), mine) << "no notification after Enqueue";

  // A producer's plain INSERT notifies as well (the trigger is on the table, not in the store).
  db_->InsertRow("topic, payload", "'t', 'p'");
  EXPECT_EQ(listener.NextOf({mine}, seconds(5)), mine) << "no notification after a plain INSERT";
}

TEST_F(PostgresStoreSchemaTest, NotifyTriggerIsAbsentWhenDisabledAndDroppedWhenTurnedOff) {
  Listener listener(db_->cluster().Conninfo(db_->database(), "obx_test_listen"));
  ASSERT_TRUE(listener.ok()) << listener.error();
  ASSERT_TRUE(listener.Exec(std::string("LISTEN ") + sql_store::kNotifyChannel));
  const std::string mine = db_->schema() + ".outbox";
  const std::string sentinel = "sentinel-" + db_->schema();
  // Notifications are delivered in commit order: when the sentinel NOTIFY (sent after the insert
  // committed) arrives first, the insert did not notify. No fixed sleep needed.
  auto insert_notifies = [&] {
    db_->InsertRow("topic, payload", "'t', 'p'");
    EXPECT_TRUE(listener.Exec(std::string("NOTIFY ") + sql_store::kNotifyChannel + ", '" +
                              sentinel + "'"));
    std::optional<std::string> first = listener.NextOf({mine, sentinel}, seconds(5));
    EXPECT_TRUE(first.has_value()) << "not even the sentinel arrived";
    if (first == mine) {
      EXPECT_EQ(listener.NextOf({sentinel}, seconds(5)), sentinel);
    }
    return first == mine;
  };

  std::unique_ptr<OutboxStore> plain = db_->Open();
  EXPECT_EQ(Triggers(), 0);
  EXPECT_FALSE(insert_notifies());

  StoreOptions on = StoreTestDb::Options();
  on.notify_trigger = true;
  std::unique_ptr<OutboxStore> notifying = StoreTestDb::OpenAt(LocationAs("notify_on"), on);
  EXPECT_EQ(Triggers(), 1);
  EXPECT_TRUE(insert_notifies()) << "the sentinel check must see a notification when there is one";

  StoreOptions off = StoreTestDb::Options();
  off.notify_trigger = false;
  std::unique_ptr<OutboxStore> quiet = StoreTestDb::OpenAt(LocationAs("notify_off"), off);
  EXPECT_EQ(Triggers(), 0) << "deploying with notify_trigger = false drops the trigger";
  EXPECT_FALSE(insert_notifies());
  EXPECT_EQ(db_->CountRows(), 3);
}

}  // namespace
}  // namespace outboxd::testing
