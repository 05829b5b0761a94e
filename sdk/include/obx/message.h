/* outboxd SDK: the message view a handler receives.
 *
 * OWNERSHIP: host. Every pointer in an obx_message_view (and the view itself) is borrowed and valid
 * only until the obx_handler_vtable.handle call that received it returns. Copy what you keep.
 * The payload is opaque bytes (JSON by convention) and is not NUL-terminated. */
#ifndef OBX_MESSAGE_H_
#define OBX_MESSAGE_H_

#include "obx/types.h"

OBX_EXTERN_C_BEGIN

typedef struct obx_message_view {
  uint32_t struct_size;
  uint32_t attempt;            /* 1 on the first delivery, 2 on the first retry, ... */
  int64_t row_id;              /* the outbox row's primary key in its tenant database */
  obx_str message_id;          /* stable logical id, the same on every retry: use it to deduplicate */
  obx_str topic;               /* routing key, as stored */
  obx_str payload;             /* opaque body */
  obx_str correlation_id;      /* size 0 when absent */
  obx_str tenant;              /* identifier of the tenant database (from discovery) */
  int64_t created_at_unix_ms;  /* database time at insert */
  int64_t due_at_unix_ms;      /* 0 when the producer set no due time */
  /* --- ABI 1.0 ends here. Append new members below this line only. --- */
} obx_message_view;

OBX_EXTERN_C_END

#endif /* OBX_MESSAGE_H_ */
