#include "plugin/staging_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace outboxd {

StagingDir::~StagingDir() {
  if (!owned_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Status StagingDir::Open(const std::string& configured) {
  std::error_code ec;
  if (!configured.empty()) {
    std::filesystem::create_directories(configured, ec);
    // The operator's setting: InvalidArgument, so that outboxd exits 2 (no restart loop).
    if (ec) return Status::InvalidArgument("staging_dir '" + configured + "': " + ec.message());
    if (::chmod(configured.c_str(), 0700) != 0) {
      return Status::InvalidArgument("staging_dir '" + configured + "': cannot make it private");
    }
    path_ = configured;
    owned_ = false;
    return Status::OK();
  }
  const char* runtime = getenv("XDG_RUNTIME_DIR");
  const bool from_runtime = runtime != nullptr && *runtime != '\0';
  const char* tmpdir = getenv("TMPDIR");
  std::filesystem::path base = from_runtime ? std::filesystem::path(runtime)
                                            : std::filesystem::temp_directory_path(ec);
  // Where the folder would go is the operator's environment: InvalidArgument (exit 2), naming it.
  const std::string where =
      from_runtime ? "XDG_RUNTIME_DIR '" + std::string(runtime) + "'"
                   : "the temporary folder '" +
                         (ec && tmpdir != nullptr ? std::string(tmpdir) : base.string()) + "'";
  const std::string fix = "; set staging_dir in the configuration, or point " +
                          std::string(from_runtime ? "XDG_RUNTIME_DIR" : "TMPDIR") +
                          " at a folder that exists";
  if (ec) return Status::InvalidArgument("staging_dir: " + where + ": " + ec.message() + fix);
  std::string pattern = (base / "outboxd-staging-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    const int err = errno;
    return Status::InvalidArgument("staging_dir: cannot create a private staging folder in " +
                                   where + ": " + std::strerror(err) + fix);
  }
  path_ = pattern;
  owned_ = true;
  return Status::OK();
}

}  // namespace outboxd
