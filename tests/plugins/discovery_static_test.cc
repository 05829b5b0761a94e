// Tests for plugins/discovery_static (the built discovery_static.so through FakeHost): inline list,
// file in both shapes re-read on every discover, and config errors naming the key and index.
#include <gtest/gtest.h>

#include <string>

#include "plugins/built_plugin.h"
#include "support/temp_dir.h"

namespace outboxd::testing {
namespace {

using obx::testing::DiscoverResult;
using obx::testing::FakeHost;

class StaticDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { descriptor_ = EnterBuiltPlugin(host_, "discovery_static"); }

  std::unique_ptr<obx::testing::DiscoveryInstance> Create(const std::string& config) {
    auto created = host_.CreateDiscovery(descriptor_, config);
    EXPECT_EQ(created.status, OBX_STATUS_OK) << created.error;
    return std::move(created.instance);
  }

  std::string FileConfig(const std::filesystem::path& p) {
    return R"({"file": ")" + p.string() + R"("})";
  }

  FakeHost host_;
  const obx_plugin_descriptor* descriptor_ = nullptr;
  TempDir dir_;
};

TEST_F(StaticDiscoveryTest, DescriptorIsADiscoveryProvider) {
  EXPECT_STREQ(descriptor_->name, "static");
  EXPECT_EQ(descriptor_->kinds, OBX_KIND_DISCOVERY);
  EXPECT_EQ(descriptor_->handler, nullptr);
  ASSERT_NE(descriptor_->discovery, nullptr);
}

TEST_F(StaticDiscoveryTest, EmitsTheInlineList) {
  auto d = Create(R"({"databases": [
      {"identifier": "customer-001", "connection_string": "sqlite:/data/c1.db"},
      {"identifier": "customer-002", "connection_string": "postgresql://db/c2",
       "schema_name": "tenant", "table_name": "messages"}]})");
  DiscoverResult r = d->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].identifier, "customer-001");
  EXPECT_EQ(r.records[0].connection_string, "sqlite:/data/c1.db");
  EXPECT_EQ(r.records[0].schema_name, "");
  EXPECT_EQ(r.records[0].table_name, "");
  EXPECT_EQ(r.records[1].identifier, "customer-002");
  EXPECT_EQ(r.records[1].connection_string, "postgresql://db/c2");
  EXPECT_EQ(r.records[1].schema_name, "tenant");
  EXPECT_EQ(r.records[1].table_name, "messages");
  EXPECT_EQ(r.rejected, 0);
}

TEST_F(StaticDiscoveryTest, EmptyInlineListEmitsNothing) {
  DiscoverResult r = Create(R"({"databases": []})")->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.records.empty());
}

TEST_F(StaticDiscoveryTest, FileIsReReadOnEveryDiscover) {
  const auto file = dir_.WriteFile(
      "tenants.json",
      R"({"databases": [{"identifier": "a", "connection_string": "sqlite:/a.db"}]})");
  auto d = Create(FileConfig(file));
  DiscoverResult first = d->Discover();
  ASSERT_TRUE(first.ok()) << first.error;
  ASSERT_EQ(first.records.size(), 1u);
  EXPECT_EQ(first.records[0].identifier, "a");

  // The bare-array shape is accepted too.
  dir_.WriteFile("tenants.json", R"([{"identifier": "a", "connection_string": "sqlite:/a.db"},
                                     {"identifier": "b", "connection_string": "sqlite:/b.db"}])");
  DiscoverResult second = d->Discover();
  ASSERT_TRUE(second.ok()) << second.error;
  ASSERT_EQ(second.records.size(), 2u);
  EXPECT_EQ(second.records[1].identifier, "b");
}

TEST_F(StaticDiscoveryTest, FileThatBecomesInvalidFailsThatDiscoverOnly) {
  const auto file = dir_.WriteFile("tenants.json", "[]");
  auto d = Create(FileConfig(file));
  ASSERT_TRUE(d->Discover().ok());

  dir_.WriteFile("tenants.json", R"([{"identifier": "a"}])");
  DiscoverResult bad = d->Discover();
  EXPECT_EQ(bad.status, OBX_STATUS_ERROR);
  EXPECT_NE(bad.error.find(file.string()), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("[0]: missing required key \"connection_string\""), std::string::npos)
      << bad.error;

  std::filesystem::remove(file);
  DiscoverResult missing = d->Discover();
  EXPECT_EQ(missing.status, OBX_STATUS_ERROR);
  EXPECT_NE(missing.error.find("cannot open"), std::string::npos) << missing.error;

  dir_.WriteFile("tenants.json", R"([{"identifier": "z", "connection_string": "sqlite:/z.db"}])");
  DiscoverResult back = d->Discover();
  ASSERT_TRUE(back.ok()) << back.error;
  EXPECT_EQ(back.records.size(), 1u);
}

TEST_F(StaticDiscoveryTest, MissingFileFailsCreate) {
  auto created = host_.CreateDiscovery(descriptor_, FileConfig(dir_ / "absent.json"));
  EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(created.error.find("absent.json"), std::string::npos) << created.error;
}

struct BadConfig {
  const char* config;
  const char* expected;
};

class StaticBadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(StaticBadConfigTest, CreateFailsNamingKeyAndIndex) {
  FakeHost host;
  const obx_plugin_descriptor* d = EnterBuiltPlugin(host, "discovery_static");
  auto created = host.CreateDiscovery(d, GetParam().config);
  EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(created.error.find(GetParam().expected), std::string::npos) << created.error;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, StaticBadConfigTest,
    ::testing::Values(
        BadConfig{"{}", "exactly one of \"databases\""},
        BadConfig{R"({"databases": [], "file": "/x"})", "exactly one of \"databases\""},
        BadConfig{R"({"databases": [], "extra": 1})", "unknown key \"extra\""},
        BadConfig{R"({"databases": {}})", "\"databases\" must be an array"},
        BadConfig{R"({"databases": [{"identifier": "a", "connection_string": "x"},
                                    {"connection_string": "y"}]})",
                  "\"databases\"[1]: missing required key \"identifier\""},
        BadConfig{R"({"databases": [{"identifier": "", "connection_string": "x"}]})",
                  "\"databases\"[0].\"identifier\" must be a non-empty string"},
        BadConfig{R"({"databases": [{"identifier": "a", "connection_string": "x", "port": 1}]})",
                  "\"databases\"[0]: unknown key \"port\""},
        BadConfig{R"({"databases": [{"identifier": "a", "connection_string": "x",
                                     "schema_name": 5}]})",
                  "\"databases\"[0].\"schema_name\" must be a string"},
        BadConfig{R"({"databases": [{"identifier": "a", "connection_string": "x"},
                                    {"identifier": "a", "connection_string": "y"}]})",
                  "\"databases\"[1]: duplicate identifier \"a\""},
        BadConfig{R"({"databases": ["a"]})", "\"databases\"[0] must be an object"},
        BadConfig{R"({"file": 3})", "\"file\" must be a non-empty path"},
        BadConfig{"[", "not valid JSON"}));

TEST_F(StaticDiscoveryTest, InvalidFileContentFailsCreate) {
  const auto file = dir_.WriteFile("tenants.json", R"({"tenants": []})");
  auto created = host_.CreateDiscovery(descriptor_, FileConfig(file));
  EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(created.error.find("unknown key \"tenants\""), std::string::npos) << created.error;
}

}  // namespace
}  // namespace outboxd::testing
