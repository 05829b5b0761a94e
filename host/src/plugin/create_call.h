// CallCreate: the host side of obx_handler_vtable.create and obx_discovery_vtable.create (same
// signature and contract), shared by HandlerInstance and DiscoveryInstance.
//
// It passes `config_json` ("{}" when empty), catches anything the plugin throws, and turns a
// failure into a Status that names the plugin and carries its set_error text:
//   OBX_STATUS_INVALID_ARGUMENT -> InvalidArgument (bad configuration); anything else -> Internal.
// OWNERSHIP: on success *instance is the plugin's; the caller hands it back to destroy exactly
// once. `host_ctx` must stay valid until that destroy returns. THREADING: control thread only (the
// SDK runs create there).
#ifndef OUTBOXD_PLUGIN_CREATE_CALL_H_
#define OUTBOXD_PLUGIN_CREATE_CALL_H_

#include <atomic>
#include <string>

#include "common/status.h"
#include "obx/types.h"

namespace outboxd {

using PluginCreateFn = int32_t (*)(const obx_host_ctx* host_ctx, obx_str config_json,
                                   obx_call_ctx* call, void** out_instance);

// `kind` is "handler" or "discovery", for the message.
Status CallCreate(PluginCreateFn create, const obx_host_ctx& host_ctx,
                  const std::string& config_json, const char* kind,
                  const std::atomic<bool>* abort_flag, void** instance);

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_CREATE_CALL_H_
