// The host and the SDK's FakeHost reject exactly the same descriptors and database records: both
// compile obx/cpp/validate.hpp. One table of bad records runs through the host's DiscoveryInstance
// (plugin loaded from a staged .so) and through FakeHost (the same .so, dlopen'ed); one table of
// bad descriptors runs through CheckDescriptor and FakeHost::Enter.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/plugin/plugin_test_support.h"
#include "obx/testing/fake_host.hpp"
#include "plugin/descriptor_check.h"
#include "plugin/discovery_instance.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using plugin_testing::LogCapture;

struct BadRecord {
  const char* name;
  std::string identifier;
  std::string connection_string;
  std::string schema_name;
  std::string table_name;
  uint32_t struct_size = sizeof(obx_database_record);
};

nlohmann::json BytesOf(const std::string& s) {
  nlohmann::json out = nlohmann::json::array();
  for (char c : s) out.push_back(static_cast<unsigned char>(c));
  return out;
}

// Issue 14 finding 10 first: an identifier with a NUL byte must not become another tenant's.
std::vector<BadRecord> BadRecords() {
  using std::string_literals::operator""s;
  return {
      {"nul_in_identifier", "acme\0evil"s, "sqlite:/data/a.db", "", ""},
      {"nul_in_connection", "t-nul-conn", "sqlite:/data/a.db\0/etc/x"s, "", ""},
      {"nul_in_schema", "t-nul-schema", "sqlite:/data/a.db", "s\0x"s, ""},
      {"nul_in_table", "t-nul-table", "sqlite:/data/a.db", "", "outbox\0x"s},
      {"empty_identifier", "", "sqlite:/data/a.db", "", ""},
      {"empty_connection", "t-empty-conn", "", "", ""},
      {"newline_in_identifier", "a\nb", "sqlite:/data/a.db", "", ""},
      {"del_in_identifier", "a\x7f", "sqlite:/data/a.db", "", ""},
      {"invalid_utf8_identifier", "bad-\xff\xfe", "sqlite:/data/a.db", "", ""},
      {"overlong_utf8_connection", "t-overlong", "sqlite:/data/\xc0\xaf.db", "", ""},
      {"schema_too_long", "t-long-schema", "sqlite:/data/a.db", std::string(64, 's'), ""},
      {"table_too_long", "t-long-table", "sqlite:/data/a.db", "", std::string(64, 't')},
      {"short_struct", "t-short", "sqlite:/data/a.db", "", "", 8},
      {"duplicate_identifier", "acme", "sqlite:/data/dup.db", "", ""},
  };
}

// The good records around the bad ones: "acme" comes first, so the duplicate above is refused.
nlohmann::json RecordsConfig() {
  nlohmann::json records = nlohmann::json::array();
  records.push_back({{"identifier", BytesOf("acme")}, {"connection_string", BytesOf("sqlite:/a")}});
  for (const BadRecord& r : BadRecords()) {
    records.push_back({{"identifier", BytesOf(r.identifier)},
                       {"connection_string", BytesOf(r.connection_string)},
                       {"schema_name", BytesOf(r.schema_name)},
                       {"table_name", BytesOf(r.table_name)},
                       {"struct_size", r.struct_size}});
  }
  records.push_back({{"identifier", BytesOf("zeta")},
                     {"connection_string", BytesOf("sqlite:/z")},
                     {"schema_name", BytesOf(std::string(63, 's'))}});
  return {{"records", records}};
}

TEST(ValidationParityTest, HostAndFakeHostRefuseTheSameRecordsForTheSameReasons) {
  const std::string config = RecordsConfig().dump();
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "plugins");

  // The host: staged, loaded, created and asked to discover as outboxd does.
  std::shared_ptr<LoadedPlugin> plugin;
  ASSERT_TRUE(plugin_testing::LoadFixture(dir.path() / "plugins", dir.path() / "staging",
                                          "record_echo", &plugin)
                  .ok());
  std::unique_ptr<DiscoveryInstance> instance;
  ASSERT_TRUE(DiscoveryInstance::Create(plugin, config, &instance).ok());
  LogCapture log;
  std::vector<TenantLocation> host_records;
  ASSERT_TRUE(instance->Discover(&host_records).ok());

  // The fake: the same .so, opened by the test as a plugin author's test would.
  void* lib = dlopen(plugin_testing::FixturePath("record_echo").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  auto entry = reinterpret_cast<obx_plugin_entry_fn>(dlsym(lib, "obx_plugin_entry_v1"));
  ASSERT_NE(entry, nullptr);
  {
    obx::testing::FakeHost fake;
    const obx_plugin_descriptor* d = fake.Enter(entry);
    auto created = fake.CreateDiscovery(d, config);
    ASSERT_TRUE(created.ok()) << created.error;
    obx::testing::DiscoverResult r = created.instance->Discover();
    ASSERT_TRUE(r.ok()) << r.error;

    std::vector<std::string> host_ids;
    for (const TenantLocation& l : host_records) host_ids.push_back(l.identifier);
    std::vector<std::string> fake_ids;
    for (const auto& rec : r.records) fake_ids.push_back(rec.identifier);
    EXPECT_EQ(host_ids, (std::vector<std::string>{"acme", "zeta"}));
    EXPECT_EQ(fake_ids, host_ids);
    EXPECT_EQ(host_records[0].connection_string, "sqlite:/a") << "the first 'acme' wins";

    // Every bad record is refused by both, each for the reason the host logs.
    ASSERT_EQ(r.rejected, static_cast<int>(BadRecords().size()));
    ASSERT_EQ(r.rejections.size(), BadRecords().size());
    const std::vector<std::string> skipped =
        plugin_testing::Matching(log, "discovery plugin 'record_echo'");
    ASSERT_EQ(skipped.size(), BadRecords().size());
    for (size_t i = 0; i < skipped.size(); ++i) {
      EXPECT_NE(skipped[i].find("skipped: " + r.rejections[i]), std::string::npos)
          << BadRecords()[i].name << ": host '" << skipped[i] << "' vs fake '"
          << r.rejections[i] << "'";
    }
    EXPECT_NE(r.rejections[0].find("identifier contains control characters"), std::string::npos)
        << r.rejections[0];
  }
  dlclose(lib);
}

// --- descriptors ---------------------------------------------------------------------------------

int32_t NoCreate(const obx_host_ctx*, obx_str, obx_call_ctx*, void**) { return OBX_STATUS_ERROR; }
void NoDestroy(void*) {}
int32_t NoHandle(void*, obx_call_ctx*, const obx_message_view*, obx_handler_result*) {
  return OBX_OUTCOME_PERMANENT_FAILURE;
}
int32_t NoDiscover(void*, obx_call_ctx*) { return OBX_STATUS_ERROR; }

const obx_handler_vtable kHandler = {sizeof(obx_handler_vtable), 0, &NoCreate, &NoDestroy,
                                     &NoHandle};
const obx_handler_vtable kHandlerNullHandle = {sizeof(obx_handler_vtable), 0, &NoCreate,
                                               &NoDestroy, nullptr};
const obx_handler_vtable kHandlerShort = {8, 0, &NoCreate, &NoDestroy, &NoHandle};
const obx_discovery_vtable kDiscovery = {sizeof(obx_discovery_vtable), 0, &NoCreate, &NoDestroy,
                                         &NoDiscover};
const char* const kNoTopics[] = {nullptr};
const char* const kTwice[] = {"a", "a", nullptr};
const char* const kEmptyTopic[] = {"", nullptr};
const char* const kNewlineTopic[] = {"a\nb", nullptr};
const char* const kGoodTopics[] = {"orders.created", nullptr};

obx_plugin_descriptor Good() {
  return {sizeof(obx_plugin_descriptor), OBX_PLUGIN_MAGIC, OBX_ABI_MAJOR, 0, "good", "1.0.0",
          nullptr, OBX_KIND_HANDLER, 0, kGoodTopics, &kHandler, nullptr};
}

const obx_plugin_descriptor* g_descriptor = nullptr;
int32_t Entry(const obx_host_api*, const obx_plugin_descriptor** out) {
  *out = g_descriptor;
  return OBX_STATUS_OK;
}

TEST(ValidationParityTest, HostAndFakeHostRefuseTheSameDescriptors) {
  const std::string long_name(65, 'a');
  struct Case {
    const char* name;
    obx_plugin_descriptor d;
  };
  std::vector<Case> cases;
  auto add = [&](const char* name, auto mutate) {
    obx_plugin_descriptor d = Good();
    mutate(d);
    cases.push_back({name, d});
  };
  add("good", [](obx_plugin_descriptor&) {});
  add("good_discovery", [](obx_plugin_descriptor& d) {
    d.kinds = OBX_KIND_DISCOVERY, d.topics = nullptr, d.handler = nullptr, d.discovery = &kDiscovery;
  });
  add("bad_magic", [](obx_plugin_descriptor& d) { d.magic = 0xDEADBEEF; });
  add("wrong_major", [](obx_plugin_descriptor& d) { d.abi_major = OBX_ABI_MAJOR + 1; });
  add("future_minor", [](obx_plugin_descriptor& d) { d.abi_minor = OBX_ABI_MINOR + 1; });
  add("short_struct", [](obx_plugin_descriptor& d) { d.struct_size = 16; });
  add("null_name", [](obx_plugin_descriptor& d) { d.name = nullptr; });
  add("upper_case_name", [](obx_plugin_descriptor& d) { d.name = "Email"; });
  add("long_name", [&](obx_plugin_descriptor& d) { d.name = long_name.c_str(); });
  add("null_version", [](obx_plugin_descriptor& d) { d.version = nullptr; });
  add("control_in_version", [](obx_plugin_descriptor& d) { d.version = "1.0\t"; });
  add("no_kind", [](obx_plugin_descriptor& d) { d.kinds = 0; });
  add("unknown_kind", [](obx_plugin_descriptor& d) { d.kinds |= 0x80; });
  add("no_handler_vtable", [](obx_plugin_descriptor& d) { d.handler = nullptr; });
  add("null_handle", [](obx_plugin_descriptor& d) { d.handler = &kHandlerNullHandle; });
  add("short_vtable", [](obx_plugin_descriptor& d) { d.handler = &kHandlerShort; });
  add("no_discovery_vtable", [](obx_plugin_descriptor& d) { d.kinds |= OBX_KIND_DISCOVERY; });
  add("topics_for_discovery", [](obx_plugin_descriptor& d) {
    d.kinds = OBX_KIND_DISCOVERY, d.handler = nullptr, d.discovery = &kDiscovery;
  });
  add("empty_topic_list", [](obx_plugin_descriptor& d) { d.topics = kNoTopics; });
  add("topic_twice", [](obx_plugin_descriptor& d) { d.topics = kTwice; });
  add("empty_topic", [](obx_plugin_descriptor& d) { d.topics = kEmptyTopic; });
  add("newline_topic", [](obx_plugin_descriptor& d) { d.topics = kNewlineTopic; });

  int refused = 0;
  for (const Case& c : cases) {
    const Status host = CheckDescriptor(c.d);
    g_descriptor = &c.d;
    obx::testing::FakeHost fake;
    std::string fake_error;
    try {
      fake.Enter(&Entry);
    } catch (const std::runtime_error& e) {
      fake_error = e.what();
    }
    EXPECT_EQ(host.ok(), fake_error.empty()) << c.name << ": host " << host.ToString()
                                             << ", fake '" << fake_error << "'";
    if (!host.ok()) {
      ++refused;
      EXPECT_EQ(fake_error, "plugin entry returned an invalid descriptor: " + host.message())
          << c.name;
    }
  }
  EXPECT_EQ(refused, static_cast<int>(cases.size()) - 2) << "only the two good ones pass";
}

}  // namespace
}  // namespace outboxd
