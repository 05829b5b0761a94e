#include "plugin/staging_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
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
  std::filesystem::path base = (runtime != nullptr && *runtime != '\0')
                                   ? std::filesystem::path(runtime)
                                   : std::filesystem::temp_directory_path(ec);
  std::string pattern = (base / "outboxd-staging-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::IoError("cannot create a private staging folder under '" + base.string() + "'");
  }
  path_ = pattern;
  owned_ = true;
  return Status::OK();
}

}  // namespace outboxd
