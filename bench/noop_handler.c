/* bench_noop: a handler plugin that does nothing and returns OK. Plain C against the SDK headers,
 * so abi_bench measures the C ABI boundary itself (no C++ layer, no host callback in handle). */
#include <stddef.h>

#include "obx/plugin.h"

static int32_t noop_create(const obx_host_ctx* host_ctx, obx_str config_json, obx_call_ctx* call,
                           void** out_instance) {
  (void)host_ctx;
  (void)config_json;
  (void)call;
  static int instance;
  *out_instance = &instance;
  return OBX_STATUS_OK;
}

static void noop_destroy(void* instance) { (void)instance; }

static int32_t noop_handle(void* instance, obx_call_ctx* call, const obx_message_view* message,
                           obx_handler_result* result) {
  (void)instance;
  (void)call;
  (void)message;
  (void)result;
  return OBX_OUTCOME_OK;
}

static const obx_handler_vtable kVtable = {sizeof(obx_handler_vtable), 0, noop_create,
                                           noop_destroy, noop_handle};

static const obx_plugin_descriptor kDescriptor = {
    sizeof(obx_plugin_descriptor), OBX_PLUGIN_MAGIC, OBX_ABI_MAJOR, 0, "bench_noop", "1.0.0",
    "bench: no-op handler (always OK)", OBX_KIND_HANDLER, 0, NULL, &kVtable, NULL};

OBX_EXPORT int32_t obx_plugin_entry_v1(const obx_host_api* host, const obx_plugin_descriptor** out) {
  if (host->abi_major != OBX_ABI_MAJOR) return OBX_STATUS_ABI_MISMATCH;
  *out = &kDescriptor;
  return OBX_STATUS_OK;
}
