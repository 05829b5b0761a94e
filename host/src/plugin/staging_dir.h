// StagingDir: the private folder plugin files are copied into before dlopen (plugin_loader.h).
// Either the configured staging_dir (created if missing, made mode 0700, kept at the end) or, when
// none is configured, a fresh folder under $XDG_RUNTIME_DIR or the temp folder that this object
// removes when it goes away.
//
// OWNERSHIP: owns the folder it created. THREADING: thread-compatible.
// ERRORS: InvalidArgument naming staging_dir when the configured folder cannot be created or made
// private (a configuration problem: exit 2); InvalidArgument too, naming XDG_RUNTIME_DIR or TMPDIR
// and its value, when no private folder can be made under the default base (a missing
// $XDG_RUNTIME_DIR is an operator's environment problem, not a reason for a restart loop).
#ifndef OUTBOXD_PLUGIN_STAGING_DIR_H_
#define OUTBOXD_PLUGIN_STAGING_DIR_H_

#include <filesystem>
#include <string>

#include "common/status.h"

namespace outboxd {

class StagingDir {
 public:
  StagingDir() = default;
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  ~StagingDir();

  // `configured` empty: a private temporary folder. On error nothing was created.
  Status Open(const std::string& configured);

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool owned_ = false;  // created by Open: removed by the destructor
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_STAGING_DIR_H_
