/* outboxd SDK: START HERE. The plugin entry point and descriptor.
 *
 * A plugin is a shared object (.so) that exports exactly one symbol, obx_plugin_entry_v1. The ABI
 * major is part of the name, so a host of another major cannot even find it. The host:
 *   1. checks, without running any plugin code, that the file is an ELF object exporting the symbol;
 *   2. loads a private staged copy and calls the entry with its obx_host_api table;
 *   3. checks the returned descriptor (magic, abi_major == host major, abi_minor <= host minor,
 *      struct_size) before it calls anything else in the plugin.
 *
 * The entry must be side-effect free: no threads, no I/O, no allocation that needs cleanup. It
 * stores the host table pointer if it wants it (the table outlives the plugin) and writes a pointer
 * to a descriptor in static storage. OWNERSHIP: plugin (static, never freed).
 *
 * A plugin is a handler, a discovery provider, or both (kinds bitmask). Handlers either declare the
 * topics they serve (`topics`) or get them from the host configuration. */
#ifndef OBX_PLUGIN_H_
#define OBX_PLUGIN_H_

#include "obx/discovery.h"
#include "obx/handler.h"
#include "obx/host_api.h"
#include "obx/types.h"

OBX_EXTERN_C_BEGIN

#define OBX_ABI_MAJOR 1
#define OBX_ABI_MINOR 0
#define OBX_PLUGIN_MAGIC 0x4C504258u /* "XBPL" little-endian: 'X','B','P','L' */
#define OBX_ENTRY_SYMBOL "obx_plugin_entry_v1"

/* Plugin kinds (bitmask). */
#define OBX_KIND_HANDLER 0x1u
#define OBX_KIND_DISCOVERY 0x2u

typedef struct obx_plugin_descriptor {
  uint32_t struct_size;        /* sizeof(obx_plugin_descriptor) as the plugin was built */
  uint32_t magic;              /* OBX_PLUGIN_MAGIC */
  uint32_t abi_major;          /* OBX_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;          /* lowest host ABI minor the plugin needs */
  const char* name;            /* NUL-terminated, unique among loaded plugins: [a-z0-9_.-]+ */
  const char* version;         /* NUL-terminated, e.g. "1.2.0" */
  const char* description;     /* NUL-terminated, may be NULL */
  uint32_t kinds;              /* OBX_KIND_* bitmask */
  uint32_t flags;              /* reserved, 0 */
  const char* const* topics;   /* NULL-terminated list of topics served; NULL: from host config */
  const obx_handler_vtable* handler;     /* required when kinds has OBX_KIND_HANDLER, else NULL */
  const obx_discovery_vtable* discovery; /* required when kinds has OBX_KIND_DISCOVERY, else NULL */
  /* --- ABI 1.0 ends here. Append new members below this line only. --- */
} obx_plugin_descriptor;

/* The one exported symbol. `host` is valid for the life of the process. Returns OBX_STATUS_OK and
 * writes *out, or OBX_STATUS_ABI_MISMATCH when host->abi_major is not one the plugin speaks. */
typedef int32_t (*obx_plugin_entry_fn)(const obx_host_api* host, const obx_plugin_descriptor** out);

/* Declaration for plugin sources; define it with OBX_EXPORT. */
OBX_EXPORT int32_t obx_plugin_entry_v1(const obx_host_api* host, const obx_plugin_descriptor** out);

OBX_EXTERN_C_END

#endif /* OBX_PLUGIN_H_ */
