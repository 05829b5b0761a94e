// Schema versions and in-place upgrades on both engines (docs/store.md, "Schema versions"): a table
// made with outboxd 0.1.0's exact DDL (tests/host/store/fixtures/outbox_0_1_0.*.sql), filled with
// rows in every status, is upgraded to the current version while a producer keeps inserting; every
// row stays intact, every index is there and valid, a second apply changes nothing, and a table of
// a newer version is refused and left alone.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/sql/sql_dialect.h"
#include "store_test_backend.h"

namespace outboxd::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The fixture's statements for `db`'s engine, names substituted.
std::vector<std::string> FixtureStatements(const StoreTestDb& db, const std::string& table) {
  const std::string file = db.is_postgres() ? "outbox_0_1_0.postgres.sql" : "outbox_0_1_0.sqlite.sql";
  std::ifstream in(SourceDir() / "tests/host/store/fixtures" / file);
  EXPECT_TRUE(in.good()) << "cannot read fixture " << file << " under " << SourceDir();
  std::vector<std::string> statements(1);
  for (std::string line; std::getline(in, line);) {
    if (line == "-- statement") {
      statements.emplace_back();
      continue;
    }
    if (line.rfind("--", 0) == 0) continue;  // the header comment
    statements.back() += line + "\n";
  }
  for (std::string& statement : statements) {
    statement = sql_store::SubstituteSql(statement, "table", table);
    if (db.is_postgres()) statement = sql_store::SubstituteSql(statement, "schema", db.schema());
  }
  return statements;
}

void CreateVersion1Table(StoreTestDb* db, const std::string& table = "outbox") {
  db->Exec("BEGIN");
  for (const std::string& statement : FixtureStatements(*db, table)) db->Exec(statement);
  db->Exec("COMMIT");
}

class OutboxStoreUpgradeTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = NewDb();
    CreateVersion1Table(db_.get());
  }

  // A location on the same table that this process has not deployed yet (another spelling of
  // the database: the process-wide memo key differs), as a second outboxd process would see it.
  TenantLocation FreshLocation() {
    static int counter = 0;
    TenantLocation location = db_->Location();
    if (db_->is_postgres()) {
      location.connection_string =
          db_->ConnectionString("application_name=upgrade_" + std::to_string(counter++));
    } else {
      std::string dots;
      for (int i = 0; i <= counter; ++i) dots += "./";
      ++counter;
      std::filesystem::path path(db_->path());
      location.connection_string =
          "sqlite:" + (path.parent_path() / dots).string() + path.filename().string();
    }
    return location;
  }

  Status ApplyFresh(const StoreOptions& options = StoreTestDb::Options()) {
    std::unique_ptr<OutboxStore> store;
    Status opened = OpenOutboxStore(FreshLocation(), options, &store);
    if (!opened.ok()) return opened;
    return store->EnsureSchema();
  }

  int SchemaVersion(const std::string& table = "outbox") {
    TenantLocation location = FreshLocation();
    location.table_name = table;
    StoreOptions options = StoreTestDb::Options();
    options.create_schema = false;
    std::unique_ptr<OutboxStore> store;
    EXPECT_TRUE(OpenOutboxStore(location, options, &store).ok());
    SchemaStatus status;
    Status read = store->GetSchemaStatus(&status);
    EXPECT_TRUE(read.ok()) << read.ToString();
    EXPECT_EQ(status.binary_version, kOutboxSchemaVersion);
    return status.current_version;
  }

  // Every version-1 column of every row with id <= max_id, as one text per row.
  std::vector<std::string> Dump(int64_t max_id) {
    std::string columns;
    for (const std::string& column : sql_store::RequiredOutboxColumns()) {
      const bool time = column == "created_at" || column == "due_at" ||
                        column == "next_attempt_at" || column == "locked_until" ||
                        column == "processed_at";
      std::string value = time ? db_->MsOf(column) : column;
      if (db_->is_postgres()) value = "(" + value + ")::text";
      columns += (columns.empty() ? "" : " || '|' || ") + ("COALESCE(" + value + ", '~')");
    }
    return db_->QueryTexts("SELECT " + columns + " FROM " + db_->Table() + " WHERE id <= " +
                           std::to_string(max_id) + " ORDER BY id");
  }

  // A catalog stamp that changes with any DDL on the tenant: SQLite's schema_version; on
  // PostgreSQL the pg_class rows (xmin, relfilenode) of the table and its indexes and the trigger.
  std::string DdlStamp() {
    if (!db_->is_postgres()) {
      return std::to_string(db_->QueryInt("SELECT schema_version FROM pragma_schema_version"));
    }
    std::vector<std::string> rows = db_->QueryTexts(
        "SELECT c.relname || ':' || c.xmin::text || ':' || c.relfilenode::text FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '" + db_->schema() +
        "' UNION ALL SELECT t.tgname || ':' || t.xmin::text FROM pg_trigger t WHERE NOT "
        "t.tgisinternal AND t.tgrelid = to_regclass('\"" + db_->schema() +
        "\".\"outbox\"') ORDER BY 1");
    std::string stamp;
    for (const std::string& row : rows) stamp += row + "\n";
    return stamp;
  }

  // Rows in every status, every optional column set somewhere; returns the highest id.
  int64_t FillEveryStatus() {
    const std::string now = db_->NowPlus(0);
    db_->InsertRow("topic, payload", "'plain', ''");
    db_->InsertRow("message_id, topic, payload, correlation_id, due_at",
                   "'fixed-id', 'delayed', '{\"a\": 1}', 'corr', " + db_->NowPlus(3600000));
    db_->InsertRow("topic, payload, attempts, next_attempt_at, last_error",
                   "'retry', 'p', 2, " + db_->NowPlus(60000) + ", 'transient'");
    db_->InsertRow("topic, payload, status, attempts, owner_token, locked_until",
                   "'busy', 'p', 1, 1, 'worker-1', " + db_->NowPlus(30000));
    db_->InsertRow("topic, payload, status, attempts, processed_at, processed_by, last_error",
                   "'done', 'p', 2, 1, " + now + ", 'w', 'earlier failure'");
    db_->InsertRow("topic, payload, status, attempts, processed_at, processed_by, last_error",
                   "'dead', 'p\xc3\xa4', 3, 5, " + now + ", 'w:FAILED', 'poison'");
    db_->InsertMany(3000, "bulk");
    db_->Exec("UPDATE " + db_->Table() + " SET status = 3, processed_at = created_at, "
              "processed_by = 'w:FAILED', attempts = 3, last_error = 'e' "
              "WHERE topic = 'bulk' AND id % 7 = 0");
    db_->Exec("UPDATE " + db_->Table() + " SET status = 2, processed_at = created_at, "
              "processed_by = 'w' WHERE topic = 'bulk' AND id % 7 = 1");
    return db_->QueryInt("SELECT MAX(id) FROM " + db_->Table());
  }

  // Every index of the tenant agrees with its table: SQLite's integrity_check (which reports any
  // row missing from an index, or an index entry without its row); on PostgreSQL amcheck's
  // bt_index_check with heapallindexed (every row the index should hold is in it, partial
  // indexes by their predicate) on each B-tree index of the tenant's schema.
  void ExpectEveryIndexConsistent() {
    if (!db_->is_postgres()) {
      EXPECT_EQ(db_->QueryTexts("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
      return;
    }
    try {
      db_->Exec("CREATE EXTENSION IF NOT EXISTS amcheck");
    } catch (const std::runtime_error& e) {
      // Another test process may have created it at the same moment.
      ASSERT_EQ(db_->QueryInt("SELECT COUNT(*) FROM pg_extension WHERE extname = 'amcheck'"), 1)
          << e.what();
    }
    // MATERIALIZED: the check runs on index oids only, never on a table's.
    const std::vector<std::string> checked = db_->QueryTexts(
        "WITH ix AS MATERIALIZED (SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON "
        "c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '" +
        db_->schema() + "') SELECT relname FROM ix WHERE bt_index_check(oid, true)::text = '' "
        "ORDER BY 1");
    // bt_index_check raises an error (QueryTexts throws) at the first inconsistency.
    EXPECT_EQ(checked, (std::vector<std::string>{"ix_outbox_claim", "ix_outbox_failed",
                                                 "ix_outbox_two_claim", "outbox_pkey",
                                                 "outbox_schema_pkey", "outbox_two_pkey"}));
  }

  std::unique_ptr<StoreTestDb> db_;
};

OBX_INSTANTIATE_FOR_ENGINES(OutboxStoreUpgradeTest);

TEST_P(OutboxStoreUpgradeTest, FixtureIsVersionOne) {
  EXPECT_EQ(SchemaVersion(), 1) << "a table without a version row is 0.1.0's";
  EXPECT_EQ(db_->SchemaObjects(), (std::vector<std::string>{"index:ix_outbox_claim", "table:outbox"}));
}

TEST_P(OutboxStoreUpgradeTest, UpgradesInPlaceWhileAProducerInserts) {
  CreateVersion1Table(db_.get(), "outbox_two");  // a second table in the same database
  const int64_t max_id = FillEveryStatus();
  const std::vector<std::string> before = Dump(max_id);
  ASSERT_EQ(before.size(), static_cast<size_t>(max_id));
  const int64_t filenode =
      db_->is_postgres() ? db_->QueryInt("SELECT relfilenode::bigint FROM pg_class WHERE oid = "
                                         "to_regclass('\"" + db_->schema() + "\".\"outbox\"')")
                         : 0;

  // The producer writes through a store that never deploys (an application on 0.1.0's columns).
  // Payloads count up from 0; every call's start and end are kept to show which ran during the
  // upgrade.
  using Clock = std::chrono::steady_clock;
  StoreOptions producer_options = StoreTestDb::Options();
  producer_options.create_schema = false;
  std::unique_ptr<OutboxStore> producer = StoreTestDb::OpenAt(FreshLocation(), producer_options);
  std::atomic<bool> stop{false};
  std::atomic<int> produced{0};
  std::atomic<int> failures{0};
  std::string first_failure;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> calls;  // producer thread only
  std::thread thread([&] {
    while (!stop.load()) {
      NewMessage message;
      message.topic = "producer";
      message.payload = std::to_string(produced.load());
      std::string id;
      const Clock::time_point start = Clock::now();
      Status status = producer->Enqueue(message, &id);
      calls.emplace_back(start, Clock::now());
      if (status.ok()) {
        produced.fetch_add(1);
      } else if (failures.fetch_add(1) == 0) {
        first_failure = status.ToString();
      }
    }
  });
  const bool started = WaitFor([&] { return produced.load() >= 20; }, seconds(30));

  // PostgreSQL: an open REPEATABLE READ transaction of the test (one that never touches the
  // outbox) holds the upgrade inside CREATE INDEX CONCURRENTLY, which waits for every older
  // snapshot of the database. While it waits, the upgrade is surely in progress: the producer
  // must go on inserting, and failed rows inserted meanwhile must end up in the new index. The
  // upgrader's lock timeout is long so that this wait is not cut short on a slow machine.
  std::unique_ptr<Poco::Data::Session> snapshot;
  if (db_->is_postgres() && started) {
    snapshot = db_->cluster().Session(db_->database());
    Poco::Int64 one = 0;
    *snapshot << "BEGIN ISOLATION LEVEL REPEATABLE READ", Poco::Data::Keywords::now;
    *snapshot << "SELECT 1::bigint", Poco::Data::Keywords::into(one), Poco::Data::Keywords::now;
  }
  StoreOptions upgrader_options = StoreTestDb::Options();
  upgrader_options.busy_timeout = std::chrono::minutes(5);
  std::atomic<bool> upgrade_done{false};
  Status upgraded = Status::Internal("the upgrade did not run");
  const Clock::time_point upgrade_start = Clock::now();
  Clock::time_point upgrade_end;
  std::thread upgrader([&] {
    if (started) upgraded = ApplyFresh(upgrader_options);
    upgrade_end = Clock::now();
    upgrade_done = true;
  });
  int produced_during_index_build = -1;
  if (snapshot != nullptr) {
    const bool building = WaitFor(
        [&] {
          return db_->QueryInt("SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE "
                               "'CREATE INDEX CONCURRENTLY%' AND query LIKE '%\"" +
                               db_->schema() + "\"%' AND wait_event_type = 'Lock'") > 0;
        },
        seconds(60));
    EXPECT_TRUE(building) << "the upgrade never waited in CREATE INDEX CONCURRENTLY";
    if (building) {
      const int at_wait = produced.load();
      EXPECT_TRUE(WaitFor([&] { return produced.load() >= at_wait + 20; }, seconds(30)))
          << "the producer is blocked while the index is built";
      for (int i = 0; i < 3; ++i) {
        db_->InsertRow("topic, payload, status, attempts, processed_at, processed_by, last_error",
                       "'during', 'p', 3, 1, now(), 'w:FAILED', 'failed during the upgrade'");
      }
      produced_during_index_build = produced.load() - at_wait;
      EXPECT_FALSE(upgrade_done.load()) << "the upgrade ended while an older snapshot was open";
    }
    *snapshot << "COMMIT", Poco::Data::Keywords::now;
  }
  upgrader.join();
  const int after_upgrade = produced.load();
  const bool went_on = WaitFor([&] { return produced.load() >= after_upgrade + 20; }, seconds(30));
  stop = true;
  thread.join();
  ASSERT_TRUE(started) << first_failure;
  ASSERT_TRUE(upgraded.ok()) << upgraded.ToString();
  EXPECT_TRUE(went_on) << first_failure;
  EXPECT_EQ(failures.load(), 0) << first_failure;

  // Some enqueue was under way while the upgrade ran (the producer never paused for it; on
  // SQLite such a call waits for the upgrade's write transaction), and none took long: producers
  // queue behind the upgrade's locks for at most the lock timeout (PostgreSQL, ALTER TABLE) or the
  // busy timeout (SQLite), both 5 s; in practice for milliseconds.
  int overlapping = 0;
  int64_t slowest_us = 0;
  for (const auto& [start, end] : calls) {
    if (start <= upgrade_end && end >= upgrade_start) ++overlapping;
    slowest_us = std::max<int64_t>(
        slowest_us, std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
  }
  EXPECT_GT(overlapping, 0) << "no enqueue ran while the upgrade did";
  EXPECT_LT(slowest_us, 5'000'000);
  const auto upgrade_ms =
      std::chrono::duration_cast<milliseconds>(upgrade_end - upgrade_start).count();
  RecordProperty("upgrade_ms", std::to_string(upgrade_ms));
  RecordProperty("slowest_enqueue_us", std::to_string(slowest_us));
  std::cout << "upgrade of " << max_id << " rows: " << upgrade_ms << " ms; " << overlapping
            << " enqueues during it";
  if (produced_during_index_build >= 0) {
    std::cout << " (" << produced_during_index_build << " while the index build was held)";
  }
  std::cout << "; slowest concurrent enqueue " << slowest_us << " us (" << produced.load()
            << " enqueued)\n";

  // Every row intact: the 0.1.0 rows in every version-1 column, each produced row once, in order,
  // ready with no attempt; the new columns at their defaults everywhere.
  EXPECT_EQ(Dump(max_id), before);
  std::vector<std::string> expected_payloads;
  for (int i = 0; i < produced.load(); ++i) expected_payloads.push_back(std::to_string(i));
  EXPECT_EQ(db_->QueryTexts("SELECT payload FROM " + db_->Table() +
                            " WHERE topic = 'producer' ORDER BY id"),
            expected_payloads);
  EXPECT_EQ(db_->CountRows("topic = 'producer' AND (status <> 0 OR attempts <> 0 OR "
                           "processed_at IS NOT NULL OR last_error IS NOT NULL)"),
            0);
  const int64_t during = db_->is_postgres() ? 3 : 0;
  EXPECT_EQ(db_->CountRows("topic = 'during' AND status = 3"), during);
  EXPECT_EQ(db_->CountRows("replay_count <> 0 OR replayed_at IS NOT NULL"), 0);
  EXPECT_EQ(db_->CountRows(), max_id + produced.load() + during);
  if (db_->is_postgres()) {
    EXPECT_EQ(db_->QueryInt("SELECT relfilenode::bigint FROM pg_class WHERE oid = to_regclass('\"" +
                            db_->schema() + "\".\"outbox\"')"),
              filenode)
        << "the table was rewritten";
    EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = "
                            "i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                            "n.nspname = '" + db_->schema() + "' AND NOT i.indisvalid"),
              0)
        << "every index valid";
  }

  // Every index present, the failed-rows index partial on status 3 and used by the listing.
  EXPECT_EQ(db_->SchemaObjects(),
            (std::vector<std::string>{"index:ix_outbox_claim", "index:ix_outbox_failed",
                                      "index:ix_outbox_two_claim", "table:outbox",
                                      "table:outbox_schema", "table:outbox_two"}));
  const std::string failed_index = db_->IndexDefinition("ix_outbox_failed");
  EXPECT_NE(failed_index.find(db_->is_postgres() ? "WHERE (status = 3)" : "WHERE status = 3"),
            std::string::npos)
      << failed_index;
  EXPECT_NE(failed_index.find("(processed_at, id)"), std::string::npos) << failed_index;
  EXPECT_NE(db_->IndexDefinition("ix_outbox_claim").find("(created_at, id)"), std::string::npos);
  // Every index holds exactly the rows of its table (those rows inserted while it was built
  // included): SQLite's integrity check; on PostgreSQL amcheck's heapallindexed check.
  ExpectEveryIndexConsistent();
  EXPECT_EQ(SchemaVersion(), kOutboxSchemaVersion);
  EXPECT_EQ(SchemaVersion("outbox_two"), 1) << "the other table is upgraded on its own first use";

  // The upgraded table works: the failed rows are listed, the 0.1.0 rows claimable.
  std::unique_ptr<OutboxStore> store = StoreTestDb::OpenAt(FreshLocation(), StoreTestDb::Options());
  std::vector<FailedMessage> failed;
  FailedQuery query;
  query.limit = 100000;
  ASSERT_TRUE(store->ListFailed(query, &failed).ok());
  EXPECT_EQ(static_cast<int64_t>(failed.size()), db_->CountRows("status = 3"));

  // A second apply (by a process that has not seen this table) changes nothing.
  const std::string stamp = DdlStamp();
  ASSERT_TRUE(ApplyFresh().ok());
  EXPECT_EQ(DdlStamp(), stamp) << "a second apply ran DDL";
  EXPECT_EQ(Dump(max_id), before);
}

TEST_P(OutboxStoreUpgradeTest, ConcurrentUpgradersAllSucceedAndLeaveOneValidIndex) {
  const int64_t max_id = FillEveryStatus();
  const std::vector<std::string> before = Dump(max_id);
  constexpr int kUpgraders = 6;
  std::vector<std::unique_ptr<OutboxStore>> stores(kUpgraders);
  for (int i = 0; i < kUpgraders; ++i) {
    ASSERT_TRUE(OpenOutboxStore(FreshLocation(), StoreTestDb::Options(), &stores[i]).ok());
  }
  StartGate gate(kUpgraders);
  std::vector<Status> results(kUpgraders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kUpgraders; ++i) {
    threads.emplace_back([&, i] {
      gate.ArriveAndWait();
      results[i] = stores[i]->EnsureSchema();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kUpgraders; ++i) {
    EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].ToString();
  }
  // Every EnsureSchema has returned, the one that built the index included.
  EXPECT_EQ(SchemaVersion(), kOutboxSchemaVersion);
  EXPECT_EQ(Dump(max_id), before);
  EXPECT_EQ(db_->SchemaObjects(),
            (std::vector<std::string>{"index:ix_outbox_claim", "index:ix_outbox_failed",
                                      "table:outbox", "table:outbox_schema"}));
  if (db_->is_postgres()) {
    EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM pg_index WHERE indexrelid = to_regclass('\"" +
                            db_->schema() + "\".\"ix_outbox_failed\"') AND indisvalid"),
              1);
  }
}

TEST_P(OutboxStoreUpgradeTest, NewerVersionIsRefusedAndLeftAlone) {
  ASSERT_TRUE(ApplyFresh().ok());
  db_->Exec("UPDATE " + db_->Quoted(sql_store::kSchemaVersionTable) +
            " SET version = 3 WHERE table_name = 'outbox'");
  db_->Exec("DROP INDEX " + (db_->is_postgres() ? "\"" + db_->schema() + "\"." : std::string()) +
            "\"ix_outbox_failed\"");
  const std::string stamp = DdlStamp();

  Status refused = ApplyFresh();
  EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument) << refused.ToString();
  const std::string table = db_->is_postgres() ? db_->schema() + ".outbox" : "outbox";
  EXPECT_NE(refused.message().find("table '" + table + "' is at schema version 3, newer than this "
                                   "binary's version " + std::to_string(kOutboxSchemaVersion)),
            std::string::npos)
      << refused.message();
  EXPECT_EQ(DdlStamp(), stamp) << "nothing was changed (the missing index was not re-created)";
  EXPECT_EQ(SchemaVersion(), 3);

  // Every operation of a store on that table reports the refusal.
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(FreshLocation(), StoreTestDb::Options(), &store).ok());
  std::vector<OutboxMessage> claimed;
  EXPECT_EQ(store->ClaimDue(1, seconds(30), "owner", &claimed).code(),
            Status::Code::kInvalidArgument);
}

TEST_P(OutboxStoreUpgradeTest, ReservedVersionTableNameIsRejected) {
  TenantLocation location = db_->Location();
  location.table_name = sql_store::kSchemaVersionTable;
  std::unique_ptr<OutboxStore> store;
  Status status = OpenOutboxStore(location, StoreTestDb::Options(), &store);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find("reserved"), std::string::npos) << status.message();
}

// PostgreSQL: a transaction that began before the upgrade and stays open (a pg_dump, a long
// report) keeps CREATE INDEX CONCURRENTLY waiting longer than the lock timeout
// (stores.busy_timeout). The tenant must stay usable meanwhile (its new columns exist; only the
// failed-rows index is missing), and a later apply finishes the upgrade.
TEST_P(OutboxStoreUpgradeTest, LongTransactionDuringTheIndexBuildLeavesTheTenantUsable) {
  if (!db_->is_postgres()) GTEST_SKIP() << "SQLite builds the index inside the transaction";
  const int64_t max_id = FillEveryStatus();
  const std::vector<std::string> before = Dump(max_id);
  std::unique_ptr<Poco::Data::Session> snapshot = db_->cluster().Session(db_->database());
  Poco::Int64 one = 0;
  *snapshot << "BEGIN ISOLATION LEVEL REPEATABLE READ", Poco::Data::Keywords::now;
  *snapshot << "SELECT 1::bigint", Poco::Data::Keywords::into(one), Poco::Data::Keywords::now;

  StoreOptions options = StoreTestDb::Options();
  options.busy_timeout = milliseconds(200);  // the snapshot is held until the store gives up
  std::unique_ptr<OutboxStore> store;
  ASSERT_TRUE(OpenOutboxStore(FreshLocation(), options, &store).ok());
  Status schema = store->EnsureSchema();
  EXPECT_TRUE(schema.ok()) << schema.ToString();
  std::vector<OutboxMessage> claimed;
  Status claim = store->ClaimDue(10, seconds(30), "owner", &claimed);
  EXPECT_TRUE(claim.ok()) << claim.ToString();
  EXPECT_FALSE(claimed.empty());
  NewMessage message;
  message.topic = "after";
  std::string id;
  Status enqueued = store->Enqueue(message, &id);
  EXPECT_TRUE(enqueued.ok()) << enqueued.ToString();
  EXPECT_EQ(SchemaVersion(), 1) << "the upgrade is pending until the index exists";
  *snapshot << "COMMIT", Poco::Data::Keywords::now;

  // Without the old transaction, the next apply builds the index and records version 2.
  ASSERT_TRUE(ApplyFresh().ok());
  EXPECT_EQ(SchemaVersion(), kOutboxSchemaVersion);
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM pg_index WHERE indexrelid = to_regclass('\"" +
                          db_->schema() + "\".\"ix_outbox_failed\"') AND indisvalid"),
            1);
  EXPECT_EQ(Dump(max_id).size(), before.size());
}

// PostgreSQL: an INVALID failed-rows index left by an interrupted CREATE INDEX CONCURRENTLY is
// dropped and built again.
TEST_P(OutboxStoreUpgradeTest, InvalidLeftoverIndexIsRebuilt) {
  if (!db_->is_postgres()) GTEST_SKIP() << "SQLite builds the index inside the transaction";
  db_->InsertMany(10, "same");
  // A unique index on a column with duplicates fails to build and stays behind INVALID, under
  // the name of the failed-rows index.
  EXPECT_THROW(db_->Exec("CREATE UNIQUE INDEX CONCURRENTLY ix_outbox_failed ON " + db_->Table() +
                         " (topic)"),
               std::runtime_error);
  ASSERT_EQ(db_->QueryInt("SELECT COUNT(*) FROM pg_index WHERE indexrelid = to_regclass('\"" +
                          db_->schema() + "\".\"ix_outbox_failed\"') AND NOT indisvalid"),
            1);
  ASSERT_TRUE(ApplyFresh().ok());
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM pg_index WHERE indexrelid = to_regclass('\"" +
                          db_->schema() + "\".\"ix_outbox_failed\"') AND indisvalid"),
            1);
  const std::string definition = db_->IndexDefinition("ix_outbox_failed");
  EXPECT_EQ(definition.find("UNIQUE"), std::string::npos) << definition;
  EXPECT_NE(definition.find("WHERE (status = 3)"), std::string::npos) << definition;
  EXPECT_EQ(SchemaVersion(), kOutboxSchemaVersion);
}

}  // namespace
}  // namespace outboxd::testing
