// PostgresNotifyListener against a real server: a committed INSERT into a watched outbox wakes the
// store within a deadline, a (re)connect wakes every store of the database, the budget limits how
// many databases get a listener, and dropping stores from the watch set gives connections back.
#include "store/postgres/postgres_notify_listener.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "host/store/store_test_support.h"
#include "support/postgres_test_server.h"

namespace outboxd::testing {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kNoProbes{0};
// How long a wait for the listener may take: connecting and probing under a loaded machine took
// over 5 s (AFailedProbeWakesEveryStoreOfTheDatabase failed once that way). A bound, not a pace.
bool WaitLong(const std::function<bool()>& condition) {
  return WaitFor(condition, std::chrono::seconds(60));
}

// Runs one statement on `url`; returns libpq's error text or "".
std::string Exec(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) return PQerrorMessage(conn.get());
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  const ExecStatusType st = PQresultStatus(res.get());
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : PQerrorMessage(conn.get());
}

// "postgresql://u@h:p/postgres" -> "postgresql://u@h:p/<db>".
std::string WithDatabase(const std::string& url, const std::string& db) {
  return url.substr(0, url.rfind('/') + 1) + db;
}

class Wakeups {
 public:
  PostgresNotifyListener::OnNotify Callback() {
    return [this](const std::string& id) {
      std::lock_guard<std::mutex> lock(mu_);
      ++counts_[id];
    };
  }
  int count(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[id];
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> counts_;
};

class PostgresNotifyListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OBX_REQUIRE_TEST_POSTGRES(&server_);
  }
  void TearDown() override {
    for (const std::string& db : databases_) {
      Exec(server_, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    }
  }

  // A fresh database with an outbox table (trigger installed when `notify`).
  TenantLocation NewTenant(const std::string& id, bool notify = true) {
    static std::atomic<int> serial{0};
    const std::string db = "obx_listen_" + std::to_string(getpid()) + "_" +
                           std::to_string(serial++);
    EXPECT_EQ(Exec(server_, "CREATE DATABASE " + db), "");
    databases_.push_back(db);
    TenantLocation location;
    location.identifier = id;
    location.connection_string = WithDatabase(server_, db);
    StoreOptions options;
    options.notify_trigger = notify;
    std::unique_ptr<OutboxStore> store;
    EXPECT_TRUE(OpenOutboxStore(location, options, &store).ok());
    Status schema = store->EnsureSchema();
    EXPECT_TRUE(schema.ok()) << schema.message();
    return location;
  }

  static void Insert(const TenantLocation& location) {
    EXPECT_EQ(Exec(location.connection_string,
                   "INSERT INTO infra.outbox (topic, payload) VALUES ('t', 'p')"),
              "");
  }

  std::string server_;
  std::vector<std::string> databases_;
};

TEST_F(PostgresNotifyListenerTest, InsertWakesTheStoreAndConnectWakesEveryStore) {
  TenantLocation a = NewTenant("tenant-a");
  TenantLocation b = NewTenant("tenant-b");
  Wakeups wakeups;
  PostgresNotifyListener listener(nullptr, -1, kNoProbes, wakeups.Callback());
  listener.Watch({a, b});
  listener.Start();
  // Connecting wakes each store once: rows may have been inserted before anyone listened.
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("tenant-a") >= 1 && wakeups.count("tenant-b") >= 1; }));
  EXPECT_EQ(listener.listening_databases(), 2);
  const int before_a = wakeups.count("tenant-a");
  const int before_b = wakeups.count("tenant-b");
  Insert(a);
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("tenant-a") > before_a; }));
  EXPECT_EQ(wakeups.count("tenant-b"), before_b);  // only the written tenant is woken
  EXPECT_GE(listener.notifications(), 1);
  listener.Stop();
}

TEST_F(PostgresNotifyListenerTest, WithoutTheTriggerNoNotificationArrives) {
  TenantLocation quiet = NewTenant("quiet", /*notify=*/false);
  TenantLocation loud = NewTenant("loud");
  Wakeups wakeups;
  PostgresNotifyListener listener(nullptr, -1, kNoProbes, wakeups.Callback());
  listener.Watch({quiet, loud});
  listener.Start();
  ASSERT_TRUE(WaitLong([&] { return listener.listening_databases() == 2; }));
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("quiet") == 1 && wakeups.count("loud") == 1; }));
  Insert(quiet);
  Insert(loud);  // committed after quiet's insert: once it is seen, quiet's would have been too
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("loud") == 2; }));
  EXPECT_EQ(wakeups.count("quiet"), 1);
}

TEST_F(PostgresNotifyListenerTest, TheBudgetLimitsListenersAndUnwatchingGivesSlotsBack) {
  TenantLocation a = NewTenant("a");
  TenantLocation b = NewTenant("b");
  TenantLocation c = NewTenant("c");
  ConnectionBudget budget(10);
  Wakeups wakeups;
  PostgresNotifyListener listener(&budget, /*max_listeners=*/2, kNoProbes, wakeups.Callback());
  listener.Watch({a, b, c});
  listener.Start();
  ASSERT_TRUE(WaitLong([&] { return listener.listening_databases() == 2; }));
  EXPECT_EQ(listener.unlistened_databases(), 1);
  EXPECT_EQ(budget.in_use(), 2);
  listener.Watch({c});
  ASSERT_TRUE(WaitLong([&] {
    return listener.listening_databases() == 1 && listener.unlistened_databases() == 0;
  }));
  EXPECT_EQ(budget.in_use(), 1);
  listener.Stop();
  EXPECT_EQ(budget.in_use(), 0);
}

TEST_F(PostgresNotifyListenerTest, NonPostgresStoresAreIgnored) {
  TenantLocation sqlite;
  sqlite.identifier = "file";
  sqlite.connection_string = "sqlite:/nonexistent/tenant.db";
  Wakeups wakeups;
  PostgresNotifyListener listener(nullptr, -1, kNoProbes, wakeups.Callback());
  listener.Watch({sqlite});
  listener.Start();
  listener.Stop();
  EXPECT_EQ(listener.listening_databases(), 0);
  EXPECT_EQ(wakeups.count("file"), 0);
}

TEST_F(PostgresNotifyListenerTest, AListenerWhoseBackendIsKilledReconnectsAndWakesItsStores) {
  TenantLocation a = NewTenant("phoenix");
  Wakeups wakeups;
  PostgresNotifyListener listener(nullptr, -1, kNoProbes, wakeups.Callback());
  listener.Watch({a});
  listener.Start();
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("phoenix") == 1; }));
  const std::string db = a.connection_string.substr(a.connection_string.rfind('/') + 1);
  ASSERT_EQ(Exec(server_, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                              db + "' AND query LIKE 'LISTEN%'"),
            "");
  // Reconnects after the first back-off step (1 s) and wakes the store again to catch up.
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("phoenix") >= 2; }));
  const int before = wakeups.count("phoenix");
  Insert(a);
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("phoenix") > before; }));
}

TEST_F(PostgresNotifyListenerTest, TheSafetyProbeWakesOnlyTablesWithRowsAClaimWouldTake) {
  // No trigger anywhere: every wake comes from the listener's probe.
  TenantLocation due = NewTenant("due", /*notify=*/false);
  TenantLocation later = NewTenant("later", /*notify=*/false);
  TenantLocation empty = NewTenant("empty", /*notify=*/false);
  TenantLocation waiting = NewTenant("waiting", /*notify=*/false);
  ASSERT_EQ(Exec(later.connection_string,
                 "INSERT INTO infra.outbox (topic, payload, due_at) "
                 "VALUES ('t', 'p', now() + interval '1 hour')"),
            "");
  Insert(waiting);  // there before the listener connects
  Wakeups wakeups;
  Wakeups listening;
  PostgresNotifyListener listener(nullptr, -1, milliseconds(100), wakeups.Callback());
  listener.SetOnListening(listening.Callback());
  listener.Watch({due, later, empty, waiting});
  listener.Start();
  // Connecting marks every store listened and probes at once instead of waking them all: only
  // the table that already held a claimable row is woken.
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("waiting") >= 1; }));
  for (const char* id : {"due", "later", "empty", "waiting"}) EXPECT_EQ(listening.count(id), 1) << id;
  EXPECT_EQ(wakeups.count("due"), 0);
  Insert(due);
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("due") >= 1; }));
  // Let every database answer a few more probes: a future due_at and an empty table wake nobody.
  const int64_t probes = listener.probes();
  ASSERT_TRUE(WaitLong([&] { return listener.probes() >= probes + 12; }));
  EXPECT_EQ(wakeups.count("later"), 0);
  EXPECT_EQ(wakeups.count("empty"), 0);
  EXPECT_GE(wakeups.count("due"), 2);  // still claimable: every probe says so
  EXPECT_EQ(listener.notifications(), 0);
  listener.Stop();
}

TEST_F(PostgresNotifyListenerTest, AFailedProbeWakesEveryStoreOfTheDatabase) {
  TenantLocation gone = NewTenant("gone", /*notify=*/false);
  ASSERT_EQ(Exec(gone.connection_string, "DROP TABLE infra.outbox"), "");
  Wakeups wakeups;
  PostgresNotifyListener listener(nullptr, -1, milliseconds(100), wakeups.Callback());
  listener.Watch({gone});
  listener.Start();
  // The probe fails (no table): the store's own visit is what finds out (and redeploys).
  ASSERT_TRUE(WaitLong([&] { return wakeups.count("gone") >= 3; }));
  EXPECT_EQ(listener.listening_databases(), 1);  // the listener itself stays connected
  listener.Stop();
}

}  // namespace
}  // namespace outboxd::testing
