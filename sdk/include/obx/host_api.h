/* outboxd SDK: the host services table.
 *
 * The host hands a plugin one obx_host_api table in the entry call. It is host-owned, static for
 * the life of the process, and append-only: new functions are added at the end and a plugin built
 * against an older SDK simply never reads them. Before calling a function added after ABI 1.0, a
 * plugin checks OBX_HOST_API_HAS(api, field).
 *
 * THREADING: every function here is thread-safe. Functions taking an obx_call_ctx may be called only
 * during the hook call that received that context. log/log_enabled may also be called from plugin
 * threads between create and destroy of the instance that owns the obx_host_ctx. */
#ifndef OBX_HOST_API_H_
#define OBX_HOST_API_H_

#include "obx/types.h"

OBX_EXTERN_C_BEGIN

struct obx_database_record; /* discovery.h */

typedef struct obx_host_api {
  uint32_t struct_size; /* sizeof(obx_host_api) as the host was built */
  uint32_t abi_major;   /* host's OBX_ABI_MAJOR */
  uint32_t abi_minor;   /* host's OBX_ABI_MINOR */
  uint32_t reserved0;
  obx_str host_version; /* e.g. "0.1.0"; static */

  /* Writes one log line attributed to the plugin instance behind ctx (NULL ctx: the plugin itself).
   * The host copies the text. */
  void (*log)(const obx_host_ctx* ctx, int32_t level, obx_str message);
  /* Non-zero when a line at `level` would be written; lets a plugin skip formatting. */
  int32_t (*log_enabled)(const obx_host_ctx* ctx, int32_t level);
  /* Wall clock, milliseconds since the Unix epoch (UTC). */
  int64_t (*now_unix_ms)(void);
  /* Monotonic clock, nanoseconds from an arbitrary origin. */
  int64_t (*now_monotonic_ns)(void);
  /* Records the error text of the current call; the host copies it (so the plugin keeps ownership of
   * its buffer). The last call wins. Used for create failures, RETRY and PERMANENT_FAILURE results
   * and discovery errors. */
  void (*set_error)(obx_call_ctx* call, obx_str text);
  /* Discovery only: hands one database record to the host, which copies it. Returns OBX_STATUS_OK,
   * or OBX_STATUS_INVALID_ARGUMENT when the record is malformed (the host logs why and skips it). */
  int32_t (*emit_database)(obx_call_ctx* call, const struct obx_database_record* record);
  /* Non-zero when the host wants the current call to finish early (shutdown); cooperative. */
  int32_t (*should_abort)(obx_call_ctx* call);
  /* --- ABI 1.0 ends here. Append new members below this line only. --- */
} obx_host_api;

/* True when the table handed over by the host contains `field`. */
#define OBX_HOST_API_HAS(api, field) \
  ((api)->struct_size >= offsetof(obx_host_api, field) + sizeof(((obx_host_api*)0)->field))

OBX_EXTERN_C_END

#endif /* OBX_HOST_API_H_ */
