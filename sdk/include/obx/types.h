/* outboxd SDK: basic types shared by every ABI header.
 *
 * Conventions (they hold for every header under obx/):
 *  1. Only fixed-width integers, pointers and structs cross the boundary. No bool, no enum-typed
 *     fields (constants are #defines over int32_t/uint32_t), no C++ type, no exception.
 *  2. Strings are (pointer, length) views: obx_str. They are NOT NUL-terminated unless a field says
 *     so. A view is borrowed: it is valid only for the duration of the call that handed it over.
 *  3. Whoever allocates frees. The host never frees plugin memory and the plugin never frees host
 *     memory. Text that must outlive a call is copied by the receiver (see obx_host_api.set_error).
 *  4. Every struct that crosses the boundary starts with uint32_t struct_size and only grows at the
 *     end. A reader uses a field only if offsetof(field) + sizeof(field) <= struct_size.
 *  5. Every pointer argument is non-NULL unless the comment says otherwise. */
#ifndef OBX_TYPES_H_
#define OBX_TYPES_H_

#include <stddef.h>
#include <stdint.h>

#include "obx/export.h"

OBX_EXTERN_C_BEGIN

/* A borrowed string view. OWNERSHIP: the side that passes it; valid for the call only. */
typedef struct obx_str {
  const char* data; /* may be NULL when size == 0 */
  size_t size;
} obx_str;

/* Status codes returned by plugin hooks and host callbacks. Values are fixed forever. */
#define OBX_STATUS_OK 0
#define OBX_STATUS_ERROR 1            /* generic failure; details via obx_host_api.set_error */
#define OBX_STATUS_ABI_MISMATCH 2     /* the other side speaks an ABI major we do not */
#define OBX_STATUS_INVALID_ARGUMENT 3 /* bad configuration or argument */

/* Log levels, same order as spdlog's. */
#define OBX_LOG_TRACE 0
#define OBX_LOG_DEBUG 1
#define OBX_LOG_INFO 2
#define OBX_LOG_WARN 3
#define OBX_LOG_ERROR 4

/* Opaque host-owned handles. OWNERSHIP: host. A plugin never frees or dereferences them.
 * obx_host_ctx: one per plugin instance, valid from create until destroy returns.
 * obx_call_ctx: one per hook call, valid until that call returns. */
typedef struct obx_host_ctx obx_host_ctx;
typedef struct obx_call_ctx obx_call_ctx;

static inline obx_str obx_str_make(const char* data, size_t size) {
  obx_str s;
  s.data = data;
  s.size = size;
  return s;
}

OBX_EXTERN_C_END

#endif /* OBX_TYPES_H_ */
