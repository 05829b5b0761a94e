/* outboxd SDK: message handlers.
 *
 * A handler plugin fills an obx_handler_vtable (static storage) and points its descriptor at it.
 * Lifecycle of one instance: create -> handle (many times) -> destroy.
 *
 * THREADING: create and destroy run on the host's control thread, never concurrently with any call
 * on the same instance. handle may run concurrently from several worker threads on the same instance
 * (never twice at once for the same message); make it thread-safe or guard it yourself.
 * The host owns retries and backoff: a handler never sleeps to retry, it returns OBX_OUTCOME_RETRY. */
#ifndef OBX_HANDLER_H_
#define OBX_HANDLER_H_

#include "obx/message.h"
#include "obx/types.h"

OBX_EXTERN_C_BEGIN

/* Outcome of one delivery. Values are fixed forever; the host treats unknown values as RETRY. */
#define OBX_OUTCOME_OK 0                /* done: the host marks the message dispatched */
#define OBX_OUTCOME_RETRY 1             /* transient: rescheduled with backoff, counts an attempt */
#define OBX_OUTCOME_PERMANENT_FAILURE 2 /* poison: failed at once, never retried */

/* Filled by handle. OWNERSHIP: host (zeroed by the host before the call, struct_size set). */
typedef struct obx_handler_result {
  uint32_t struct_size;
  int32_t reserved0;
  /* With OBX_OUTCOME_RETRY: delay before the next attempt in ms; 0 means the host's backoff. */
  int64_t retry_after_ms;
  /* --- ABI 1.0 ends here. Append new members below this line only. --- */
} obx_handler_result;

typedef struct obx_handler_vtable {
  uint32_t struct_size;
  uint32_t reserved0;
  /* Creates an instance. config_json is the instance's "config" object as UTF-8 JSON (borrowed,
   * "{}" when none was given). On success writes *out_instance (plugin-owned) and returns
   * OBX_STATUS_OK; on failure returns OBX_STATUS_INVALID_ARGUMENT/ERROR after set_error(call, ...). */
  int32_t (*create)(const obx_host_ctx* host_ctx, obx_str config_json, obx_call_ctx* call,
                    void** out_instance);
  /* Destroys an instance. Called once, after every handle call on it has returned. */
  void (*destroy)(void* instance);
  /* Delivers one message. Returns an OBX_OUTCOME_* value; set_error(call, ...) explains a RETRY or
   * PERMANENT_FAILURE (the text becomes the row's last_error, truncated to 2048 characters). */
  int32_t (*handle)(void* instance, obx_call_ctx* call, const obx_message_view* message,
                    obx_handler_result* result);
  /* --- ABI 1.0 ends here. Append new members below this line only. --- */
} obx_handler_vtable;

OBX_EXTERN_C_END

#endif /* OBX_HANDLER_H_ */
