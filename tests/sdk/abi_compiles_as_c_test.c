/* Compiles every SDK C header as C99 (this file is built by the C compiler with -Wpedantic), uses
 * each struct, constant and macro once, and reports the layout the C compiler computed so that
 * abi_layout_test.cc can compare it with the C++ compiler's. No main(): it is linked into
 * sdk_tests. obx/plugin.h ("start here") comes first, before any system header, to prove that it
 * is self-contained in C. */
/* clang-format off */
#include "obx/plugin.h"
#include "obx/obx.h"
#include "obx/discovery.h"
#include "obx/export.h"
#include "obx/handler.h"
#include "obx/host_api.h"
#include "obx/message.h"
#include "obx/types.h"
/* clang-format on */

#include <stddef.h>
#include <string.h>

int obx_c_header_probe(void);
size_t obx_c_layout(size_t* values, size_t capacity);

static int32_t probe_create(const obx_host_ctx* host_ctx, obx_str config_json, obx_call_ctx* call,
                            void** out_instance) {
  (void)host_ctx;
  (void)config_json;
  (void)call;
  *out_instance = NULL;
  return OBX_STATUS_OK;
}
static void probe_destroy(void* instance) { (void)instance; }
static int32_t probe_handle(void* instance, obx_call_ctx* call, const obx_message_view* message,
                            obx_handler_result* result) {
  (void)instance;
  (void)call;
  (void)message;
  result->retry_after_ms = 0;
  return OBX_OUTCOME_OK;
}
static int32_t probe_discover(void* instance, obx_call_ctx* call) {
  (void)instance;
  (void)call;
  return OBX_STATUS_OK;
}

/* Builds one of every ABI struct the way a C plugin would and returns the sum of their sizes. */
int obx_c_header_probe(void) {
  static const char* const topics[] = {"probe.topic", NULL};
  obx_str s = obx_str_make("probe", 5);
  obx_message_view view;
  obx_handler_result result;
  obx_handler_vtable handler = {sizeof(obx_handler_vtable), 0, probe_create, probe_destroy,
                                probe_handle};
  obx_discovery_vtable discovery = {sizeof(obx_discovery_vtable), 0, probe_create, probe_destroy,
                                    probe_discover};
  obx_database_record record;
  obx_host_api api;
  obx_plugin_descriptor descriptor;
  obx_plugin_entry_fn entry = NULL;
  int32_t statuses = OBX_STATUS_OK + OBX_STATUS_ERROR + OBX_STATUS_ABI_MISMATCH +
                     OBX_STATUS_INVALID_ARGUMENT + OBX_OUTCOME_OK + OBX_OUTCOME_RETRY +
                     OBX_OUTCOME_PERMANENT_FAILURE + OBX_LOG_TRACE + OBX_LOG_DEBUG + OBX_LOG_INFO +
                     OBX_LOG_WARN + OBX_LOG_ERROR;

  memset(&view, 0, sizeof(view));
  view.struct_size = sizeof(view);
  view.payload = s;
  memset(&result, 0, sizeof(result));
  result.struct_size = sizeof(result);
  memset(&record, 0, sizeof(record));
  record.struct_size = sizeof(record);
  record.identifier = s;
  memset(&api, 0, sizeof(api));
  api.struct_size = sizeof(api);
  memset(&descriptor, 0, sizeof(descriptor));
  descriptor.struct_size = sizeof(descriptor);
  descriptor.magic = OBX_PLUGIN_MAGIC;
  descriptor.abi_major = OBX_ABI_MAJOR;
  descriptor.abi_minor = OBX_ABI_MINOR;
  descriptor.kinds = OBX_KIND_HANDLER | OBX_KIND_DISCOVERY;
  descriptor.topics = topics;
  descriptor.handler = &handler;
  descriptor.discovery = &discovery;

  if (!OBX_HOST_API_HAS(&api, should_abort)) return -1;
  if (statuses != 19 || entry != NULL || strcmp(OBX_ENTRY_SYMBOL, "obx_plugin_entry_v1") != 0) {
    return -1;
  }
  if (handler.handle(NULL, NULL, &view, &result) != OBX_OUTCOME_OK) return -1;
  return (int)(sizeof(s) + sizeof(view) + sizeof(result) + sizeof(handler) + sizeof(discovery) +
               sizeof(record) + sizeof(api) + sizeof(descriptor));
}

/* Writes sizeof of every struct and offsetof of every field, in abi_layout_fields.inc order, and
 * returns how many values that is (writing at most `capacity`). */
size_t obx_c_layout(size_t* values, size_t capacity) {
  size_t n = 0;
#define OBX_LAYOUT_STRUCT(T)               \
  if (n < capacity) values[n] = sizeof(T); \
  ++n;
#define OBX_LAYOUT_FIELD(T, f)                  \
  if (n < capacity) values[n] = offsetof(T, f); \
  ++n;
#include "abi_layout_fields.inc"
#undef OBX_LAYOUT_STRUCT
#undef OBX_LAYOUT_FIELD
  return n;
}
