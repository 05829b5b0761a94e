/* outboxd SDK: tenant database discovery.
 *
 * A discovery plugin lists the tenant databases the host should poll. The host calls discover at
 * start-up and every refresh_interval; the plugin hands each database to the host with
 * obx_host_api.emit_database(call, &record), which copies it. Returning an error status tells the
 * host the listing is unusable: it keeps the tenant set it has (nothing is removed).
 *
 * THREADING: create, destroy and discover run on the host's control thread, one at a time. */
#ifndef OBX_DISCOVERY_H_
#define OBX_DISCOVERY_H_

#include "obx/types.h"

OBX_EXTERN_C_BEGIN

/* One tenant database. OWNERSHIP: plugin; the host copies it inside emit_database. */
typedef struct obx_database_record {
  uint32_t struct_size;
  uint32_t reserved0;
  obx_str identifier;        /* required, unique: the tenant id (e.g. "customer-001") */
  obx_str connection_string; /* required: "sqlite:<path>" or "postgresql://..." */
  obx_str schema_name;       /* optional (size 0): defaults to "infra" (ignored on SQLite) */
  obx_str table_name;        /* optional (size 0): defaults to "outbox" */
  /* --- ABI 1.0 ends here. Append new members below this line only. --- */
} obx_database_record;

typedef struct obx_discovery_vtable {
  uint32_t struct_size;
  uint32_t reserved0;
  /* Same contract as obx_handler_vtable.create. */
  int32_t (*create)(const obx_host_ctx* host_ctx, obx_str config_json, obx_call_ctx* call,
                    void** out_instance);
  void (*destroy)(void* instance);
  /* Emits every current database, then returns OBX_STATUS_OK. On failure: set_error, return
   * OBX_STATUS_ERROR (records emitted before the failure are discarded). */
  int32_t (*discover)(void* instance, obx_call_ctx* call);
  /* --- ABI 1.0 ends here. Append new members below this line only. --- */
} obx_discovery_vtable;

OBX_EXTERN_C_END

#endif /* OBX_DISCOVERY_H_ */
