// Two outboxd processes share the same three SQLite tenant databases (static discovery) with
// 3 x 1000 messages. The claim statement is the only coordination between them, so this checks that
// every message is handled exactly once, that none is left behind, and that both relays did work.
// Deliveries go through the `exec` handler running fixtures/record_delivery.sh, which appends one
// line per message to a shared file (O_APPEND, one short write per line). Both relays are started
// and idle before the messages are inserted, then stopped with SIGTERM once the stats say done.
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
using testing::Outboxctl;
using testing::Process;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr int kTenants = 3;
constexpr int kPerTenant = 1000;
constexpr milliseconds kWait{15000};

class TwoProcessesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::BinariesBuilt()); }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
};

TEST_F(TwoProcessesTest, EveryMessageHandledExactlyOnceAndNoneLeftBehind) {
  const std::filesystem::path deliveries = dir_ / "deliveries.txt";
  nlohmann::json databases = nlohmann::json::array();
  std::vector<std::filesystem::path> dbs;
  for (int t = 1; t <= kTenants; ++t) {
    const std::string tenant = "customer-00" + std::to_string(t);
    dbs.push_back(dir_ / ("c" + std::to_string(t) + ".db"));
    ASSERT_TRUE(ctl_.SchemaApply(SqliteConnection(dbs.back())));
    databases.push_back(
        {{"identifier", tenant}, {"connection_string", SqliteConnection(dbs.back())}});
  }

  auto config_for = [&](const std::string& worker_id) {
    return nlohmann::json{
        {"plugin_dir", testing::PluginDir().string()},
        {"worker_id", worker_id},
        {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
        {"dispatch",
         {{"poll_interval", "10ms"},
          {"max_poll_interval", "100ms"},
          {"workers", 2},
          {"batch_size", 20}}},
        {"handlers", {testing::RecordingExecHandler({"email.send"}, deliveries)}}};
  };
  std::unique_ptr<Process> a = testing::StartOutboxd(
      dir_, testing::WriteConfig(dir_, config_for("A"), "a.json"), "outboxd-A");
  std::unique_ptr<Process> b = testing::StartOutboxd(
      dir_, testing::WriteConfig(dir_, config_for("B"), "b.json"), "outboxd-B");
  ASSERT_TRUE(a->ok()) << a->error();
  ASSERT_TRUE(b->ok()) << b->error();
  // Both relays are up and polling the (empty) outboxes before any message exists, so neither can
  // drain everything alone just because it started first.
  ASSERT_TRUE(a->WaitForLog("Discovery complete. Managing 3 outbox databases", kWait))
      << a->StderrTail();
  ASSERT_TRUE(b->WaitForLog("Discovery complete. Managing 3 outbox databases", kWait))
      << b->StderrTail();

  // A producer's bulk insert per tenant: one transaction, ids and timestamps from the defaults.
  std::map<std::string, std::string> tenant_of;  // message id -> tenant
  for (int t = 1; t <= kTenants; ++t) {
    SqliteFile file(dbs[t - 1]);
    file.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
              std::to_string(kPerTenant) +
              ") INSERT INTO outbox (topic, payload) SELECT 'email.send', 'message ' || i FROM n");
    for (const std::string& id : file.Column("SELECT message_id FROM outbox"))
      tenant_of[id] = "customer-00" + std::to_string(t);
  }
  ASSERT_EQ(tenant_of.size(), static_cast<size_t>(kTenants * kPerTenant))
      << "duplicate message ids";

  for (const std::filesystem::path& db : dbs) {
    EXPECT_TRUE(ctl_.WaitDone(SqliteConnection(db), kPerTenant, milliseconds(60000)))
        << db << " " << testing::Describe(ctl_.Stats(SqliteConnection(db))) << a->StderrTail(5)
        << b->StderrTail(5);
  }
  for (Process* p : {a.get(), b.get()}) {
    ASSERT_TRUE(p->Signal(SIGTERM));
    std::optional<int> code = p->WaitExit(kWait);
    ASSERT_TRUE(code.has_value()) << p->name() << " still running after SIGTERM" << p->StderrTail();
    EXPECT_EQ(*code, 0) << p->StderrTail();
  }

  // Exactly once: one line per message id, for the right tenant, and nothing unknown.
  std::vector<testing::Delivery> delivered = testing::ReadDeliveries(deliveries);
  std::map<std::string, int> times;
  for (const testing::Delivery& d : delivered) {
    ++times[d.message_id];
    auto it = tenant_of.find(d.message_id);
    if (it == tenant_of.end()) {
      ADD_FAILURE() << "unknown message id delivered: '" << d.message_id << "'";
    } else if (d.tenant != it->second) {
      ADD_FAILURE() << d.message_id << " delivered for " << d.tenant << ", expected " << it->second;
    }
  }
  int duplicates = 0;
  for (const auto& [id, n] : times) duplicates += n > 1 ? 1 : 0;
  EXPECT_EQ(duplicates, 0) << "message ids delivered more than once";
  EXPECT_EQ(times.size(), tenant_of.size()) << "distinct message ids delivered";
  EXPECT_EQ(delivered.size(), tenant_of.size()) << "delivery lines";

  // None left behind, and both relays worked (processed_by = worker_id).
  std::map<std::string, int64_t> by_worker;
  for (int t = 1; t <= kTenants; ++t) {
    const std::filesystem::path& db = dbs[t - 1];
    std::optional<StoreStats> s = ctl_.Stats(SqliteConnection(db));
    ASSERT_TRUE(s.has_value()) << db;
    EXPECT_EQ(s->done, kPerTenant) << db << " " << testing::Describe(s);
    EXPECT_EQ(s->ready, 0) << db << " " << testing::Describe(s);
    EXPECT_EQ(s->in_progress, 0) << db << " " << testing::Describe(s);
    EXPECT_EQ(s->failed, 0) << db << " " << testing::Describe(s);
    SqliteFile file(db);
    for (const auto& row : file.Rows("SELECT processed_by, COUNT(*) FROM outbox GROUP BY 1"))
      by_worker[row[0]] += std::stoll(row[1]);
  }
  EXPECT_EQ(by_worker.size(), 2u) << "processed_by values other than A and B";
  EXPECT_GT(by_worker["A"], 0) << "process A delivered nothing";
  EXPECT_GT(by_worker["B"], 0) << "process B delivered nothing";
  EXPECT_EQ(by_worker["A"] + by_worker["B"], kTenants * kPerTenant);

  // Each process's own counters agree with the rows it completed.
  EXPECT_EQ(a->CountInStderr(" dispatched=" + std::to_string(by_worker["A"]) + " "), 1)
      << a->StderrTail(5);
  EXPECT_EQ(b->CountInStderr(" dispatched=" + std::to_string(by_worker["B"]) + " "), 1)
      << b->StderrTail(5);
  EXPECT_EQ(a->CountInStderr("lease_lost=0 "), 1) << a->StderrTail(5);
  EXPECT_EQ(b->CountInStderr("lease_lost=0 "), 1) << b->StderrTail(5);
}

}  // namespace
}  // namespace outboxd
