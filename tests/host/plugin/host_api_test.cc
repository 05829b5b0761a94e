// HostApi(): the table every plugin receives, called directly.
#include "plugin/host_api.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <string>

#include "host/plugin/plugin_test_support.h"
#include "obx/plugin.h"
#include "plugin/call_context.h"

namespace outboxd {
namespace {

using plugin_testing::LogCapture;

static_assert(OBX_LOG_TRACE == spdlog::level::trace && OBX_LOG_DEBUG == spdlog::level::debug &&
              OBX_LOG_INFO == spdlog::level::info && OBX_LOG_WARN == spdlog::level::warn &&
              OBX_LOG_ERROR == spdlog::level::err);

obx_str Str(const std::string& s) { return obx_str{s.data(), s.size()}; }

class RecordingSink : public DatabaseSink {
 public:
  int32_t Emit(const obx_database_record& record) override {
    ids.emplace_back(record.identifier.data, record.identifier.size);
    return OBX_STATUS_OK;
  }
  std::vector<std::string> ids;
};

TEST(PluginHostApiTest, TableIsCompleteAndStable) {
  const obx_host_api* api = HostApi();
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api, HostApi());  // one process-wide table
  EXPECT_EQ(api->struct_size, sizeof(obx_host_api));
  EXPECT_EQ(api->abi_major, static_cast<uint32_t>(OBX_ABI_MAJOR));
  EXPECT_EQ(api->abi_minor, static_cast<uint32_t>(OBX_ABI_MINOR));
  EXPECT_EQ(std::string(api->host_version.data, api->host_version.size), OUTBOXD_VERSION);
  EXPECT_TRUE(OBX_HOST_API_HAS(api, should_abort));
  EXPECT_NE(api->log, nullptr);
  EXPECT_NE(api->log_enabled, nullptr);
  EXPECT_NE(api->now_unix_ms, nullptr);
  EXPECT_NE(api->now_monotonic_ns, nullptr);
  EXPECT_NE(api->set_error, nullptr);
  EXPECT_NE(api->emit_database, nullptr);
  EXPECT_NE(api->should_abort, nullptr);
}

TEST(PluginHostApiTest, LogGoesToSpdlogPrefixedWithThePluginName) {
  LogCapture log;
  obx_host_ctx ctx{"my_plugin"};
  const std::string text = "hello {} world";  // not a format string for the host
  HostApi()->log(&ctx, OBX_LOG_WARN, Str(text));
  HostApi()->log(nullptr, OBX_LOG_ERROR, Str("no instance"));
  HostApi()->log(&ctx, 99, Str("too high"));
  HostApi()->log(&ctx, -3, Str("too low"));
  HostApi()->log(&ctx, OBX_LOG_INFO, obx_str{nullptr, 0});
  EXPECT_EQ(log.Lines(), (std::vector<std::string>{
                             "warning [plugin:my_plugin] hello {} world\n",
                             "error [plugin:?] no instance\n",
                             "error [plugin:my_plugin] too high\n",
                             "trace [plugin:my_plugin] too low\n",
                             "info [plugin:my_plugin] \n",
                         }));
}

TEST(PluginHostApiTest, LogEnabledFollowsTheLoggerLevel) {
  LogCapture log;
  spdlog::default_logger()->set_level(spdlog::level::warn);
  obx_host_ctx ctx{"p"};
  EXPECT_EQ(HostApi()->log_enabled(&ctx, OBX_LOG_INFO), 0);
  EXPECT_EQ(HostApi()->log_enabled(&ctx, OBX_LOG_WARN), 1);
  EXPECT_EQ(HostApi()->log_enabled(nullptr, OBX_LOG_ERROR), 1);
  HostApi()->log(&ctx, OBX_LOG_INFO, Str("dropped"));
  EXPECT_TRUE(log.Lines().empty());
}

TEST(PluginHostApiTest, Clocks) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const int64_t now =
      duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(HostApi()->now_unix_ms()), static_cast<double>(now), 60000.0);
  const int64_t a = HostApi()->now_monotonic_ns();
  const int64_t b = HostApi()->now_monotonic_ns();
  EXPECT_LE(a, b);
}

TEST(PluginHostApiTest, SetErrorCopiesAndTheLastCallWins) {
  obx_host_ctx ctx{"p"};
  obx_call_ctx call(&ctx, nullptr);
  char buffer[16];
  std::strcpy(buffer, "first");
  HostApi()->set_error(&call, obx_str{buffer, 5});
  std::strcpy(buffer, "XXXXX");  // the plugin reuses its buffer: the host kept a copy
  EXPECT_EQ(call.TakeError(), "first");
  EXPECT_EQ(call.TakeError(), "");

  HostApi()->set_error(&call, Str("one"));
  HostApi()->set_error(&call, Str("two"));
  EXPECT_EQ(call.TakeError(), "two");

  HostApi()->set_error(&call, obx_str{nullptr, 0});
  EXPECT_EQ(call.TakeError(), "");
  HostApi()->set_error(nullptr, Str("ignored"));  // no crash

  const std::string huge(obx_call_ctx::kMaxErrorBytes + 100, 'e');
  HostApi()->set_error(&call, Str(huge));
  EXPECT_EQ(call.TakeError().size(), obx_call_ctx::kMaxErrorBytes);
}

TEST(PluginHostApiTest, EmitDatabaseNeedsADiscoverCall) {
  obx_host_ctx ctx{"p"};
  const std::string id = "t1";
  obx_database_record record{};
  record.struct_size = sizeof(record);
  record.identifier = Str(id);

  LogCapture log;
  obx_call_ctx outside(&ctx, nullptr);
  EXPECT_EQ(HostApi()->emit_database(&outside, &record), OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_TRUE(log.Contains("plugin 'p' called emit_database outside discover"));
  EXPECT_EQ(HostApi()->emit_database(nullptr, &record), OBX_STATUS_INVALID_ARGUMENT);

  RecordingSink sink;
  obx_call_ctx inside(&ctx, nullptr, &sink);
  EXPECT_EQ(HostApi()->emit_database(&inside, nullptr), OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(HostApi()->emit_database(&inside, &record), OBX_STATUS_OK);
  EXPECT_EQ(sink.ids, (std::vector<std::string>{"t1"}));
}

TEST(PluginHostApiTest, ShouldAbortReadsTheInstanceFlag) {
  std::atomic<bool> flag{false};
  obx_call_ctx call(nullptr, &flag);
  EXPECT_EQ(HostApi()->should_abort(&call), 0);
  flag = true;
  EXPECT_EQ(HostApi()->should_abort(&call), 1);
  obx_call_ctx no_flag(nullptr, nullptr);
  EXPECT_EQ(HostApi()->should_abort(&no_flag), 0);
  EXPECT_EQ(HostApi()->should_abort(nullptr), 0);
}

}  // namespace
}  // namespace outboxd
