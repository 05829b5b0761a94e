// Issue 14, "what to build" 3: every hostile connection string of tests/support/
// hostile_connections.h, through the error paths of the real binaries that bad_input_test.cc does
// not already cover: a running outboxd with every hostile shape as a tenant, scraped over HTTP
// (/status with each tenant's last_error, /metrics, /healthz, /readyz) and logging; the fleet
// commands of outboxctl --config on the same configuration; --check-config; and configuration
// values that are connection strings pasted under the wrong key (exit 2). The secret must appear
// nowhere: logs, stderr, stdout, response bodies.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/support/observe_env.h"
#include "integration/support/outbox_env.h"
#include "support/hostile_connections.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::HostileConnections;
using testing::HttpGet;
using testing::Outboxctl;
using testing::Process;
using testing::RunResult;
using testing::TempDir;

constexpr milliseconds kWait{30000};

class RedactionEverywhereTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::BinariesBuilt()); }

  // Every hostile shape as a tenant, next to one good SQLite tenant.
  nlohmann::json FleetConfig() const {
    nlohmann::json databases = nlohmann::json::array();
    databases.push_back({{"identifier", "good"},
                         {"connection_string", testing::SqliteConnection(dir_ / "good.db")}});
    for (size_t i = 0; i < HostileConnections().size(); ++i) {
      databases.push_back({{"identifier", "hostile-" + std::to_string(i)},
                           {"connection_string", HostileConnections()[i].connection}});
    }
    return {{"plugin_dir", testing::PluginDir().string()},
            {"log_level", "debug"},
            {"http", {{"listen", "127.0.0.1:0"}}},
            {"discovery",
             {{"plugin", "static"},
              {"refresh_interval", "200ms"},
              {"config", {{"databases", databases}}}}},
            {"dispatch", {{"poll_interval", "20ms"}, {"max_poll_interval", "100ms"}}},
            {"handlers", {{{"plugin", "log"}, {"topics", {"email.send"}}}}}};
  }

  static void ExpectNoSecretAnywhere(const std::string& text, const std::string& where) {
    for (const auto& c : HostileConnections()) testing::ExpectNoSecret(text, c, where);
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
};

TEST_F(RedactionEverywhereTest, StatusMetricsAndLogsOfARunningOutboxdNeverShowAPassword) {
  ASSERT_TRUE(ctl_.SchemaApply(testing::SqliteConnection(dir_ / "good.db")));
  std::unique_ptr<Process> outboxd =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, FleetConfig()));
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  const int port = testing::WaitForHttpPort(outboxd.get());
  ASSERT_GT(port, 0) << outboxd->StderrTail();
  // Every hostile tenant has failed at least once: either its store could not even be created
  // ("Cannot open outbox database 'hostile-N'" in the log) or /status shows it backed off with its
  // last_error.
  std::string status;
  size_t in_status = 0;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        testing::HttpResult r = HttpGet(port, "/status");
        if (r.status != 200) return false;
        status = r.body;
        const nlohmann::json doc = nlohmann::json::parse(r.body, nullptr, false);
        if (doc.is_discarded() || !doc.contains("tenants")) return false;
        const std::string err = outboxd->Stderr();
        in_status = 0;
        for (size_t i = 0; i < HostileConnections().size(); ++i) {
          const std::string id = "hostile-" + std::to_string(i);
          bool failed = err.find("Cannot open outbox database '" + id + "'") != std::string::npos;
          for (const auto& t : doc["tenants"]) {
            if (t.value("id", "") == id && !t.value("last_error", "").empty()) {
              failed = true;
              ++in_status;
            }
          }
          if (!failed) return false;
        }
        return true;
      },
      kWait, milliseconds(100)))
      << status << outboxd->StderrTail();
  EXPECT_GT(in_status, 0u) << "no hostile tenant reached /status with a last_error: " << status;
  ExpectNoSecretAnywhere(status, "/status");
  for (const char* path : {"/metrics", "/healthz", "/readyz", "/status"}) {
    testing::HttpResult r = HttpGet(port, path);
    EXPECT_NE(r.status, 0) << path;
    ExpectNoSecretAnywhere(r.body, path);
  }
  ASSERT_TRUE(outboxd->Signal(SIGTERM));
  ASSERT_TRUE(outboxd->WaitExit(kWait).has_value()) << outboxd->StderrTail();
  ExpectNoSecretAnywhere(outboxd->Stderr(), "outboxd stderr");
  ExpectNoSecretAnywhere(outboxd->Stdout(), "outboxd stdout");
}

TEST_F(RedactionEverywhereTest, FleetCommandsAndCheckConfigNeverShowAPassword) {
  ASSERT_TRUE(ctl_.SchemaApply(testing::SqliteConnection(dir_ / "good.db")));
  const std::string config = testing::WriteConfig(dir_, FleetConfig()).string();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"tenants", "--config", config},
           {"tenants", "--config", config, "--json"},
           {"stats", "--config", config},
           {"failed", "list", "--config", config},
           {"schema", "status", "--config", config},
           {"replay", "--config", config, "--all-failed", "--dry-run"},
           {"tenants", "--config", config, "--tenant", "hostile-0"}}) {
    RunResult r = ctl_.Run(args);
    EXPECT_NE(r.exit_code, 0) << args[0] << ": the hostile tenants fail" << r.out << r.err;
    EXPECT_FALSE(r.out.empty() && r.err.empty()) << args[0];
    ExpectNoSecretAnywhere(r.out, "outboxctl " + args[0] + " stdout");
    ExpectNoSecretAnywhere(r.err, "outboxctl " + args[0] + " stderr");
  }
  RunResult check =
      testing::RunProgram(testing::OutboxdBinary(), {"--check-config", config}, dir_.path());
  EXPECT_FALSE(check.out.empty() && check.err.empty());
  ExpectNoSecretAnywhere(check.out, "--check-config stdout");
  ExpectNoSecretAnywhere(check.err, "--check-config stderr");
}

// A connection string pasted into a key that takes a name, a duration or a listen address: the error
// names the key and exits 2, and shows no password.
TEST_F(RedactionEverywhereTest, ConfigurationErrorsNeverShowAPassword) {
  for (const auto& c : HostileConnections()) {
    for (const std::vector<std::string>& key : std::vector<std::vector<std::string>>{
             {"discovery", "plugin"}, {"http", "listen"}, {"discovery", "refresh_interval"},
             {"plugin_dir"}, {"staging_dir"}}) {
      nlohmann::json config = FleetConfig();
      if (key.size() == 1) {
        config[key[0]] = c.connection;
      } else {
        config[key[0]][key[1]] = c.connection;
      }
      const std::string file = testing::WriteConfig(dir_, config).string();
      for (const char* flag : {"--config", "--check-config"}) {
        RunResult r = testing::RunProgram(testing::OutboxdBinary(), {flag, file}, dir_.path());
        const std::string where = std::string(flag) + " " + key.back() + " [" + c.name + "]";
        EXPECT_EQ(r.exit_code, 2) << where << ": " << r.err;
        testing::ExpectNoSecret(r.err, c, where + " stderr");
        testing::ExpectNoSecret(r.out, c, where + " stdout");
      }
      RunResult ctl = ctl_.Run({"tenants", "--config", file});
      testing::ExpectNoSecret(ctl.err, c, "outboxctl " + key.back() + " stderr");
      testing::ExpectNoSecret(ctl.out, c, "outboxctl " + key.back() + " stdout");
    }
  }
}

}  // namespace
}  // namespace outboxd
