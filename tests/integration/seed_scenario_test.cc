// The seed story (docs: /work/shared/seed/dynamic-outbox-discovery.md) end to end, with the real
// binaries: a global database's Customers table lists the tenant databases; outboxd discovers
// them with the `sql` discovery plugin, delivers their messages through the `exec` handler
// (fixtures/record_delivery.sh), picks up a customer added while it runs, drops a customer that is
// deactivated (its later messages stay ready until it is reactivated), and stops cleanly on
// SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::Outboxctl;
using testing::Process;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr milliseconds kWait{15000};
constexpr int kPerTenant = 4;

class SeedScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::BinariesBuilt()); }

  std::string Conn(const std::string& file) { return SqliteConnection(dir_ / file); }

  // Creates <file> and enqueues kPerTenant messages; remembers their ids under `customer`.
  void CreateTenant(const std::string& customer, const std::string& file) {
    ASSERT_TRUE(ctl_.SchemaApply(Conn(file)));
    for (const std::string& id :
         ctl_.EnqueueMany(Conn(file), "email.send", kPerTenant, customer + "-payload-")) {
      ASSERT_FALSE(id.empty());
      expected_[id] = customer;
    }
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::map<std::string, std::string> expected_;  // message id -> customer that must deliver it
};

TEST_F(SeedScenarioTest, DiscoversAddsAndRemovesCustomersAndDeliversEachMessageOnce) {
  const std::filesystem::path global_db = dir_ / "global.db";
  const std::filesystem::path deliveries = dir_ / "deliveries.txt";
  testing::CreateCustomersTable(global_db);
  const std::vector<std::pair<std::string, std::string>> initial = {
      {"customer-001", "c1.db"}, {"customer-002", "c2.db"}, {"customer-003", "c3.db"}};
  for (const auto& [customer, file] : initial) {
    ASSERT_NO_FATAL_FAILURE(CreateTenant(customer, file));
    testing::AddCustomer(global_db, customer, "Name of " + customer, Conn(file));
  }

  nlohmann::json config = {
      {"plugin_dir", testing::PluginDir().string()},
      {"discovery",
       {{"plugin", "sql"},
        {"config", {{"connection", SqliteConnection(global_db)}}},
        {"refresh_interval", "300ms"}}},
      {"dispatch", {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"workers", 2}}},
      {"handlers", {testing::RecordingExecHandler({"email.send"}, deliveries)}}};
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();

  // 1. Initial discovery of the three active customers, and delivery of their messages.
  ASSERT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 3 outbox databases", kWait))
      << outboxd->StderrTail();
  for (const auto& [customer, file] : initial) {
    EXPECT_EQ(outboxd->CountInStderr("Discovered new outbox database: " + customer), 1)
        << outboxd->StderrTail();
    EXPECT_TRUE(ctl_.WaitDone(Conn(file), kPerTenant, kWait))
        << customer << ": " << testing::Describe(ctl_.Stats(Conn(file))) << outboxd->StderrTail();
  }
  EXPECT_GE(outboxd->CountInStderr("outbox messages from store 'customer-001'"), 1)
      << outboxd->StderrTail();

  // 2. A customer added to the global database while outboxd runs is picked up at a refresh.
  ASSERT_NO_FATAL_FAILURE(CreateTenant("customer-004", "c4.db"));
  testing::AddCustomer(global_db, "customer-004", "New Customer", Conn("c4.db"));
  ASSERT_TRUE(outboxd->WaitForLog("Discovered new outbox database: customer-004", kWait))
      << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 4 outbox databases", kWait))
      << outboxd->StderrTail();
  EXPECT_TRUE(ctl_.WaitDone(Conn("c4.db"), kPerTenant, kWait))
      << testing::Describe(ctl_.Stats(Conn("c4.db"))) << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("outbox messages from store 'customer-004'", kWait))
      << outboxd->StderrTail();

  // 3. A deactivated customer is removed, and its new messages are no longer processed.
  SqliteFile(global_db).Exec("UPDATE Customers SET IsActive = 0 WHERE CustomerId = 'customer-002'");
  ASSERT_TRUE(outboxd->WaitForLog("Outbox database removed: customer-002", kWait))
      << outboxd->StderrTail();
  // "Managing 3" again (the first was at startup): the smaller set is in effect.
  ASSERT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 3 outbox databases", kWait,
                                  /*count=*/2))
      << outboxd->StderrTail();
  const std::string late_id = ctl_.Enqueue(Conn("c2.db"), "email.send", "after deactivation");
  ASSERT_FALSE(late_id.empty());
  // Evidence that outboxd kept working after that enqueue: two more discovery rounds (neither may
  // bring customer-002 back) and a message of an active customer delivered.
  const int rounds = outboxd->CountInStderr("Discovery complete.");
  const std::string marker_id = ctl_.Enqueue(Conn("c1.db"), "email.send", "marker");
  ASSERT_FALSE(marker_id.empty());
  expected_[marker_id] = "customer-001";
  EXPECT_TRUE(ctl_.WaitDone(Conn("c1.db"), kPerTenant + 1, kWait))
      << testing::Describe(ctl_.Stats(Conn("c1.db"))) << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("Discovery complete.", kWait, rounds + 2))
      << outboxd->StderrTail();
  std::optional<StoreStats> c2 = ctl_.Stats(Conn("c2.db"));
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
  SqliteFile(global_db).Exec("UPDATE Customers SET IsActive = 1 WHERE CustomerId = 'customer-002'");
  ASSERT_TRUE(outboxd->WaitForLog("Discovered new outbox database: customer-002", kWait, 2))
      << outboxd->StderrTail();
  expected_[late_id] = "customer-002";
  EXPECT_TRUE(ctl_.WaitDone(Conn("c2.db"), kPerTenant + 1, kWait))
      << testing::Describe(ctl_.Stats(Conn("c2.db"))) << outboxd->StderrTail();

  // 5. SIGTERM: a clean stop.
  ASSERT_TRUE(outboxd->Signal(SIGTERM));
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << "outboxd did not stop after SIGTERM" << outboxd->StderrTail();
  EXPECT_EQ(*code, 0) << outboxd->StderrTail();
  EXPECT_EQ(outboxd->CountInStderr("Received SIGTERM"), 1) << outboxd->StderrTail();
  EXPECT_EQ(outboxd->CountInStderr(" dispatched=" + std::to_string(expected_.size()) + " "), 1)
      << outboxd->StderrTail();

  // Every message delivered exactly once, by the right tenant.
  testing::ExpectEachDeliveredOnceByItsTenant(testing::ReadDeliveries(deliveries), expected_);

  const std::map<std::string, int64_t> done = {{"c1.db", kPerTenant + 1},
                                               {"c2.db", kPerTenant + 1},
                                               {"c3.db", kPerTenant},
                                               {"c4.db", kPerTenant}};
  for (const auto& [file, n] : done) {
    std::optional<StoreStats> s = ctl_.Stats(Conn(file));
    ASSERT_TRUE(s.has_value()) << file;
    EXPECT_EQ(s->done, n) << file << " " << testing::Describe(s);
    EXPECT_EQ(s->failed, 0) << file << " " << testing::Describe(s);
    EXPECT_EQ(s->in_progress, 0) << file << " " << testing::Describe(s);
  }
}

}  // namespace
}  // namespace outboxd
