// CheckDescriptor: the host's rules for the descriptor a plugin's entry point returns. It runs
// before the host calls anything else in the plugin, so a plugin that fails it never sees create.
//
// Rules, in order: magic; abi_major == OBX_ABI_MAJOR; abi_minor <= OBX_ABI_MINOR; struct_size
// covers ABI 1.0; name of 1-kMaxPluginNameLength characters of [a-z0-9_.-]; version non-empty, at
// most kMaxPluginVersionLength bytes of UTF-8 without control characters; kinds non-zero with only
// known bits; a vtable for every declared kind, covering ABI 1.0, with no null function; topics
// (when not NULL) only for handlers: a non-empty list of distinct, non-empty names without control
// characters. Only ABI 1.0 fields are read: whatever a newer plugin appended is not known to this
// host.
//
// THREADING: pure function, thread-safe.
#ifndef OUTBOXD_PLUGIN_DESCRIPTOR_CHECK_H_
#define OUTBOXD_PLUGIN_DESCRIPTOR_CHECK_H_

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "obx/plugin.h"

namespace outboxd {

inline constexpr size_t kMaxPluginNameLength = 64;
inline constexpr size_t kMaxPluginVersionLength = 64;
inline constexpr size_t kMaxDeclaredTopics = 1024;
inline constexpr size_t kMaxTopicLength = 255;

// InvalidArgument with a one-line reason that names both sides where versions are concerned, e.g.
// "ABI major 2, host speaks 1". The reason does not name the file; the loader adds that.
Status CheckDescriptor(const obx_plugin_descriptor& descriptor);

// [a-z0-9_.-]{1,kMaxPluginNameLength}
bool IsValidPluginName(std::string_view name);

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_DESCRIPTOR_CHECK_H_
