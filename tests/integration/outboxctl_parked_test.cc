// `outboxctl --config FILE stats` reports the messages parked under dispatch.unknown_topic "park"
// (issue 11, item 3), on SQLite and on PostgreSQL, with the real binaries. outboxd's config lists
// two tenants and one handler entry (exec, topic "orders"); the private plugin folder also holds
// the good_handler fixture, which no entry names and which declares "fixture.good" and
// "fixture.other", so outboxd routes those too. Ready rows of any other topic are parked: stats
// counts them per tenant and in the total and names their topics. Under "fail" the same command
// prints neither, and the --connection form keeps its 0.1 output.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/pg_env.h"
#include "integration/support/process.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using testing::Outboxctl;
using testing::RunResult;
using testing::SplitLines;
using testing::TempDir;

const std::vector<std::string> kTenants = {"customer-001", "customer-002"};

class OutboxctlParkedTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    const fs::path good_handler = testing::BuildDir() / "test-plugins" / "good_handler.so";
    ASSERT_TRUE(fs::exists(good_handler)) << good_handler << " is not built";
    if (GetParam() == "postgresql") {
      std::string url;
      OBX_REQUIRE_TEST_POSTGRES(&url);
      pg_ = std::make_unique<testing::PgDatabases>(url);
      for (const std::string& t : kTenants) connections_[t] = pg_->Create("obx_parked");
    } else {
      for (const std::string& t : kTenants) {
        connections_[t] = testing::SqliteConnection(dir_ / (t + ".db"));
      }
    }
    for (const std::string& t : kTenants) {
      ASSERT_FALSE(connections_[t].empty());
      ASSERT_TRUE(ctl_.SchemaApply(connections_[t]));
    }
    // A private plugin folder as an operator keeps it (0755, files 0644).
    plugins_ = dir_ / "plugins";
    fs::create_directories(plugins_);
    fs::permissions(plugins_,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec,
                    fs::perm_options::replace);
    for (const fs::path& from : {testing::PluginDir() / "discovery_static.so",
                                 testing::PluginDir() / "handler_exec.so", good_handler}) {
      const fs::path to = plugins_ / from.filename();
      fs::copy_file(from, to);
      fs::permissions(to,
                      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                          fs::perms::others_read,
                      fs::perm_options::replace);
    }
  }

  std::string Config(const std::string& unknown_topic) const {
    nlohmann::json databases = nlohmann::json::array();
    for (const std::string& t : kTenants) {
      databases.push_back({{"identifier", t}, {"connection_string", connections_.at(t)}});
    }
    nlohmann::json config = {
        {"plugin_dir", plugins_.string()},
        {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
        {"dispatch", {{"unknown_topic", unknown_topic}}},
        {"handlers",
         {{{"plugin", "exec"},
           {"topics", {"orders"}},
           {"config", {{"command", {"/bin/true"}}}}}}}};
    return testing::WriteConfig(dir_, config, "outboxd-" + unknown_topic + ".json").string();
  }

  void Enqueue(const std::string& tenant, const std::string& topic, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_FALSE(ctl_.Enqueue(connections_.at(tenant), topic, "p").empty());
    }
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::unique_ptr<testing::PgDatabases> pg_;
  std::map<std::string, std::string> connections_;  // tenant -> connection string
  fs::path plugins_;
};

TEST_P(OutboxctlParkedTest, StatsCountsParkedMessagesPerTenantOnlyUnderPark) {
  // customer-001: 2 routed by the config, 2 routed by the plugin's declared topics (matched
  // without regard to case, as outboxd routes them), 3 parked. customer-002: 1 routed, 1 parked.
  ASSERT_NO_FATAL_FAILURE(Enqueue("customer-001", "orders", 2));
  ASSERT_NO_FATAL_FAILURE(Enqueue("customer-001", "fixture.good", 1));
  ASSERT_NO_FATAL_FAILURE(Enqueue("customer-001", "Fixture.Other", 1));
  ASSERT_NO_FATAL_FAILURE(Enqueue("customer-001", "refunds", 3));
  ASSERT_NO_FATAL_FAILURE(Enqueue("customer-002", "orders", 1));
  ASSERT_NO_FATAL_FAILURE(Enqueue("customer-002", "refunds", 1));

  const std::string park = Config("park");
  RunResult r = ctl_.Run({"stats", "--json", "--config", park});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json stats = nlohmann::json::parse(r.out);
  ASSERT_EQ(stats.at("tenants").size(), 2u) << r.out;
  const nlohmann::json& t1 = stats["tenants"][0];
  const nlohmann::json& t2 = stats["tenants"][1];
  EXPECT_EQ(t1.at("tenant"), "customer-001");
  EXPECT_EQ(t1.at("ready"), 7);
  EXPECT_EQ(t1.at("parked"), 3) << r.out;
  EXPECT_EQ(t1.at("parked_topics"), nlohmann::json::array({"refunds"})) << r.out;
  EXPECT_EQ(t2.at("tenant"), "customer-002");
  EXPECT_EQ(t2.at("parked"), 1) << r.out;
  EXPECT_EQ(t2.at("parked_topics"), nlohmann::json::array({"refunds"})) << r.out;
  EXPECT_EQ(stats.at("total").at("parked"), 4) << r.out;
  EXPECT_EQ(stats.at("total").at("parked_topics"), nlohmann::json::array({"refunds"})) << r.out;

  r = ctl_.Run({"stats", "--config", park});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;  // header, 2 tenants, total
  EXPECT_EQ(lines[0].rfind("TENANT        READY  IN_PROGRESS  DONE  FAILED  OLDEST_READY_AGE  "
                           "PARKED  PARKED_TOPICS",
                           0),
            0u)
      << r.out;
  EXPECT_NE(lines[1].find("      3  refunds"), std::string::npos) << r.out;
  EXPECT_NE(lines[3].find("      4  refunds"), std::string::npos) << r.out;

  // Under "fail" nothing is parked, so there is no parked column or key.
  const std::string fail = Config("fail");
  r = ctl_.Run({"stats", "--json", "--config", fail});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  stats = nlohmann::json::parse(r.out);
  ASSERT_EQ(stats.at("tenants").size(), 2u) << r.out;
  for (const nlohmann::json& row : stats["tenants"]) {
    EXPECT_FALSE(row.contains("parked")) << r.out;
    EXPECT_FALSE(row.contains("parked_topics")) << r.out;
  }
  EXPECT_FALSE(stats.at("total").contains("parked")) << r.out;
  EXPECT_EQ(stats.at("total").at("ready"), 9) << r.out;
  r = ctl_.Run({"stats", "--config", fail});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("PARKED"), std::string::npos) << r.out;

  // --connection keeps its 0.1 output.
  r = ctl_.Run({"stats", "--connection", connections_.at("customer-001")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "{\"ready\":7,\"in_progress\":0,\"done\":0,\"failed\":0}\n");
}

INSTANTIATE_TEST_SUITE_P(Engines, OutboxctlParkedTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "sqlite" ? std::string("Sqlite")
                                                         : std::string("Postgres");
                         });

}  // namespace
}  // namespace outboxd
