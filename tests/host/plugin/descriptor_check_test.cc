// CheckDescriptor: each rule, on descriptors built in-process (no .so needed).
#include "plugin/descriptor_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace outboxd {
namespace {

int32_t Create(const obx_host_ctx*, obx_str, obx_call_ctx*, void**) { return OBX_STATUS_OK; }
void Destroy(void*) {}
int32_t Handle(void*, obx_call_ctx*, const obx_message_view*, obx_handler_result*) { return 0; }
int32_t Discover(void*, obx_call_ctx*) { return OBX_STATUS_OK; }

class PluginDescriptorCheckTest : public ::testing::Test {
 protected:
  PluginDescriptorCheckTest() {
    handler_ = {sizeof(obx_handler_vtable), 0, &Create, &Destroy, &Handle};
    discovery_ = {sizeof(obx_discovery_vtable), 0, &Create, &Destroy, &Discover};
    d_ = {sizeof(obx_plugin_descriptor),
          OBX_PLUGIN_MAGIC,
          OBX_ABI_MAJOR,
          OBX_ABI_MINOR,
          "demo",
          "1.0.0",
          nullptr,
          OBX_KIND_HANDLER | OBX_KIND_DISCOVERY,
          0u,
          kTopics,
          &handler_,
          &discovery_};
  }

  // The reason CheckDescriptor gives for d_, "" when it passes.
  std::string Reason() const {
    Status s = CheckDescriptor(d_);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    }
    return s.ok() ? std::string() : s.message();
  }

  static constexpr const char* kTopics[] = {"a.b", "c.d", nullptr};
  obx_handler_vtable handler_{};
  obx_discovery_vtable discovery_{};
  obx_plugin_descriptor d_{};
};

TEST_F(PluginDescriptorCheckTest, AcceptsAValidDescriptor) {
  EXPECT_EQ(Reason(), "");
  d_.topics = nullptr;
  EXPECT_EQ(Reason(), "");
  d_.struct_size = sizeof(obx_plugin_descriptor) + 16;  // a newer minor may append fields
  d_.abi_minor = 0;
  EXPECT_EQ(Reason(), "");
}

TEST_F(PluginDescriptorCheckTest, VersionRules) {
  d_.magic = 0x12345678;
  EXPECT_EQ(Reason(), "bad descriptor magic 0x12345678, expected 0x4C504258");
  d_.magic = OBX_PLUGIN_MAGIC;
  d_.abi_major = 0;
  EXPECT_EQ(Reason(), "ABI major 0, host speaks 1");
  d_.abi_major = OBX_ABI_MAJOR;
  d_.abi_minor = OBX_ABI_MINOR + 3;
  EXPECT_EQ(Reason(), "needs ABI 1.3, host speaks 1.0");
  d_.abi_minor = OBX_ABI_MINOR;
  d_.struct_size = sizeof(obx_plugin_descriptor) - 8;
  EXPECT_EQ(Reason(), "descriptor struct_size 64 is smaller than its ABI 1.0 size 72");
}

TEST_F(PluginDescriptorCheckTest, NameRules) {
  for (const char* good : {"a", "demo-1.2_x", "0",
                           "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"}) {
    d_.name = good;
    EXPECT_EQ(Reason(), "") << good;
  }
  const std::string too_long(65, 'a');
  for (const char* bad : {"", "Demo", "a b", "a/b", "é", too_long.c_str()}) {
    d_.name = bad;
    EXPECT_NE(Reason().find("invalid plugin name"), std::string::npos) << bad;
  }
  d_.name = nullptr;
  EXPECT_EQ(Reason(), "invalid plugin name '' (must be 1-64 characters of [a-z0-9_.-])");
}

TEST_F(PluginDescriptorCheckTest, VersionStringRules) {
  d_.version = "";
  EXPECT_EQ(Reason(), "plugin 'demo' has an empty or invalid version ''");
  d_.version = nullptr;
  EXPECT_EQ(Reason(), "plugin 'demo' has an empty or invalid version ''");
  d_.version = "1.0\n";
  EXPECT_EQ(Reason(), "plugin 'demo' has an empty or invalid version '1.0\\x0A'");
  d_.version = "2.0.0-rc.1+build.5";
  EXPECT_EQ(Reason(), "");
}

TEST_F(PluginDescriptorCheckTest, KindRules) {
  d_.kinds = 0;
  EXPECT_EQ(Reason(), "declares no kind (kinds is 0)");
  d_.kinds = OBX_KIND_HANDLER | 0x8u;
  EXPECT_EQ(Reason(), "declares unknown kind bits 0x00000008");
  d_.kinds = OBX_KIND_DISCOVERY;
  d_.topics = nullptr;
  d_.handler = nullptr;  // not needed for a discovery-only plugin
  EXPECT_EQ(Reason(), "");
}

TEST_F(PluginDescriptorCheckTest, VtableRules) {
  d_.handler = nullptr;
  EXPECT_EQ(Reason(), "declares kind handler but has no handler vtable");
  d_.handler = &handler_;
  handler_.struct_size = 8;
  EXPECT_EQ(Reason(), "handler vtable struct_size 8 is smaller than its ABI 1.0 size 32");
  handler_.struct_size = sizeof(obx_handler_vtable);
  handler_.create = nullptr;
  EXPECT_EQ(Reason(), "handler vtable has a null create");
  handler_.create = &Create;
  handler_.destroy = nullptr;
  EXPECT_EQ(Reason(), "handler vtable has a null destroy");
  handler_.destroy = &Destroy;
  handler_.handle = nullptr;
  EXPECT_EQ(Reason(), "handler vtable has a null handle");
  handler_.handle = &Handle;

  d_.discovery = nullptr;
  EXPECT_EQ(Reason(), "declares kind discovery but has no discovery vtable");
  d_.discovery = &discovery_;
  discovery_.discover = nullptr;
  EXPECT_EQ(Reason(), "discovery vtable has a null discover");
}

TEST_F(PluginDescriptorCheckTest, TopicRules) {
  const char* const empty_list[] = {nullptr};
  d_.topics = empty_list;
  EXPECT_EQ(Reason(), "declares an empty topic list (use NULL for topics from configuration)");
  const char* const empty_topic[] = {"a", "", nullptr};
  d_.topics = empty_topic;
  EXPECT_EQ(Reason(), "declares an empty topic");
  const char* const duplicate[] = {"a", "b", "a", nullptr};
  d_.topics = duplicate;
  EXPECT_EQ(Reason(), "declares topic 'a' twice");
  const char* const control[] = {"a\tb", nullptr};
  d_.topics = control;
  EXPECT_EQ(Reason(), "declares topic 'a\\x09b' with control characters or invalid UTF-8");

  std::vector<std::string> names;
  for (size_t i = 0; i <= kMaxDeclaredTopics; ++i) names.push_back("t" + std::to_string(i));
  std::vector<const char*> many;
  for (const std::string& n : names) many.push_back(n.c_str());
  many.push_back(nullptr);
  d_.topics = many.data();
  EXPECT_EQ(Reason(), "declares more than 1024 topics (is the list NULL-terminated?)");

  d_.topics = kTopics;
  d_.kinds = OBX_KIND_DISCOVERY;
  EXPECT_EQ(Reason(), "declares topics but is not a handler");
}

}  // namespace
}  // namespace outboxd
