// LoadPlugin: turns one .so file into a LoadedPlugin, or into a one-line reason why not.
//
// Steps, each a possible rejection:
//   1. stage a private, read-only copy under options.staging_dir, named by content
//      (<stem>-<sha256[0:16]>.so, staged_file.h), so a replaced source file is never mistaken for
//      the one glibc already has loaded;
//   1b. when options.sha256_allowlist is set, the copy's SHA-256 must be in it;
//   2. read the copy as ELF with boost::dll::library_info: it must export obx_plugin_entry_v1
//      (no plugin code runs yet);
//   3. dlopen the copy (RTLD_NOW | RTLD_LOCAL): the plugin's ELF constructors run here;
//   4. call the entry point with HostApi(), catching anything it throws;
//   5. check the descriptor (descriptor_check.h) before calling anything else in the plugin.
// Failures return InvalidArgument (NotFound when the file does not exist, IoError when the host
// cannot stage it) whose message names the file and the reason, e.g.
//   "plugin 'libfoo.so' rejected: ABI major 2, host speaks 1".
// Success is logged at info level; rejections are left to the caller to log.
//
// THREADING: thread-safe, but plugin entry points and ELF constructors are arbitrary code: call it
// from the control thread.
#ifndef OUTBOXD_PLUGIN_PLUGIN_LOADER_H_
#define OUTBOXD_PLUGIN_PLUGIN_LOADER_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "plugin/loaded_plugin.h"

namespace outboxd {

struct PluginLoadOptions {
  // Private folder for staged copies; created 0700 when missing, refused when group- or
  // world-writable or owned by another user. Use a folder of the host user, not a shared /tmp.
  std::filesystem::path staging_dir;
  // Lower-case hex SHA-256 digests. Empty: no allow-list. Otherwise a file whose staged bytes hash
  // to none of them is rejected after staging, before any of its code is mapped.
  std::vector<std::string> sha256_allowlist;
};

// On success sets *out; on failure leaves it untouched.
Status LoadPlugin(const std::filesystem::path& file, const PluginLoadOptions& options,
                  std::shared_ptr<LoadedPlugin>* out);

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_PLUGIN_LOADER_H_
