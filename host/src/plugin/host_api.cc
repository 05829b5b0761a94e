#include "plugin/host_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string_view>

#include "obx/discovery.h"
#include "obx/plugin.h"
#include "plugin/call_context.h"

#ifndef OUTBOXD_VERSION
#define OUTBOXD_VERSION "0.0.0"
#endif

namespace outboxd {
namespace {

constexpr char kHostVersion[] = OUTBOXD_VERSION;

std::string_view View(obx_str s) {
  return (s.data == nullptr || s.size == 0) ? std::string_view() : std::string_view(s.data, s.size);
}

// OBX_LOG_* share spdlog's order; out-of-range levels are clamped instead of rejected.
spdlog::level::level_enum ToSpdlogLevel(int32_t level) {
  if (level <= OBX_LOG_TRACE) return spdlog::level::trace;
  if (level >= OBX_LOG_ERROR) return spdlog::level::err;
  return static_cast<spdlog::level::level_enum>(level);
}

std::string_view PluginName(const obx_host_ctx* ctx) {
  return ctx != nullptr ? std::string_view(ctx->plugin_name) : std::string_view("?");
}

void Log(const obx_host_ctx* ctx, int32_t level, obx_str message) {
  try {
    std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
    const spdlog::level::level_enum spd_level = ToSpdlogLevel(level);
    if (!logger->should_log(spd_level)) return;
    logger->log(spd_level, "[plugin:{}] {}", PluginName(ctx), View(message));
  } catch (...) {  // a log line is never worth an exception in plugin code
  }
}

int32_t LogEnabled(const obx_host_ctx* /*ctx*/, int32_t level) {
  try {
    return spdlog::default_logger()->should_log(ToSpdlogLevel(level)) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int64_t NowUnixMs() {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t NowMonotonicNs() {
  using std::chrono::duration_cast;
  using std::chrono::nanoseconds;
  return duration_cast<nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void SetError(obx_call_ctx* call, obx_str text) {
  if (call == nullptr) return;
  try {
    call->SetError(View(text));
  } catch (...) {  // out of memory: the host falls back to its default error text
  }
}

int32_t EmitDatabase(obx_call_ctx* call, const obx_database_record* record) {
  if (call == nullptr || record == nullptr) return OBX_STATUS_INVALID_ARGUMENT;
  try {
    if (call->sink == nullptr) {
      spdlog::warn("plugin '{}' called emit_database outside discover; record ignored",
                   call->plugin_name());
      return OBX_STATUS_INVALID_ARGUMENT;
    }
    return call->sink->Emit(*record);
  } catch (...) {
    return OBX_STATUS_ERROR;
  }
}

int32_t ShouldAbort(obx_call_ctx* call) { return (call != nullptr && call->ShouldAbort()) ? 1 : 0; }

obx_host_api MakeTable() {
  obx_host_api api{};
  api.struct_size = sizeof(obx_host_api);
  api.abi_major = OBX_ABI_MAJOR;
  api.abi_minor = OBX_ABI_MINOR;
  api.host_version = obx_str{kHostVersion, sizeof(kHostVersion) - 1};
  api.log = &Log;
  api.log_enabled = &LogEnabled;
  api.now_unix_ms = &NowUnixMs;
  api.now_monotonic_ns = &NowMonotonicNs;
  api.set_error = &SetError;
  api.emit_database = &EmitDatabase;
  api.should_abort = &ShouldAbort;
  return api;
}

}  // namespace

const obx_host_api* HostApi() {
  static const obx_host_api table = MakeTable();
  return &table;
}

}  // namespace outboxd
