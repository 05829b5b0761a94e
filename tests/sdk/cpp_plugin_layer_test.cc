// The SDK's C++ layer (obx/cpp/plugin.hpp) seen from the host side: the entry point it writes, and
// the C trampolines that must turn every exception into a status or outcome. Runs in-process
// against a fake host table; obx_call_ctx pointers handed to the plugin are really FakeCall
// objects.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "obx/cpp/plugin.hpp"

namespace {

// --- Fake host --------------------------------------------------------------------------------

struct FakeCall {
  std::string error;
  int set_error_calls = 0;
  std::vector<obx::Database> emitted;
};

obx_call_ctx* AsCall(FakeCall* call) { return reinterpret_cast<obx_call_ctx*>(call); }
FakeCall* FromCall(obx_call_ctx* call) { return reinterpret_cast<FakeCall*>(call); }

struct LogLine {
  const obx_host_ctx* ctx;
  int32_t level;
  std::string text;
};
std::vector<LogLine> g_log;

std::string Text(obx_str s) { return s.size == 0 ? std::string() : std::string(s.data, s.size); }

obx_host_api MakeFakeHost() {
  obx_host_api api{};
  api.struct_size = sizeof(api);
  api.abi_major = OBX_ABI_MAJOR;
  api.abi_minor = OBX_ABI_MINOR;
  api.host_version = obx_str{"test", 4};
  api.log = [](const obx_host_ctx* ctx, int32_t level, obx_str m) {
    g_log.push_back({ctx, level, Text(m)});
  };
  api.log_enabled = [](const obx_host_ctx*, int32_t level) -> int32_t {
    return level >= OBX_LOG_INFO;
  };
  api.now_unix_ms = []() -> int64_t { return 1700000000000; };
  api.now_monotonic_ns = []() -> int64_t { return 42; };
  api.set_error = [](obx_call_ctx* call, obx_str text) {
    FromCall(call)->error = Text(text);
    ++FromCall(call)->set_error_calls;
  };
  api.emit_database = [](obx_call_ctx* call, const obx_database_record* r) -> int32_t {
    FromCall(call)->emitted.push_back({Text(r->identifier), Text(r->connection_string),
                                       Text(r->schema_name), Text(r->table_name)});
    return r->identifier.size == 0 ? OBX_STATUS_INVALID_ARGUMENT : OBX_STATUS_OK;
  };
  api.should_abort = [](obx_call_ctx*) -> int32_t { return 0; };
  return api;
}

const obx_host_api kFakeHost = MakeFakeHost();

// --- The plugin under test
// ------------------------------------------------------------------------

int g_live_handlers = 0;
std::string g_last_config;

class LayerHandler : public obx::Handler {
 public:
  explicit LayerHandler(const obx::PluginContext& ctx) : host_(ctx.host) {
    g_last_config = std::string(ctx.config_json);
    if (ctx.config_json == "invalid") throw std::invalid_argument("field 'url' is required");
    if (ctx.config_json == "runtime") throw std::runtime_error("cannot reach backend");
    if (ctx.config_json == "int") throw 7;
    host_.Info("created");
    ++g_live_handlers;
  }
  ~LayerHandler() override { --g_live_handlers; }

  obx::Result Handle(const obx::Message& m) override {
    if (m.payload == "ok") return obx::Result::Ok();
    if (m.payload == "retry") return obx::Result::Retry("busy", std::chrono::milliseconds(1500));
    if (m.payload == "retry-silent") return obx::Result::Retry("");
    if (m.payload == "permanent") return obx::Result::PermanentFailure("rejected");
    if (m.payload == "throw-permanent") throw obx::PermanentFailure("poison");
    if (m.payload == "throw-runtime") throw std::runtime_error("boom");
    if (m.payload == "throw-int") throw 3;
    if (m.payload == "echo") {
      return obx::Result::Retry(std::to_string(m.attempt) + "|" + std::to_string(m.row_id) + "|" +
                                std::string(m.message_id) + "|" + std::string(m.topic) + "|" +
                                std::string(m.correlation_id) + "|" + std::string(m.tenant) + "|" +
                                std::to_string(m.created_at_unix_ms) + "|" +
                                std::to_string(m.due_at_unix_ms));
    }
    return obx::Result::Ok();
  }

 private:
  const obx::Host& host_;
};

class LayerDiscovery : public obx::DiscoveryProvider {
 public:
  explicit LayerDiscovery(const obx::PluginContext& ctx) : fail_(ctx.config_json == "fail") {}
  std::vector<obx::Database> Discover() override {
    if (fail_) throw std::runtime_error("listing failed");
    return {{"t1", "sqlite:/a.db", "", ""},
            {"", "sqlite:/b.db", "", ""},
            {"t3", "sqlite:/c.db", "s", "t"}};
  }

 private:
  bool fail_;
};

const char* const kTopics[] = {"layer.a", "layer.b", nullptr};

}  // namespace

OBX_DEFINE_PLUGIN("layer_test", "9.9.9", "C++ layer under test", LayerHandler, LayerDiscovery,
                  kTopics)

namespace {

class CppPluginLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_log.clear();
    ASSERT_EQ(obx_plugin_entry_v1(&kFakeHost, &descriptor_), OBX_STATUS_OK);
    ASSERT_NE(descriptor_, nullptr);
  }

  // Creates a handler instance; returns the status.
  int32_t CreateHandler(const std::string& config, void** instance, FakeCall* call) {
    return descriptor_->handler->create(host_ctx_, obx_str{config.data(), config.size()},
                                        AsCall(call), instance);
  }

  int32_t HandlePayload(void* instance, const std::string& payload, FakeCall* call,
                        obx_handler_result* result) {
    obx_message_view view{};
    view.struct_size = sizeof(view);
    view.attempt = 1;
    view.payload = obx_str{payload.data(), payload.size()};
    *result = obx_handler_result{};
    result->struct_size = sizeof(*result);
    return descriptor_->handler->handle(instance, AsCall(call), &view, result);
  }

  const obx_plugin_descriptor* descriptor_ = nullptr;
  // Any non-null pointer works: the layer only hands it back to the fake host.
  const obx_host_ctx* host_ctx_ = reinterpret_cast<const obx_host_ctx*>(&g_live_handlers);
};

TEST_F(CppPluginLayerTest, EntryFillsTheDescriptor) {
  EXPECT_EQ(descriptor_->struct_size, sizeof(obx_plugin_descriptor));
  EXPECT_EQ(descriptor_->magic, OBX_PLUGIN_MAGIC);
  EXPECT_EQ(descriptor_->abi_major, static_cast<uint32_t>(OBX_ABI_MAJOR));
  EXPECT_EQ(descriptor_->abi_minor, static_cast<uint32_t>(OBX_ABI_MINOR));
  EXPECT_STREQ(descriptor_->name, "layer_test");
  EXPECT_STREQ(descriptor_->version, "9.9.9");
  EXPECT_STREQ(descriptor_->description, "C++ layer under test");
  EXPECT_EQ(descriptor_->kinds, OBX_KIND_HANDLER | OBX_KIND_DISCOVERY);
  EXPECT_EQ(descriptor_->flags, 0u);
  ASSERT_EQ(descriptor_->topics, kTopics);
  ASSERT_NE(descriptor_->handler, nullptr);
  EXPECT_EQ(descriptor_->handler->struct_size, sizeof(obx_handler_vtable));
  ASSERT_NE(descriptor_->discovery, nullptr);
  EXPECT_EQ(descriptor_->discovery->struct_size, sizeof(obx_discovery_vtable));
}

TEST_F(CppPluginLayerTest, EntryRefusesAHostOfAnotherMajor) {
  obx_host_api other = kFakeHost;
  other.abi_major = OBX_ABI_MAJOR + 1;
  const obx_plugin_descriptor* out = nullptr;
  EXPECT_EQ(obx_plugin_entry_v1(&other, &out), OBX_STATUS_ABI_MISMATCH);
  EXPECT_EQ(out, nullptr);
}

TEST_F(CppPluginLayerTest, EntryRefusesNullArguments) {
  const obx_plugin_descriptor* out = nullptr;
  EXPECT_EQ(obx_plugin_entry_v1(nullptr, &out), OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(obx_plugin_entry_v1(&kFakeHost, nullptr), OBX_STATUS_INVALID_ARGUMENT);
}

TEST_F(CppPluginLayerTest, HandlerOnlyAndDiscoveryOnlyPluginsDeclareOneKind) {
  const obx_plugin_descriptor* d = nullptr;
  ASSERT_EQ((obx::detail::Entry<LayerHandler, void>(&kFakeHost, &d, "h", "1", nullptr, nullptr)),
            OBX_STATUS_OK);
  EXPECT_EQ(d->kinds, OBX_KIND_HANDLER);
  EXPECT_EQ(d->discovery, nullptr);
  EXPECT_EQ(d->topics, nullptr);
  ASSERT_EQ((obx::detail::Entry<void, LayerDiscovery>(&kFakeHost, &d, "d", "1", nullptr, nullptr)),
            OBX_STATUS_OK);
  EXPECT_EQ(d->kinds, OBX_KIND_DISCOVERY);
  EXPECT_EQ(d->handler, nullptr);
}

TEST_F(CppPluginLayerTest, CreatePassesConfigAndDestroyDeletes) {
  FakeCall call;
  void* instance = nullptr;
  ASSERT_EQ(CreateHandler("{\"a\":1}", &instance, &call), OBX_STATUS_OK);
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(g_last_config, "{\"a\":1}");
  EXPECT_EQ(g_live_handlers, 1);
  EXPECT_EQ(call.set_error_calls, 0);
  ASSERT_EQ(g_log.size(), 1u);  // the constructor logged through obx::Host with the instance ctx
  EXPECT_EQ(g_log[0].ctx, host_ctx_);
  EXPECT_EQ(g_log[0].level, OBX_LOG_INFO);
  EXPECT_EQ(g_log[0].text, "created");
  descriptor_->handler->destroy(instance);
  EXPECT_EQ(g_live_handlers, 0);
}

TEST_F(CppPluginLayerTest, InvalidArgumentAtCreateMapsToStatusInvalidArgument) {
  FakeCall call;
  void* instance = nullptr;
  EXPECT_EQ(CreateHandler("invalid", &instance, &call), OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(instance, nullptr);
  EXPECT_EQ(call.error, "field 'url' is required");
}

TEST_F(CppPluginLayerTest, OtherExceptionsAtCreateMapToStatusError) {
  FakeCall call;
  void* instance = nullptr;
  EXPECT_EQ(CreateHandler("runtime", &instance, &call), OBX_STATUS_ERROR);
  EXPECT_EQ(call.error, "std::runtime_error: cannot reach backend");
  FakeCall call2;
  EXPECT_EQ(CreateHandler("int", &instance, &call2), OBX_STATUS_ERROR);
  EXPECT_EQ(call2.error, "unknown exception in plugin constructor");
  EXPECT_EQ(instance, nullptr);
  EXPECT_EQ(g_live_handlers, 0);
}

TEST_F(CppPluginLayerTest, HandleMapsResultsAndExceptions) {
  FakeCall create_call;
  void* instance = nullptr;
  ASSERT_EQ(CreateHandler("{}", &instance, &create_call), OBX_STATUS_OK);
  struct Case {
    std::string payload;
    int32_t outcome;
    std::string error;
    int64_t retry_after_ms;
  };
  const Case cases[] = {
      {"ok", OBX_OUTCOME_OK, "", 0},
      {"retry", OBX_OUTCOME_RETRY, "busy", 1500},
      {"retry-silent", OBX_OUTCOME_RETRY, "", 0},
      {"permanent", OBX_OUTCOME_PERMANENT_FAILURE, "rejected", 0},
      {"throw-permanent", OBX_OUTCOME_PERMANENT_FAILURE, "poison", 0},
      {"throw-runtime", OBX_OUTCOME_RETRY, "std::runtime_error: boom", 0},
      {"throw-int", OBX_OUTCOME_RETRY, "unknown exception in handler", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.payload);
    FakeCall call;
    obx_handler_result result;
    EXPECT_EQ(HandlePayload(instance, c.payload, &call, &result), c.outcome);
    EXPECT_EQ(call.error, c.error);
    EXPECT_EQ(call.set_error_calls, c.error.empty() ? 0 : 1);
    EXPECT_EQ(result.retry_after_ms, c.retry_after_ms);
  }
  descriptor_->handler->destroy(instance);
}

TEST_F(CppPluginLayerTest, HandleSeesEveryFieldOfTheView) {
  FakeCall create_call;
  void* instance = nullptr;
  ASSERT_EQ(CreateHandler("{}", &instance, &create_call), OBX_STATUS_OK);
  const std::string payload = "echo", id = "m-1", topic = "layer.a", corr = "c-7", tenant = "t-9";
  obx_message_view view{};
  view.struct_size = sizeof(view);
  view.attempt = 3;
  view.row_id = 99;
  view.message_id = obx_str{id.data(), id.size()};
  view.topic = obx_str{topic.data(), topic.size()};
  view.payload = obx_str{payload.data(), payload.size()};
  view.correlation_id = obx_str{corr.data(), corr.size()};
  view.tenant = obx_str{tenant.data(), tenant.size()};
  view.created_at_unix_ms = 1000;
  view.due_at_unix_ms = 2000;
  obx_handler_result result{};
  result.struct_size = sizeof(result);
  FakeCall call;
  EXPECT_EQ(descriptor_->handler->handle(instance, AsCall(&call), &view, &result),
            OBX_OUTCOME_RETRY);
  EXPECT_EQ(call.error, "3|99|m-1|layer.a|c-7|t-9|1000|2000");
  descriptor_->handler->destroy(instance);
}

TEST_F(CppPluginLayerTest, DiscoverEmitsEveryRecord) {
  FakeCall create_call;
  void* instance = nullptr;
  ASSERT_EQ(
      descriptor_->discovery->create(host_ctx_, obx_str{"{}", 2}, AsCall(&create_call), &instance),
      OBX_STATUS_OK);
  FakeCall call;
  EXPECT_EQ(descriptor_->discovery->discover(instance, AsCall(&call)), OBX_STATUS_OK);
  ASSERT_EQ(call.emitted.size(), 3u);  // the host rejecting one record does not stop the listing
  EXPECT_EQ(call.emitted[0].identifier, "t1");
  EXPECT_EQ(call.emitted[0].connection_string, "sqlite:/a.db");
  EXPECT_EQ(call.emitted[0].schema_name, "");
  EXPECT_EQ(call.emitted[2].schema_name, "s");
  EXPECT_EQ(call.emitted[2].table_name, "t");
  descriptor_->discovery->destroy(instance);
}

TEST_F(CppPluginLayerTest, DiscoverThrowingMapsToStatusError) {
  FakeCall create_call;
  void* instance = nullptr;
  ASSERT_EQ(descriptor_->discovery->create(host_ctx_, obx_str{"fail", 4}, AsCall(&create_call),
                                           &instance),
            OBX_STATUS_OK);
  FakeCall call;
  EXPECT_EQ(descriptor_->discovery->discover(instance, AsCall(&call)), OBX_STATUS_ERROR);
  EXPECT_EQ(call.error, "std::runtime_error: listing failed");
  EXPECT_TRUE(call.emitted.empty());
  descriptor_->discovery->destroy(instance);
}

TEST_F(CppPluginLayerTest, HostWrapperForwardsToTheTable) {
  obx::Host host(&kFakeHost, host_ctx_);
  EXPECT_TRUE(host.LogEnabled(OBX_LOG_WARN));
  EXPECT_FALSE(host.LogEnabled(OBX_LOG_DEBUG));
  EXPECT_EQ(host.NowUnixMs(), 1700000000000);
  host.Warn("careful");
  ASSERT_EQ(g_log.size(), 1u);
  EXPECT_EQ(g_log[0].level, OBX_LOG_WARN);
  EXPECT_EQ(g_log[0].text, "careful");
  obx::Host detached(nullptr, nullptr);  // no table: every call is a harmless no-op
  detached.Error("dropped");
  EXPECT_FALSE(detached.LogEnabled(OBX_LOG_ERROR));
  EXPECT_EQ(detached.NowUnixMs(), 0);
  EXPECT_EQ(g_log.size(), 1u);
}

}  // namespace
