/* outboxd SDK: export macros.
 *
 * OBX_EXPORT marks the one symbol a plugin exports (obx_plugin_entry_v1). Plugins are built with
 * -fvisibility=hidden, so nothing else leaves the .so. OBX_EXTERN_C_BEGIN/END wrap declarations so
 * the headers compile both as C99 and as C++. */
#ifndef OBX_EXPORT_H_
#define OBX_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define OBX_EXPORT __attribute__((visibility("default")))
#else
#define OBX_EXPORT
#endif

#ifdef __cplusplus
#define OBX_EXTERN_C_BEGIN extern "C" {
#define OBX_EXTERN_C_END }
#else
#define OBX_EXTERN_C_BEGIN
#define OBX_EXTERN_C_END
#endif

#endif /* OBX_EXPORT_H_ */
