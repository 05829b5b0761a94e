/* bench_stamp: a bench-only handler plugin that records when each message reaches its handler.
 * On every handle call it appends "<tenant> <row_id> <created_at_unix_ms> <now_unix_us>\n" (now from
 * clock_gettime(CLOCK_REALTIME) at handler start) to the file named by the environment variable
 * OBX_BENCH_STAMP_FILE (opened O_APPEND once per instance; one write(2) per message), then returns
 * OK. bench/pg_outboxd.sh joins the lines with the rows' created_at (microseconds, database clock on
 * the same machine) to get enqueue-to-handler-start latency. Plain C against the SDK headers. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "obx/plugin.h"

typedef struct stamp_instance {
  int fd;
} stamp_instance;

static int32_t stamp_create(const obx_host_ctx* host_ctx, obx_str config_json, obx_call_ctx* call,
                            void** out_instance) {
  (void)host_ctx;
  (void)config_json;
  (void)call;
  stamp_instance* inst = (stamp_instance*)calloc(1, sizeof(stamp_instance));
  if (inst == NULL) return OBX_STATUS_ERROR;
  const char* path = getenv("OBX_BENCH_STAMP_FILE");
  inst->fd = path != NULL && path[0] != '\0' ? open(path, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
  *out_instance = inst;
  return OBX_STATUS_OK;
}

static void stamp_destroy(void* instance) {
  stamp_instance* inst = (stamp_instance*)instance;
  if (inst->fd >= 0) close(inst->fd);
  free(inst);
}

static int32_t stamp_handle(void* instance, obx_call_ctx* call, const obx_message_view* message,
                            obx_handler_result* result) {
  (void)call;
  (void)result;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const stamp_instance* inst = (const stamp_instance*)instance;
  if (inst->fd < 0) return OBX_OUTCOME_OK;
  char line[512];
  int tenant_len = message->tenant.size > 200 ? 200 : (int)message->tenant.size;
  int n = snprintf(line, sizeof line, "%.*s %lld %lld %lld\n", tenant_len,
                   message->tenant.data != NULL ? message->tenant.data : "",
                   (long long)message->row_id, (long long)message->created_at_unix_ms,
                   (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
  if (n > 0) {
    ssize_t w = write(inst->fd, line, (size_t)n);
    (void)w;
  }
  return OBX_OUTCOME_OK;
}

static const obx_handler_vtable kVtable = {sizeof(obx_handler_vtable), 0, stamp_create,
                                           stamp_destroy, stamp_handle};

static const obx_plugin_descriptor kDescriptor = {
    sizeof(obx_plugin_descriptor), OBX_PLUGIN_MAGIC, OBX_ABI_MAJOR, 0, "bench_stamp", "1.0.0",
    "bench: records handler start time per message (OBX_BENCH_STAMP_FILE); always OK",
    OBX_KIND_HANDLER, 0, NULL, &kVtable, NULL};

OBX_EXPORT int32_t obx_plugin_entry_v1(const obx_host_api* host, const obx_plugin_descriptor** out) {
  if (host->abi_major != OBX_ABI_MAJOR) return OBX_STATUS_ABI_MISMATCH;
  *out = &kDescriptor;
  return OBX_STATUS_OK;
}
