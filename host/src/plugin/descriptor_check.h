// CheckDescriptor: the host's rules for the descriptor a plugin's entry point returns. It runs
// before the host calls anything else in the plugin, so a plugin that fails it never sees create.
//
// The rules are written once, in the SDK's header-only obx/cpp/validate.hpp (DescriptorProblem),
// which obx::testing::FakeHost::Enter applies too: magic; ABI major and minor; struct_size covers
// ABI 1.0; name of 1-kMaxPluginNameLength characters of [a-z0-9_.-]; a valid version; known kinds;
// a complete vtable per kind; a valid topic list. Only ABI 1.0 fields are read: whatever a newer
// plugin appended is not known to this host.
//
// THREADING: pure function, thread-safe.
#ifndef OUTBOXD_PLUGIN_DESCRIPTOR_CHECK_H_
#define OUTBOXD_PLUGIN_DESCRIPTOR_CHECK_H_

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "obx/cpp/validate.hpp"
#include "obx/plugin.h"

namespace outboxd {

using ::obx::validate::kMaxDeclaredTopics;
using ::obx::validate::kMaxPluginNameLength;
using ::obx::validate::kMaxPluginVersionLength;
using ::obx::validate::kMaxTopicLength;

// InvalidArgument with a one-line reason that names both sides where versions are concerned, e.g.
// "ABI major 2, host speaks 1". The reason does not name the file; the loader adds that.
Status CheckDescriptor(const obx_plugin_descriptor& descriptor);

// [a-z0-9_.-]{1,kMaxPluginNameLength}
using ::obx::validate::IsValidPluginName;

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_DESCRIPTOR_CHECK_H_
