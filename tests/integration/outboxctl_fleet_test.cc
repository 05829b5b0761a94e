// `outboxctl --config` end to end, on SQLite and on PostgreSQL, with the real binaries: outboxd's
// own configuration names the `static` discovery plugin listing three tenant databases and a
// fourth that cannot be reached (a missing SQLite file; a PostgreSQL database that does not exist,
// with a password in its URI). A running outboxd fails every message at first (the exec handler's
// program exits 65, a permanent failure); the tests then look at the failures across tenants with
// outboxctl, replay them (one id, a topic, all) while outboxd runs and delivers them as attempt 1,
// and purge what is left. The unreachable tenant is reported on its own line every time while the
// others answer, and the run exits 1.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <algorithm>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/pg_env.h"
#include "integration/support/process.h"
#include "support/postgres_test_server.h"
#include "store/outbox_store.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Outboxctl;
using testing::Process;
using testing::RunResult;
using testing::SplitLines;
using testing::TempDir;

constexpr milliseconds kWait{30000};
const std::vector<std::string> kTenants = {"customer-001", "customer-002", "customer-003"};
constexpr char kDown[] = "customer-404";

// The exec handler's program: exits 65 (permanent failure) while <fail flag> exists, else appends
// "<tenant> <message id> <attempt>" to <deliveries>.
constexpr char kHandlerScript[] =
    "#!/bin/sh\n"
    "if [ -e \"$2\" ]; then echo \"refused by the test\" >&2; exit 65; fi\n"
    "echo \"$OUTBOX_TENANT $OUTBOX_MESSAGE_ID $OUTBOX_ATTEMPT\" >> \"$1\"\n";

class OutboxctlFleetTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    if (GetParam() == "postgresql") {
      std::string url;
      OBX_REQUIRE_TEST_POSTGRES(&url);
      pg_ = std::make_unique<testing::PgDatabases>(url);
      for (const std::string& t : kTenants) connections_[t] = pg_->Create("obx_fleet");
      down_ = testing::WithPassword(
          testing::WithDatabase(url, testing::UniqueDbName("obx_fleet_missing")), "hunter2");
    } else {
      for (const std::string& t : kTenants) {
        connections_[t] = testing::SqliteConnection(dir_ / (t + ".db"));
      }
      down_ = testing::SqliteConnection(dir_ / "gone" / "customer-404.db");
    }
    for (const std::string& t : kTenants) {
      ASSERT_FALSE(connections_[t].empty());
      ASSERT_TRUE(ctl_.SchemaApply(connections_[t]));
    }
    nlohmann::json databases = nlohmann::json::array();
    for (const std::string& t : kTenants) {
      databases.push_back({{"identifier", t}, {"connection_string", connections_[t]}});
    }
    databases.push_back({{"identifier", kDown}, {"connection_string", down_}});
    script_ = dir_.WriteFile("handler.sh", kHandlerScript);
    fail_flag_ = dir_.WriteFile("fail", "");
    deliveries_ = dir_ / "deliveries.txt";
    nlohmann::json config = {
        {"plugin_dir", testing::PluginDir().string()},
        {"discovery",
         {{"plugin", "static"}, {"config", {{"databases", databases}}}, {"refresh_interval", "1s"}}},
        {"dispatch",
         {{"poll_interval", "50ms"}, {"max_poll_interval", "200ms"}, {"workers", 2},
          {"max_attempts", 3}}},
        {"handlers",
         {{{"plugin", "exec"},
           {"topics", {"orders", "emails"}},
           {"config",
            {{"command",
              {"/bin/sh", script_.string(), deliveries_.string(), fail_flag_.string()}}}}}}}};
    config_ = testing::WriteConfig(dir_, config).string();
  }

  RunResult Ctl(std::vector<std::string> args) const {
    args.insert(args.end(), {"--config", config_});
    return ctl_.Run(args);
  }

  // Enqueues two "orders" and one "emails" per tenant through `outboxctl enqueue --tenant`.
  void EnqueueFailingMessages() {
    for (const std::string& t : kTenants) {
      for (const char* topic : {"orders", "orders", "emails"}) {
        RunResult r = Ctl({"enqueue", "--tenant", t, "--topic", topic, "--payload", "p"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        std::vector<std::string> lines = SplitLines(r.out);
        ASSERT_EQ(lines.size(), 1u) << r.out;
        ids_[t].push_back(lines[0]);
        topic_of_[lines[0]] = topic;
      }
    }
  }

  // Every tenant's messages failed (exit 65 is permanent: one attempt each).
  bool WaitAllFailed() {
    return testing::Eventually(
        [&] {
          for (const std::string& t : kTenants) {
            std::optional<StoreStats> s = ctl_.Stats(connections_[t]);
            if (!s || s->failed != 3) return false;
          }
          return true;
        },
        kWait, milliseconds(100));
  }

  // The unreachable tenant's one stderr line, and no password anywhere.
  void ExpectDownReported(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    std::vector<std::string> lines = SplitLines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0].rfind(std::string("outboxctl: tenant '") + kDown + "' (", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
  }

  std::unique_ptr<Process> StartOutboxd() {
    return testing::StartOutboxd(dir_, config_);
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::unique_ptr<testing::PgDatabases> pg_;
  std::map<std::string, std::string> connections_;  // tenant -> connection string
  std::string down_;
  std::filesystem::path script_;
  std::filesystem::path fail_flag_;
  std::filesystem::path deliveries_;
  std::string config_;
  std::map<std::string, std::vector<std::string>> ids_;  // tenant -> message ids
  std::map<std::string, std::string> topic_of_;           // message id -> topic
};

TEST_P(OutboxctlFleetTest, TenantsAndStatsAcrossTheFleetWithOneTenantDown) {
  ASSERT_NO_FATAL_FAILURE(EnqueueFailingMessages());
  RunResult r = Ctl({"enqueue", "--tenant", "nobody", "--topic", "t", "--payload", "p"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--tenant: discovery plugin 'static' lists no tenant 'nobody'"),
            std::string::npos)
      << r.err;

  std::unique_ptr<Process> outboxd = StartOutboxd();
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  ASSERT_TRUE(WaitAllFailed()) << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->Signal(SIGTERM));
  ASSERT_EQ(outboxd->WaitExit(kWait), std::optional<int>(0)) << outboxd->StderrTail();

  r = Ctl({"stats", "--json"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  nlohmann::json stats = nlohmann::json::parse(r.out);
  ASSERT_EQ(stats.at("tenants").size(), 4u) << r.out;
  for (std::size_t i = 0; i < kTenants.size(); ++i) {
    const nlohmann::json& row = stats["tenants"][i];
    EXPECT_EQ(row.at("tenant"), kTenants[i]);
    EXPECT_EQ(row.at("failed"), 3);
    EXPECT_EQ(row.at("ready"), 0);
    EXPECT_EQ(row.at("done"), 0);
    EXPECT_EQ(row.at("in_progress"), 0);
  }
  EXPECT_EQ(stats["tenants"][3].at("tenant"), kDown);
  EXPECT_TRUE(stats["tenants"][3].contains("error"));
  EXPECT_EQ(stats.at("total").at("failed"), 9);

  r = Ctl({"stats"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out;  // header, 4 tenants, total
  EXPECT_EQ(lines[0].rfind("TENANT        READY  IN_PROGRESS  DONE  FAILED", 0), 0u) << r.out;
  EXPECT_EQ(lines[1], "customer-001      0            0     0       3                 -") << r.out;
  EXPECT_EQ(lines[4].rfind("customer-404      -            -     -       -  ", 0), 0u) << r.out;
  EXPECT_EQ(lines[5], "TOTAL             0            0     0       9                 -") << r.out;

  r = Ctl({"tenants", "--json"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  nlohmann::json tenants = nlohmann::json::parse(r.out);
  ASSERT_EQ(tenants.size(), 4u) << r.out;
  for (std::size_t i = 0; i < kTenants.size(); ++i) {
    EXPECT_EQ(tenants[i].at("tenant"), kTenants[i]);
    EXPECT_EQ(tenants[i].at("engine"), GetParam());
    EXPECT_EQ(tenants[i].at("reachable"), true);
    EXPECT_EQ(tenants[i].at("failed"), 3);
  }
  EXPECT_EQ(tenants[3].at("reachable"), false);

  // One tenant alone: the unreachable one is not visited, so nothing fails.
  r = Ctl({"stats", "--tenant", "customer-002", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  stats = nlohmann::json::parse(r.out);
  ASSERT_EQ(stats.at("tenants").size(), 1u);
  EXPECT_EQ(stats["total"].at("failed"), 3);
}

// Delivery lines of the handler script: message id -> attempts seen (OUTBOX_ATTEMPT), in order.
std::map<std::string, std::vector<std::string>> Delivered(const std::filesystem::path& file) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& line : SplitLines(testing::ReadText(file))) {
    std::istringstream in(line);
    std::string tenant, id, attempt;
    in >> tenant >> id >> attempt;
    out[id].push_back(attempt);
  }
  return out;
}

TEST_P(OutboxctlFleetTest, FailedListReplayAndPurgeWhileOutboxdRuns) {
  ASSERT_NO_FATAL_FAILURE(EnqueueFailingMessages());
  std::unique_ptr<Process> outboxd = StartOutboxd();
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  ASSERT_TRUE(WaitAllFailed()) << outboxd->StderrTail();

  // failed list across the fleet; the unreachable tenant is reported, the others answer.
  RunResult r = Ctl({"failed", "list", "--json"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  nlohmann::json failed = nlohmann::json::parse(r.out);
  ASSERT_EQ(failed.size(), 9u) << r.out;
  std::set<std::string> listed;
  for (const nlohmann::json& row : failed) {
    const std::string id = row.at("message_id");
    const std::string tenant = row.at("tenant");
    ASSERT_EQ(std::count(ids_[tenant].begin(), ids_[tenant].end(), id), 1) << row.dump();
    EXPECT_EQ(row.at("topic"), topic_of_[id]);
    EXPECT_EQ(row.at("attempts"), 1);
    EXPECT_NE(row.at("last_error").get<std::string>().find("exit code 65"), std::string::npos)
        << row.dump();
    EXPECT_EQ(row.at("last_error").get<std::string>().find('\n'), std::string::npos);
    EXPECT_EQ(row.at("processed_at").get<std::string>().size(), 24u) << row.dump();
    listed.insert(id);
  }
  EXPECT_EQ(listed.size(), 9u);
  r = Ctl({"failed", "list", "--topic", "emails", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 3u) << r.out;
  r = Ctl({"failed", "list", "--tenant", "customer-001"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out).size(), 4u) << r.out;  // header + 3 rows
  EXPECT_EQ(r.out.rfind("TENANT        ID  MESSAGE_ID", 0), 0u) << r.out;

  std::filesystem::remove(fail_flag_);  // the handler delivers from now on
  size_t delivered = 0;
  auto wait_delivered = [&](size_t n) {
    return testing::Eventually([&] { return Delivered(deliveries_).size() == n; }, kWait,
                               milliseconds(50));
  };

  // 1. One id.
  const std::string one = ids_["customer-001"][0];
  r = Ctl({"replay", "--tenant", "customer-001", "--message-id", one, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json::parse(
                R"({"tenants":[{"tenant":"customer-001","replayed":1}],"total":1,"dry_run":false})"));
  ASSERT_TRUE(wait_delivered(delivered += 1)) << outboxd->StderrTail();

  // 2. A topic, across the fleet: dry run first (nothing changes), then for real.
  r = Ctl({"replay", "--topic", "emails", "--dry-run", "--json"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  nlohmann::json dry = nlohmann::json::parse(r.out);
  EXPECT_EQ(dry.at("total"), 3);
  EXPECT_EQ(dry["tenants"][0].at("would_replay"), 1);
  EXPECT_EQ(ctl_.Stats(connections_["customer-002"])->failed, 3);
  r = Ctl({"replay", "--topic", "emails"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_EQ(lines[0], "TENANT        REPLAYED  ERROR") << r.out;
  EXPECT_EQ(lines[1], "customer-001         1") << r.out;
  EXPECT_EQ(lines[5], "TOTAL                3") << r.out;
  ASSERT_TRUE(wait_delivered(delivered += 3)) << outboxd->StderrTail();

  // 3. Everything failed in one tenant.
  r = Ctl({"replay", "--tenant", "customer-002", "--all-failed", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("total"), 2);
  ASSERT_TRUE(wait_delivered(delivered += 2)) << outboxd->StderrTail();

  // Every replayed message was delivered once, as attempt 1.
  std::map<std::string, std::vector<std::string>> seen = Delivered(deliveries_);
  EXPECT_EQ(seen.size(), 6u);
  for (const auto& [id, attempts] : seen) {
    EXPECT_EQ(attempts, std::vector<std::string>{"1"}) << id;
  }
  EXPECT_EQ(seen.count(one), 1u);
  for (const std::string& id : ids_["customer-002"]) EXPECT_EQ(seen.count(id), 1u) << id;

  r = Ctl({"failed", "show", "--tenant", "customer-001", "--message-id", one, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json shown = nlohmann::json::parse(r.out);
  ASSERT_EQ(shown.size(), 1u) << r.out;
  EXPECT_EQ(shown[0].at("status"), "done");
  EXPECT_EQ(shown[0].at("replay_count"), 1);
  EXPECT_EQ(shown[0].at("payload"), "p");
  r = Ctl({"failed", "show", "--tenant", "customer-001", "--message-id", "no-such-id"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tenant 'customer-001'"), std::string::npos) << r.err;

  // Left failed: customer-001's second "orders", customer-003's two "orders".
  r = Ctl({"purge", "--failed", "--dry-run", "--json"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  EXPECT_EQ(nlohmann::json::parse(r.out).at("total"), 3) << r.out;
  EXPECT_EQ(ctl_.Stats(connections_["customer-003"])->failed, 2);
  EXPECT_EQ(ctl_.Stats(connections_["customer-001"])->failed, 1);
  r = Ctl({"purge", "--failed", "--tenant", "customer-003", "--topic", "orders", "--yes",
           "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("total"), 2) << r.out;
  for (const auto& [tenant, failed_left, done] :
       std::vector<std::tuple<std::string, int, int>>{
           {"customer-001", 1, 2}, {"customer-002", 0, 3}, {"customer-003", 0, 1}}) {
    std::optional<StoreStats> stats = ctl_.Stats(connections_[tenant]);
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->failed, failed_left) << tenant;
    EXPECT_EQ(stats->done, done) << tenant;
    EXPECT_EQ(stats->ready + stats->in_progress, 0) << tenant;
  }

  r = Ctl({"schema", "status", "--json"});
  ASSERT_NO_FATAL_FAILURE(ExpectDownReported(r));
  nlohmann::json schema = nlohmann::json::parse(r.out);
  ASSERT_EQ(schema.size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(schema[i].at("version"), kOutboxSchemaVersion);
    EXPECT_EQ(schema[i].at("state"), "current");
  }

  ASSERT_TRUE(outboxd->Signal(SIGTERM));
  EXPECT_EQ(outboxd->WaitExit(kWait), std::optional<int>(0)) << outboxd->StderrTail();
}

// PostgreSQL: `schema apply` on a version-1 table while a transaction older than the upgrade
// stays open in the database (a pg_dump, a long report). The failed-rows index cannot be built
// before that transaction ends (CREATE INDEX CONCURRENTLY waits for it, at most the busy
// timeout); the table stays usable, and apply says that the upgrade is not finished (exit 1)
// instead of "schema ready". Once the transaction has ended, apply finishes the upgrade.
TEST(OutboxctlSchemaApplyTest, PostgresUpgradeHeldByALongTransactionIsReportedNotFinished) {
  ASSERT_TRUE(testing::BinariesBuilt());
  std::string url;
  OBX_REQUIRE_TEST_POSTGRES(&url);
  TempDir dir;
  Outboxctl ctl(dir.path());
  testing::PgDatabases databases(url);
  const std::string db = databases.Create("obx_apply_held");
  ASSERT_FALSE(db.empty());
  ASSERT_TRUE(ctl.SchemaApply(db));
  // Back to version 1's shape where it matters: no failed-rows index, no version row.
  testing::PgSession admin(db);
  ASSERT_TRUE(admin.Exec("DROP INDEX infra.ix_outbox_failed; DELETE FROM infra.outbox_schema"));
  ASSERT_EQ(ctl.Enqueue(db, "orders", "p").empty(), false);

  testing::PgSession old(db);
  ASSERT_TRUE(old.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ"));
  ASSERT_EQ(old.Scalar("SELECT 1"), 1);
  RunResult r = ctl.Run({"schema", "apply", "--connection", db});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "") << "not \"schema ready\"";
  EXPECT_NE(r.err.find("upgrade to schema version " + std::to_string(kOutboxSchemaVersion) +
                       " not finished (the table is at version 1 and usable)"),
            std::string::npos)
      << r.err;
  r = ctl.Run({"schema", "status", "--connection", db, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"upgrade pending\""), std::string::npos) << r.out;
  // Usable meanwhile.
  EXPECT_FALSE(ctl.Enqueue(db, "orders", "p").empty());
  std::optional<StoreStats> stats = ctl.Stats(db);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->ready, 2);

  ASSERT_TRUE(old.Exec("COMMIT"));
  ASSERT_TRUE(ctl.SchemaApply(db));
  EXPECT_EQ(admin.Scalar("SELECT COUNT(*) FROM pg_index WHERE indexrelid = "
                         "to_regclass('infra.ix_outbox_failed') AND indisvalid"),
            1);
  EXPECT_EQ(admin.Scalar("SELECT version FROM infra.outbox_schema WHERE table_name = 'outbox'"),
            kOutboxSchemaVersion);
}

INSTANTIATE_TEST_SUITE_P(Engines, OutboxctlFleetTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "sqlite" ? std::string("Sqlite")
                                                         : std::string("Postgres");
                         });

}  // namespace
}  // namespace outboxd
