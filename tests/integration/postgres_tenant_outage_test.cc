// A PostgreSQL tenant that goes away while outboxd runs, two ways: its server is stopped (a private
// cluster of the test, pg_ctl stop / start on the same port), or its database is dropped (DROP
// DATABASE ... WITH (FORCE) on the shared server, then created again). Two healthy tenants on the
// shared server keep getting their messages delivered during the outage. The gone tenant is logged
// once per back-off step ("Outbox database 'flaky' unavailable: ...; retrying in N ms" with N
// strictly growing, never one line per poll), its URI carries a password that never appears in the
// log, and once it is back ("is available again") its messages are delivered.
//
// Both used to abort outboxd (a double free in Poco 1.11's PostgreSQL statements after a lost
// connection; see StoreConnection::AbandonStatements).
#include <gtest/gtest.h>
#include <signal.h>

#include <functional>
#include <memory>
#include <optional>
#include <regex>
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
using testing::PgPrivateCluster;
using testing::PgSession;
using testing::Process;
using testing::SteadyClock;
using testing::TempDir;

constexpr milliseconds kWait{20000};
constexpr char kPassword[] = "Pw-s3cret-8f1c";
constexpr char kUnavailable[] = "Outbox database 'flaky' unavailable: ";

// The N of every "Outbox database 'flaky' unavailable: ...; retrying in N ms" line, in order.
std::vector<long> BackoffSteps(const std::string& log) {
  std::vector<long> steps;
  static const std::regex re("retrying in ([0-9]+) ms");
  for (const std::string& line : testing::SplitLines(log)) {
    if (line.find(kUnavailable) == std::string::npos) continue;
    std::smatch m;
    if (std::regex_search(line, m, re)) steps.push_back(std::stol(m[1]));
  }
  return steps;
}

std::string Join(const std::vector<long>& v) {
  std::string out;
  for (long x : v) out += (out.empty() ? "" : ", ") + std::to_string(x);
  return out;
}

class PostgresTenantOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    std::string url;
    OBX_REQUIRE_TEST_POSTGRES(&url);
    dbs_ = std::make_unique<PgDatabases>(url);
    for (int i = 0; i < 2; ++i) {
      healthy_.push_back(dbs_->Create("obx_outage_ok"));
      ASSERT_FALSE(healthy_.back().empty());
      PgSession s(healthy_.back());
      ASSERT_TRUE(s.Exec(testing::kPgOutboxDdl));
    }
  }

  // Inserts one message into `url`'s outbox; its payload.
  std::string Insert(const std::string& url, const std::string& payload,
                     const std::string& due = "NULL") {
    PgSession s(url);
    EXPECT_TRUE(s.Exec("INSERT INTO infra.outbox (topic, payload, due_at) VALUES ('outage.ping', '" +
                       payload + "', " + due + ")"));
    return payload;
  }

  bool Delivered(const std::string& url, const std::string& payload) {
    PgSession s(url);
    return s.ok() && s.Scalar("SELECT count(*) FROM infra.outbox WHERE payload = '" + payload +
                              "' AND status = 2") == 1;
  }

  // The scenario. `flaky_url` (with kPassword) is the tenant that goes away through `take_down`
  // and comes back through `bring_back` (which returns it with an outbox table).
  void RunOutage(const std::string& flaky_url, const std::function<bool()>& take_down,
                 const std::function<bool()>& bring_back,
                 const std::function<void()>& before_down) {
    ASSERT_NE(flaky_url.find(kPassword), std::string::npos);
    nlohmann::json databases = {
        {{"identifier", "flaky"}, {"connection_string", flaky_url}},
        {{"identifier", "ok-1"}, {"connection_string", healthy_[0]}},
        {{"identifier", "ok-2"}, {"connection_string", healthy_[1]}}};
    nlohmann::json config = {
        {"plugin_dir", testing::PluginDir().string()},
        {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
        {"dispatch", {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"workers", 2}}},
        {"handlers", {{{"plugin", "log"}, {"topics", {"outage.ping"}}}}}};
    std::unique_ptr<Process> outboxd =
        testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config));
    ASSERT_TRUE(outboxd->ok()) << outboxd->error();
    ASSERT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 3 outbox databases", kWait))
        << outboxd->StderrTail();

    // Before: all three deliver.
    const std::vector<std::string> all = {flaky_url, healthy_[0], healthy_[1]};
    for (size_t i = 0; i < all.size(); ++i) {
      const std::string p = Insert(all[i], "before-" + std::to_string(i));
      EXPECT_TRUE(Eventually([&] { return Delivered(all[i], p); }, kWait, milliseconds(50)))
          << p << outboxd->StderrTail();
    }
    if (before_down) before_down();

    // The outage.
    ASSERT_TRUE(take_down());
    const auto down_at = SteadyClock::now();
    // The others keep going: messages inserted during the outage are delivered promptly, while
    // the gone tenant is backed off (three steps: 1 s, 2 s, 4 s at least).
    int round = 0;
    while (BackoffSteps(outboxd->Stderr()).size() < 3 &&
           SteadyClock::now() - down_at < milliseconds(60000)) {
      ASSERT_FALSE(outboxd->Exited()) << "outboxd died during the outage" << outboxd->StderrTail();
      for (size_t i = 0; i < healthy_.size(); ++i) {
        const std::string p =
            Insert(healthy_[i], "during-" + std::to_string(round) + "-" + std::to_string(i));
        EXPECT_TRUE(Eventually([&] { return Delivered(healthy_[i], p); }, milliseconds(5000),
                               milliseconds(20)))
            << p << " not delivered within 5 s during the outage" << outboxd->StderrTail();
      }
      ++round;
    }
    ASSERT_GE(BackoffSteps(outboxd->Stderr()).size(), 3u) << outboxd->StderrTail();
    EXPECT_GE(round, 2) << "healthy tenants checked fewer than twice during the outage";
    const double outage_s = std::chrono::duration<double>(SteadyClock::now() - down_at).count();

    // Back.
    ASSERT_TRUE(bring_back());
    ASSERT_TRUE(outboxd->WaitForLog("Outbox database 'flaky' is available again", milliseconds(90000)))
        << outboxd->StderrTail();
    const std::string after = Insert(flaky_url, "after");
    EXPECT_TRUE(Eventually([&] { return Delivered(flaky_url, after); }, kWait, milliseconds(50)))
        << outboxd->StderrTail();

    ASSERT_TRUE(outboxd->Signal(SIGTERM));
    std::optional<int> code = outboxd->WaitExit(kWait);
    ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
    EXPECT_EQ(*code, 0) << outboxd->StderrTail();

    // The log: one line per back-off step, N strictly growing, never the password.
    const std::string log = outboxd->Stderr();
    const std::vector<long> steps = BackoffSteps(log);
    std::printf("[ outage ] %.1f s down before the restart; back-off steps logged: %s ms\n",
                outage_s, Join(steps).c_str());
    EXPECT_EQ(steps.at(0), 1000) << Join(steps);
    for (size_t i = 1; i < steps.size(); ++i)
      EXPECT_GT(steps[i], steps[i - 1]) << "back-off steps " << Join(steps) << "\n" << log;
    EXPECT_EQ(testing::CountOccurrences(log, kUnavailable), static_cast<int>(steps.size()));
    EXPECT_EQ(testing::CountOccurrences(log, "Outbox database 'flaky' is available again"), 1);
    EXPECT_EQ(log.find(kPassword), std::string::npos) << "the password leaked into the log:\n" << log;
    // Only the gone tenant was ever unavailable.
    EXPECT_EQ(testing::CountOccurrences(log, "unavailable: "), static_cast<int>(steps.size()))
        << log;
  }

  TempDir dir_;
  std::unique_ptr<PgDatabases> dbs_;
  std::vector<std::string> healthy_;
};

TEST_F(PostgresTenantOutageTest, StoppedServerIsBackedOffAndPickedUpWhenItReturns) {
  PgPrivateCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  {
    PgSession admin(cluster.Url());
    ASSERT_TRUE(admin.Exec("CREATE DATABASE flaky"));
    PgSession flaky(cluster.Url("flaky"));
    ASSERT_TRUE(flaky.Exec(testing::kPgOutboxDdl));
  }
  const std::string flaky_url = cluster.Url("flaky", kPassword);
  // A message written before the server goes down, due only after it has: delivered after the
  // restart (nothing written before an outage is lost).
  std::string parked;
  auto before_down = [&] {
    parked = Insert(flaky_url, "parked", "now() + interval '4 seconds'");
  };
  ASSERT_NO_FATAL_FAILURE(RunOutage(
      flaky_url, [&] { return cluster.Stop(); }, [&] { return cluster.Start(); }, before_down));
  EXPECT_TRUE(Delivered(flaky_url, parked)) << "the message parked before the outage";
}

TEST_F(PostgresTenantOutageTest, DroppedDatabaseIsBackedOffAndPickedUpWhenRecreated) {
  const std::string flaky_url = testing::WithPassword(dbs_->Create("obx_outage_flaky"), kPassword);
  ASSERT_FALSE(HasFailure());
  {
    PgSession flaky(flaky_url);
    ASSERT_TRUE(flaky.Exec(testing::kPgOutboxDdl));
  }
  std::string name = flaky_url.substr(flaky_url.rfind('/') + 1);
  name = name.substr(0, name.find('?'));
  PgSession admin(dbs_->admin_url());
  ASSERT_TRUE(admin.ok()) << admin.error();
  ASSERT_NO_FATAL_FAILURE(RunOutage(
      flaky_url, [&] { return admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); },
      [&] {
        // Restored: created again with its outbox table (empty).
        if (!admin.Exec("CREATE DATABASE " + name)) return false;
        PgSession flaky(flaky_url);
        return flaky.Exec(testing::kPgOutboxDdl);
      },
      nullptr));
}

}  // namespace
}  // namespace outboxd
