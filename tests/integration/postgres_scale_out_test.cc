// Scale-out on PostgreSQL with a crash: three outboxd processes (worker ids A, B and K) share 20
// tenant databases holding 20,000 messages in all. Once about 30% are handled, K is killed with
// SIGKILL mid-batch; A and B finish. Deliveries are recorded by the recording_handler fixture
// (tests/fixtures/recording_handler.cc: one O_APPEND line per delivery with tenant, message id,
// pid, wall-clock ms and attempt). The test shows:
//   - every message handled at least once, none left ready or in progress, none failed;
//   - none handled twice while its lease held: A and B never handle a message twice, K at most
//     once, and the only duplicates are messages K handled before it died, handled again by A or B
//     only after K's lease on them had run out (lease - one heartbeat period after the kill, since
//     K's heartbeat renewed every held batch each lease/3 until it died);
//   - the lost attempt is counted: every redelivered message (attempt >= 2 at its delivery) has
//     attempts >= 1 in its row (its last_error is cleared once done: docs/store.md, "What a row
//     carries"), and no other row has attempts.
// Lease 3 s; K's handler is slower (2 ms per message) so that it always holds claimed batches.
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
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
using testing::Eventually;
using testing::PgDatabases;
using testing::PgSession;
using testing::Process;
using testing::SteadyClock;
using testing::TempDir;

constexpr int kTenants = 20;
constexpr int kPerTenant = 1000;
constexpr int kTotal = kTenants * kPerTenant;
constexpr int64_t kLeaseMs = 3000;
constexpr milliseconds kWait{30000};
constexpr milliseconds kFinish{180000};

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct Delivery {
  std::string tenant;
  std::string message_id;
  int pid = 0;
  int64_t at_ms = 0;
  int attempt = 0;
};

std::vector<Delivery> ReadDeliveries(const std::filesystem::path& file) {
  std::vector<Delivery> out;
  for (const std::string& line : testing::SplitLines(testing::ReadText(file))) {
    std::istringstream in(line);
    Delivery d;
    in >> d.tenant >> d.message_id >> d.pid >> d.at_ms >> d.attempt;
    out.push_back(d);
  }
  return out;
}

size_t CountLines(const std::filesystem::path& file) {
  const std::string text = testing::ReadText(file);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class PostgresScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    std::string url;
    OBX_REQUIRE_TEST_POSTGRES(&url);
    dbs_ = std::make_unique<PgDatabases>(url);
    for (const char* name : {"discovery_static.so", "recording_handler.so"}) {
      const std::filesystem::path from =
          std::string(name) == "recording_handler.so" ? testing::BuildDir() / "test-plugins" / name
                                                      : testing::PluginDir() / name;
      ASSERT_TRUE(std::filesystem::exists(from)) << from << " is not built";
      std::filesystem::create_directories(plugins_);
      std::filesystem::copy_file(from, plugins_ / name);
    }
  }

  TempDir dir_;
  std::filesystem::path plugins_ = dir_ / "plugins";
  std::unique_ptr<PgDatabases> dbs_;
};

TEST_F(PostgresScaleOutTest, SigkillMidBatchLeavesNothingBehindAndNoDuplicateWhileLeaseHeld) {
  const std::filesystem::path deliveries = dir_ / "deliveries.txt";

  // 20 tenant databases from one template that already has the outbox table.
  const std::string template_url = dbs_->Create("obx_scale_tpl");
  ASSERT_FALSE(template_url.empty());
  {
    PgSession t(template_url);
    ASSERT_TRUE(t.Exec(testing::kPgOutboxDdl));
  }
  const std::string template_name = template_url.substr(template_url.rfind('/') + 1);
  std::vector<std::string> tenants;
  nlohmann::json databases = nlohmann::json::array();
  for (int i = 0; i < kTenants; ++i) {
    tenants.push_back(dbs_->Create("obx_scale_t", template_name));
    ASSERT_FALSE(tenants.back().empty());
    databases.push_back({{"identifier", "tenant-" + std::to_string(i)},
                         {"connection_string", tenants.back()}});
  }

  auto config_for = [&](const std::string& worker_id, int delay_us) {
    return nlohmann::json{
        {"plugin_dir", plugins_.string()},
        {"worker_id", worker_id},
        {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
        {"dispatch",
         {{"poll_interval", "10ms"},
          {"max_poll_interval", "100ms"},
          {"workers", 2},
          {"batch_size", 25},
          {"lease", std::to_string(kLeaseMs) + "ms"},
          {"shutdown_grace", "10s"}}},
        {"handlers",
         {{{"plugin", "recording_handler"},
           {"config", {{"file", deliveries.string()}, {"delay_us", delay_us}}}}}}};
  };
  std::map<std::string, std::unique_ptr<Process>> procs;
  for (const auto& [id, delay_us] : std::vector<std::pair<std::string, int>>{
           {"A", 100}, {"B", 100}, {"K", 2000}}) {
    procs[id] = testing::StartOutboxd(
        dir_, testing::WriteConfig(dir_, config_for(id, delay_us), id + ".json"), "outboxd-" + id);
    ASSERT_TRUE(procs[id]->ok()) << procs[id]->error();
  }
  for (auto& [id, p] : procs) {
    ASSERT_TRUE(p->WaitForLog("Discovery complete. Managing 20 outbox databases", kWait))
        << p->StderrTail();
  }
  const int k_pid = procs["K"]->pid();

  // The producers: 1,000 messages per tenant, inserted while the three relays poll.
  std::map<std::string, std::string> tenant_of;  // message id -> tenant
  std::vector<std::unique_ptr<PgSession>> sessions;
  for (int i = 0; i < kTenants; ++i) {
    sessions.push_back(std::make_unique<PgSession>(tenants[i]));
    ASSERT_TRUE(sessions.back()->ok()) << sessions.back()->error();
    ASSERT_TRUE(sessions.back()->Exec(
        "INSERT INTO infra.outbox (topic, payload) SELECT 'fixture.record', 'message ' || g "
        "FROM generate_series(1, " + std::to_string(kPerTenant) + ") AS g"));
    for (const std::string& id : sessions.back()->Column("SELECT message_id FROM infra.outbox"))
      tenant_of[id] = "tenant-" + std::to_string(i);
  }
  ASSERT_EQ(tenant_of.size(), static_cast<size_t>(kTotal)) << "duplicate message ids";

  // Kill K once ~30% are handled and K itself has handled some.
  auto k_delivered = [&] {
    for (const Delivery& d : ReadDeliveries(deliveries))
      if (d.pid == k_pid) return true;
    return false;
  };
  ASSERT_TRUE(Eventually([&] { return CountLines(deliveries) >= kTotal * 3 / 10 && k_delivered(); },
                         kFinish, milliseconds(20)))
      << CountLines(deliveries) << " deliveries" << procs["K"]->StderrTail(10);
  const size_t lines_at_kill = CountLines(deliveries);
  const int64_t kill_ms = NowMs();
  procs["K"]->Kill();
  std::optional<int> k_code = procs["K"]->WaitExit(kWait);
  ASSERT_TRUE(k_code.has_value());
  EXPECT_EQ(*k_code, 128 + SIGKILL);
  std::printf("[ scale-out ] SIGKILL of K (pid %d) after %zu of %d deliveries\n", k_pid,
              lines_at_kill, kTotal);

  // A and B finish everything, including what K held (after its leases run out).
  auto unfinished = [&] {
    int64_t n = 0;
    for (auto& s : sessions) n += s->Scalar("SELECT count(*) FROM infra.outbox WHERE status <> 2");
    return n;
  };
  const auto finish_start = SteadyClock::now();
  EXPECT_TRUE(Eventually([&] { return unfinished() == 0; }, kFinish, milliseconds(200)))
      << unfinished() << " rows not done" << procs["A"]->StderrTail(10)
      << procs["B"]->StderrTail(10);
  std::printf("[ scale-out ] all %d done %lld ms after the kill\n", kTotal,
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(
                                         SteadyClock::now() - finish_start)
                                         .count()));
  for (const char* id : {"A", "B"}) {
    ASSERT_TRUE(procs[id]->Signal(SIGTERM));
    std::optional<int> code = procs[id]->WaitExit(kWait);
    ASSERT_TRUE(code.has_value()) << id << " still running after SIGTERM";
    EXPECT_EQ(*code, 0) << procs[id]->StderrTail();
    // Neither survivor ever lost a lease: their claims never overlapped anybody's live lease.
    EXPECT_EQ(procs[id]->CountInStderr("lease_lost=0 "), 1) << procs[id]->StderrTail(5);
  }

  // ---- deliveries ----
  const std::vector<Delivery> delivered = ReadDeliveries(deliveries);
  std::map<std::string, std::vector<Delivery>> by_message;
  std::map<std::string, int> by_worker;  // "K" or "survivor"
  for (const Delivery& d : delivered) {
    auto it = tenant_of.find(d.message_id);
    if (it == tenant_of.end()) {
      ADD_FAILURE() << "unknown message id delivered: '" << d.message_id << "'";
      continue;
    }
    EXPECT_EQ(d.tenant, it->second) << d.message_id;
    by_message[d.message_id].push_back(d);
    ++by_worker[d.pid == k_pid ? "K" : "survivor"];
  }
  EXPECT_EQ(by_message.size(), tenant_of.size()) << "messages handled at least once";
  EXPECT_GT(by_worker["K"], 0);

  // Lower bound of K's lease expiry on anything it held: its heartbeat renewed every held batch
  // each lease/3 until the kill, so no lease of K's ran out before kill + 2/3 lease. Half a lease
  // leaves room for a late heartbeat on a loaded machine.
  const int64_t earliest_reclaim_ms = kill_ms + kLeaseMs / 2;
  std::set<std::string> redelivered;  // handled by a survivor with attempt >= 2
  int duplicates = 0;
  for (const auto& [id, ds] : by_message) {
    int by_k = 0, by_survivors = 0;
    for (const Delivery& d : ds) {
      if (d.pid == k_pid) {
        ++by_k;
        EXPECT_LE(d.at_ms, kill_ms + 1000) << id << " handled by K after it was killed";
      } else {
        ++by_survivors;
      }
      if (d.attempt >= 2) {
        redelivered.insert(id);
        EXPECT_NE(d.pid, k_pid) << id << ": K handled a reclaimed message";
        EXPECT_GE(d.at_ms, earliest_reclaim_ms)
            << id << " was reclaimed " << (d.at_ms - kill_ms)
            << " ms after K's death, while K's lease could still hold";
      } else {
        EXPECT_EQ(d.attempt, 1) << id;
      }
    }
    EXPECT_LE(by_survivors, 1) << id << " handled twice by the surviving relays";
    EXPECT_LE(by_k, 1) << id << " handled twice by K";
    if (ds.size() > 1) {
      ++duplicates;
      // The only allowed duplicate: K first (before it died), a survivor after K's lease expired.
      const Delivery& first = ds[0].at_ms <= ds[1].at_ms ? ds[0] : ds[1];
      const Delivery& second = ds[0].at_ms <= ds[1].at_ms ? ds[1] : ds[0];
      EXPECT_EQ(first.pid, k_pid) << id << " duplicated without K being involved";
      EXPECT_NE(second.pid, k_pid) << id;
      EXPECT_GE(second.attempt, 2) << id << ": the lost attempt was not counted";
      EXPECT_GE(second.at_ms, earliest_reclaim_ms) << id;
    }
  }
  EXPECT_GT(redelivered.size(), 0u) << "K died holding no lease: nothing was reclaimed";
  std::printf(
      "[ scale-out ] %zu deliveries for %zu messages: K %d, A+B %d; %zu reclaimed after K's "
      "leases expired, %d of them handled twice (K before the kill, A or B after)\n",
      delivered.size(), by_message.size(), by_worker["K"], by_worker["survivor"],
      redelivered.size(), duplicates);

  // ---- rows ----
  std::set<std::string> attempted;  // message ids whose row has attempts > 0
  int64_t done = 0, by_k_rows = 0;
  for (auto& s : sessions) {
    for (const auto& row : s->Rows(
             "SELECT message_id, status, attempts, coalesce(last_error, ''), "
             "coalesce(processed_by, '') FROM infra.outbox")) {
      const std::string& id = row[0];
      EXPECT_EQ(row[1], "2") << id << " status";
      if (row[1] == "2") ++done;
      if (row[4] == "K") ++by_k_rows;
      EXPECT_TRUE(row[4] == "A" || row[4] == "B" || row[4] == "K") << id << " " << row[4];
      if (std::stoi(row[2]) > 0) {
        attempted.insert(id);
        EXPECT_EQ(row[2], "1") << id << " attempts";
        EXPECT_EQ(row[3], "") << id << " a done row carries no last_error";
        EXPECT_NE(row[4], "K") << id << " reclaimed from K but completed by K";
      }
    }
  }
  EXPECT_EQ(done, kTotal);
  EXPECT_LE(by_k_rows, by_worker["K"]);
  // Attempts counted exactly for the reclaimed messages.
  EXPECT_EQ(attempted, redelivered);
}

}  // namespace
}  // namespace outboxd
