// Plugin file policy: who may have written a plugin file, and what its content hashes to.
//
// outboxd runs whatever code sits in plugin_dir, so a file (or the folder holding it) that someone
// other than the host user or root could have written is refused, like osquery's extension checks:
// the owner must be the effective user or root, and neither group nor others may write it.
// Symbolic links are judged by their target. Sha256OfFile (common/sha256.h) hashes a file's content,
// which is how the host tells a real replacement from a `touch` and checks plugin_sha256_allowlist.
//
// THREADING: pure functions of the file system; thread-safe.
#ifndef OUTBOXD_PLUGIN_PLUGIN_FILE_POLICY_H_
#define OUTBOXD_PLUGIN_PLUGIN_FILE_POLICY_H_

#include <filesystem>
#include <string>

#include "common/sha256.h"  // Sha256OfFile
#include "common/status.h"

namespace outboxd {

// OK when `path` (file or folder, symlinks followed) is owned by the effective user or root and is
// not writable by group or others. Otherwise InvalidArgument whose
// message says what is wrong and how to fix it, e.g.
//   "/p/x.so is writable by group or others (mode 0664); run chmod go-w on it".
Status CheckPluginFileOwnership(const std::filesystem::path& path);

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_PLUGIN_FILE_POLICY_H_
