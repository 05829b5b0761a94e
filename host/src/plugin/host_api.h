// HostApi: the process-wide obx_host_api table handed to every plugin's entry point.
//
//   log / log_enabled  -> spdlog's default logger, each line prefixed "[plugin:<name>] " with the
//                         name from the obx_host_ctx ("?" for a NULL ctx, which the SDK allows but
//                         cannot attribute);
//   now_unix_ms        -> system clock; now_monotonic_ns -> steady clock;
//   set_error          -> copies the text into the obx_call_ctx (call_context.h);
//   emit_database      -> the call's DatabaseSink; OBX_STATUS_INVALID_ARGUMENT outside discover;
//   should_abort       -> the abort flag of the instance that made the call.
//
// OWNERSHIP: the table is static and never freed; it outlives every plugin, as the SDK promises.
// THREADING: every function is thread-safe and noexcept in effect: no exception ever escapes into
// plugin code (a failure inside the host is swallowed; the call degrades to a no-op or an error
// status).
#ifndef OUTBOXD_PLUGIN_HOST_API_H_
#define OUTBOXD_PLUGIN_HOST_API_H_

#include "obx/host_api.h"

namespace outboxd {

const obx_host_api* HostApi();

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_HOST_API_H_
