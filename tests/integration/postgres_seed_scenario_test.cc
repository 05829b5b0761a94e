// The seed story (docs: /work/shared/seed/dynamic-outbox-discovery.md) end to end on PostgreSQL,
// with the real binaries: the global database (a Customers table with PostgreSQL types) and three,
// later four, tenant databases live on the PostgreSQL server named by OBX_TEST_PG_URL. outboxd
// discovers the tenants through the `sql` discovery plugin, delivers their messages through the
// `exec` handler (fixtures/record_delivery.sh), picks up a customer added while it runs, drops a
// deactivated customer (its later message stays ready until it is reactivated) and exits 0 on
// SIGTERM. Every database is created under a unique name and dropped at the end (parallel ctest
// processes share the server).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/pg_env.h"
#include "integration/support/process.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Outboxctl;
using testing::PgDatabases;
using testing::PgSession;
using testing::Process;
using testing::SteadyClock;
using testing::TempDir;

constexpr milliseconds kWait{20000};
constexpr int kPerTenant = 4;

// The seed's Customers table with PostgreSQL types (NVARCHAR -> varchar, BIT -> boolean,
// DATETIMEOFFSET -> timestamptz).
constexpr char kCustomersDdl[] =
    "CREATE TABLE Customers ("
    " CustomerId varchar(100) PRIMARY KEY,"
    " CustomerName varchar(255) NOT NULL,"
    " ConnectionString varchar(1000) NOT NULL,"
    " IsActive boolean NOT NULL DEFAULT true,"
    " CreatedAt timestamptz NOT NULL DEFAULT now())";

// The plugin's default query compares `IsActive = 1`, which PostgreSQL rejects for a boolean
// column ("operator does not exist: boolean = integer"), so the seed's query is given in the
// plugin's documented `query` key, in the seed's own words (WHERE IsActive).
constexpr char kCustomersQuery[] =
    "SELECT CustomerId AS identifier, ConnectionString AS connection_string "
    "FROM Customers WHERE IsActive";

class PostgresSeedScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    std::string url;
    OBX_REQUIRE_TEST_POSTGRES(&url);
    dbs_ = std::make_unique<PgDatabases>(url);
  }

  // Creates a tenant database, applies the schema and enqueues kPerTenant messages with outboxctl
  // (as an operator and a producer would); remembers the ids under `customer`.
  std::string CreateTenant(const std::string& customer) {
    const std::string conn = dbs_->Create("obx_seed_tenant");
    EXPECT_FALSE(conn.empty());
    EXPECT_TRUE(ctl_.SchemaApply(conn));
    for (const std::string& id :
         ctl_.EnqueueMany(conn, "email.send", kPerTenant, customer + "-payload-")) {
      EXPECT_FALSE(id.empty());
      expected_[id] = customer;
    }
    return conn;
  }

  void AddCustomer(PgSession& global, const std::string& id, const std::string& conn) {
    ASSERT_TRUE(global.Exec(
        "INSERT INTO Customers (CustomerId, CustomerName, ConnectionString) VALUES ('" + id +
        "', 'Name of " + id + "', '" + conn + "')"));
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::unique_ptr<PgDatabases> dbs_;
  std::map<std::string, std::string> expected_;  // message id -> customer that must deliver it
};

TEST_F(PostgresSeedScenarioTest, DiscoversAddsAndRemovesCustomersAndDeliversEachMessageOnce) {
  const std::filesystem::path deliveries = dir_ / "deliveries.txt";
  const std::string global_url = dbs_->Create("obx_seed_global");
  ASSERT_FALSE(global_url.empty());
  PgSession global(global_url);
  ASSERT_TRUE(global.ok()) << global.error();
  ASSERT_TRUE(global.Exec(kCustomersDdl));

  std::map<std::string, std::string> conn;  // customer -> tenant URI
  for (const char* customer : {"customer-001", "customer-002", "customer-003"}) {
    conn[customer] = CreateTenant(customer);
    ASSERT_FALSE(HasFailure());
    ASSERT_NO_FATAL_FAILURE(AddCustomer(global, customer, conn[customer]));
  }

  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "sql"},
        {"config", {{"connection", global_url}, {"query", kCustomersQuery}}},
        {"refresh_interval", "300ms"}}},
      {"dispatch", {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"workers", 2}}},
      {"handlers", {testing::RecordingExecHandler({"email.send"}, deliveries)}}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();

  // 1. Initial discovery of the three active customers, and delivery of their messages.
  ASSERT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 3 outbox databases", kWait))
      << outboxd->StderrTail();
  for (const char* customer : {"customer-001", "customer-002", "customer-003"}) {
    EXPECT_EQ(outboxd->CountInStderr(std::string("Discovered new outbox database: ") + customer),
              1)
        << outboxd->StderrTail();
    EXPECT_TRUE(ctl_.WaitDone(conn[customer], kPerTenant, kWait))
        << customer << ": " << testing::Describe(ctl_.Stats(conn[customer]))
        << outboxd->StderrTail();
  }

  // 2. A customer added to the global database while outboxd runs is picked up at a refresh.
  conn["customer-004"] = CreateTenant("customer-004");
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(AddCustomer(global, "customer-004", conn["customer-004"]));
  ASSERT_TRUE(outboxd->WaitForLog("Discovered new outbox database: customer-004", kWait))
      << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 4 outbox databases", kWait))
      << outboxd->StderrTail();
  EXPECT_TRUE(ctl_.WaitDone(conn["customer-004"], kPerTenant, kWait))
      << testing::Describe(ctl_.Stats(conn["customer-004"])) << outboxd->StderrTail();

  // 3. A deactivated customer is removed, and its new messages are no longer processed.
  ASSERT_TRUE(global.Exec("UPDATE Customers SET IsActive = false WHERE CustomerId = 'customer-002'"));
  ASSERT_TRUE(outboxd->WaitForLog("Outbox database removed: customer-002", kWait))
      << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 3 outbox databases", kWait,
                                  /*count=*/2))
      << outboxd->StderrTail();
  const std::string late_id = ctl_.Enqueue(conn["customer-002"], "email.send", "after deactivation");
  ASSERT_FALSE(late_id.empty());
  // Evidence that outboxd kept working after that enqueue: two more discovery rounds (neither may
  // bring customer-002 back) and a message of an active customer delivered.
  const int rounds = outboxd->CountInStderr("Discovery complete.");
  const std::string marker_id = ctl_.Enqueue(conn["customer-001"], "email.send", "marker");
  ASSERT_FALSE(marker_id.empty());
  expected_[marker_id] = "customer-001";
  EXPECT_TRUE(ctl_.WaitDone(conn["customer-001"], kPerTenant + 1, kWait))
      << testing::Describe(ctl_.Stats(conn["customer-001"])) << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("Discovery complete.", kWait, rounds + 2))
      << outboxd->StderrTail();
  std::optional<StoreStats> c2 = ctl_.Stats(conn["customer-002"]);
  ASSERT_TRUE(c2.has_value());
  EXPECT_EQ(c2->ready, 1) << testing::Describe(c2);
  EXPECT_EQ(c2->done, kPerTenant) << testing::Describe(c2);
  EXPECT_EQ(c2->in_progress, 0) << testing::Describe(c2);
  EXPECT_EQ(outboxd->CountInStderr("Discovered new outbox database: customer-002"), 1)
      << outboxd->StderrTail();
  for (const testing::Delivery& d : testing::ReadDeliveries(deliveries)) {
    EXPECT_NE(d.message_id, late_id) << "a message of a removed customer was delivered";
  }

  // 4. Reactivated, the customer is discovered again and its parked message delivered (once).
  ASSERT_TRUE(global.Exec("UPDATE Customers SET IsActive = true WHERE CustomerId = 'customer-002'"));
  ASSERT_TRUE(outboxd->WaitForLog("Discovered new outbox database: customer-002", kWait, 2))
      << outboxd->StderrTail();
  expected_[late_id] = "customer-002";
  EXPECT_TRUE(ctl_.WaitDone(conn["customer-002"], kPerTenant + 1, kWait))
      << testing::Describe(ctl_.Stats(conn["customer-002"])) << outboxd->StderrTail();

  // 5. SIGTERM: a clean stop.
  ASSERT_TRUE(outboxd->Signal(SIGTERM));
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << "outboxd did not stop after SIGTERM" << outboxd->StderrTail();
  EXPECT_EQ(*code, 0) << outboxd->StderrTail();
  EXPECT_EQ(outboxd->CountInStderr(" dispatched=" + std::to_string(expected_.size()) + " "), 1)
      << outboxd->StderrTail();

  // Every message delivered exactly once, by the right tenant.
  testing::ExpectEachDeliveredOnceByItsTenant(testing::ReadDeliveries(deliveries), expected_);

  // The rows themselves: all done on PostgreSQL, processed by this worker, never retried.
  for (const auto& [customer, uri] : conn) {
    const int64_t want = customer == "customer-001" || customer == "customer-002"
                             ? kPerTenant + 1
                             : kPerTenant;
    std::optional<testing::PgOutboxCounts> c = testing::CountOutbox(uri);
    ASSERT_TRUE(c.has_value()) << customer;
    EXPECT_EQ(c->done, want) << customer << " " << testing::Describe(c);
    EXPECT_EQ(c->total(), want) << customer << " " << testing::Describe(c);
    PgSession tenant(uri);
    EXPECT_EQ(tenant.Scalar("SELECT count(*) FROM infra.outbox WHERE attempts <> 0 OR "
                            "processed_at IS NULL OR owner_token IS NOT NULL"),
              0)
        << customer;
  }
}

}  // namespace
}  // namespace outboxd
