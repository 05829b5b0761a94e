#include "plugin/create_call.h"

#include <exception>

#include "plugin/call_context.h"

namespace outboxd {

Status CallCreate(PluginCreateFn create, const obx_host_ctx& host_ctx,
                  const std::string& config_json, const char* kind,
                  const std::atomic<bool>* abort_flag, void** instance) {
  const std::string what = "plugin '" + host_ctx.plugin_name + "': " + kind + " create failed";
  const std::string config = config_json.empty() ? std::string("{}") : config_json;
  obx_call_ctx call(&host_ctx, abort_flag);
  void* created = nullptr;
  int32_t rc = OBX_STATUS_ERROR;
  try {
    rc = create(&host_ctx, obx_str{config.data(), config.size()}, &call, &created);
  } catch (const std::exception& e) {
    return Status::Internal(what + ": exception escaped the plugin: " + e.what());
  } catch (...) {
    return Status::Internal(what + ": exception of unknown type escaped the plugin");
  }
  if (rc == OBX_STATUS_OK) {
    *instance = created;
    return Status::OK();
  }
  std::string text = call.TakeError();
  if (text.empty()) text = "status " + std::to_string(rc) + " without an error text";
  if (rc == OBX_STATUS_INVALID_ARGUMENT) return Status::InvalidArgument(what + ": " + text);
  return Status::Internal(what + ": " + text);
}

}  // namespace outboxd
