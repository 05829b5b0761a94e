// DiscoveryInstance: records copied into TenantLocations with defaults, malformed records skipped
// and logged without secrets, failures leaving the caller's set alone.
#include "plugin/discovery_instance.h"

#include <gtest/gtest.h>

#include "host/plugin/plugin_test_support.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using plugin_testing::LoadFixture;
using plugin_testing::LogCapture;
using testing::TempDir;

class DiscoveryInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_.path() / "plugins"); }

  std::shared_ptr<LoadedPlugin> Load(const std::string& fixture) {
    std::shared_ptr<LoadedPlugin> plugin;
    Status s = LoadFixture(dir_.path() / "plugins", dir_.path() / "staging", fixture, &plugin);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return plugin;
  }

  std::unique_ptr<DiscoveryInstance> Make(const std::string& fixture, const std::string& config) {
    std::unique_ptr<DiscoveryInstance> instance;
    Status s = DiscoveryInstance::Create(Load(fixture), config, &instance);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return instance;
  }

  static std::vector<std::string> Ids(const std::vector<TenantLocation>& locations) {
    std::vector<std::string> ids;
    for (const TenantLocation& l : locations) ids.push_back(l.identifier);
    return ids;
  }

  TempDir dir_;
};

TEST_F(DiscoveryInstanceTest, CopiesRecordsAndFillsDefaults) {
  std::unique_ptr<DiscoveryInstance> d = Make("discovery_fixture", "{}");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->plugin().name(), "discovery_fixture");
  std::vector<TenantLocation> out;
  ASSERT_TRUE(d->Discover(&out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].identifier, "tenant-1");
  EXPECT_EQ(out[0].connection_string, "sqlite:/data/1.db");
  EXPECT_EQ(out[0].schema_name, "infra");
  EXPECT_EQ(out[0].table_name, "outbox");
  EXPECT_EQ(out[1].identifier, "tenant-2");
  EXPECT_EQ(out[1].schema_name, "s2");
  EXPECT_EQ(out[1].table_name, "t2");
}

TEST_F(DiscoveryInstanceTest, SkipsMalformedRecordsAndLogsThemWithoutSecrets) {
  std::unique_ptr<DiscoveryInstance> d = Make("discovery_fixture", "{\"mode\":\"mixed\"}");
  ASSERT_NE(d, nullptr);
  LogCapture log;
  std::vector<TenantLocation> out;
  ASSERT_TRUE(d->Discover(&out).ok());
  EXPECT_EQ(Ids(out), (std::vector<std::string>{"tenant-a", "tenant-b", "tenant-e"}));
  EXPECT_EQ(out[0].connection_string, "sqlite:/data/a.db");  // the first record of an id wins
  EXPECT_EQ(out[1].connection_string, "postgresql://app:s3cret-pw@db/b");  // stored unredacted
  EXPECT_EQ(out[1].schema_name, "tenants");
  EXPECT_EQ(out[1].table_name, "messages");

  const std::vector<std::string> skipped =
      plugin_testing::Matching(log, "discovery plugin 'discovery_fixture'");
  ASSERT_EQ(skipped.size(), 5u);
  for (const std::string& line : skipped) EXPECT_EQ(line.rfind("warning ", 0), 0u) << line;
  EXPECT_TRUE(log.Contains("record #2 '' skipped: identifier is empty"));
  EXPECT_TRUE(
      log.Contains("record #4 'tenant-c' skipped: connection_string is empty (connection <none>)"));
  EXPECT_TRUE(
      log.Contains("record #5 'tenant-a' skipped: duplicate identifier in this listing "
                   "(connection 'postgresql://app:***@db/a2')"));
  EXPECT_TRUE(log.Contains("record #6 'bad-\\xFF\\xFE' skipped: identifier is not valid UTF-8"));
  EXPECT_TRUE(log.Contains("record #7 'tenant-d' skipped: table_name is longer than 63 bytes"));
  for (const std::string& line : log.Lines()) {
    EXPECT_EQ(line.find("dup-secret"), std::string::npos) << line;
    EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
  }
}

// Issue 14, finding 18: the same malformed records at every refresh are logged once (and counted
// every time), not at every listing.
TEST_F(DiscoveryInstanceTest, RecordsSkippedAgainAreCountedButNotLoggedAgain) {
  std::unique_ptr<DiscoveryInstance> d = Make("discovery_fixture", "{\"mode\":\"mixed\"}");
  ASSERT_NE(d, nullptr);
  const int64_t total_before = RejectedRecordLog::RejectedTotal();
  LogCapture log;
  for (int listing = 0; listing < 3; ++listing) {
    std::vector<TenantLocation> out;
    ASSERT_TRUE(d->Discover(&out).ok());
    EXPECT_EQ(out.size(), 3u);
    EXPECT_EQ(RejectedRecordLog::RejectedInLastListing(), 5);
  }
  EXPECT_EQ(plugin_testing::Matching(log, "discovery plugin 'discovery_fixture'").size(), 5u);
  EXPECT_EQ(RejectedRecordLog::RejectedTotal() - total_before, 15);
}

TEST_F(DiscoveryInstanceTest, PluginErrorIsUnavailableAndLeavesOutputAlone) {
  std::unique_ptr<DiscoveryInstance> d = Make("discovery_fixture", "{\"mode\":\"fail\"}");
  ASSERT_NE(d, nullptr);
  std::vector<TenantLocation> out(1);
  out[0].identifier = "kept";
  Status s = d->Discover(&out);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(
      s.message(),
      "plugin 'discovery_fixture': discovery failed: std::runtime_error: directory unreachable");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].identifier, "kept");
}

TEST_F(DiscoveryInstanceTest, ExceptionThrownAcrossTheAbiIsUnavailable) {
  std::unique_ptr<DiscoveryInstance> d = Make("throwing_create", "{\"survive\":true}");
  ASSERT_NE(d, nullptr);
  std::vector<TenantLocation> out;
  Status s = d->Discover(&out);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(
      s.message(),
      "plugin 'throwing_create': discovery failed: exception of unknown type escaped the plugin");
}

TEST_F(DiscoveryInstanceTest, CreateFailures) {
  std::unique_ptr<DiscoveryInstance> out;
  Status s = DiscoveryInstance::Create(Load("throwing_create"), "{}", &out);
  EXPECT_EQ(s.code(), Status::Code::kInternal);
  EXPECT_EQ(s.message(),
            "plugin 'throwing_create': discovery create failed: exception escaped the plugin: "
            "create exploded");
  s = DiscoveryInstance::Create(Load("good_handler"), "{}", &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "plugin 'good_handler' is not a discovery provider");
  EXPECT_EQ(out, nullptr);
}

TEST_F(DiscoveryInstanceTest, RepeatedListingsAreIndependent) {
  std::unique_ptr<DiscoveryInstance> d = Make("discovery_fixture", "{}");
  ASSERT_NE(d, nullptr);
  std::vector<TenantLocation> first, second;
  ASSERT_TRUE(d->Discover(&first).ok());
  ASSERT_TRUE(d->Discover(&second).ok());  // no "duplicate" from the previous listing
  EXPECT_EQ(Ids(first), Ids(second));
}

}  // namespace
}  // namespace outboxd
