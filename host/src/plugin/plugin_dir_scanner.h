// PluginDirScanner: what is in plugin_dir right now, and which of those files have stopped changing.
//
// A candidate is a *.so entry whose name does not start with '.' and does not end in ".tmp", and
// that is (or links to) a regular file. Its identity is (device, inode, size, mtime, mode, owner) of the file
// the name leads to, so an atomic rename, an in-place rewrite and a re-pointed symlink all change it,
// while nothing short of a write or `touch` does. A file is *stable* once its identity has been
// the same for `settle` (observed at two scans at least that far apart); until then it is
// *unsettled* and the caller should look again at recheck_at. Content is not read here: the caller
// hashes stable files whose identity changed, so a `touch` costs one hash and reloads nothing.
//
// OWNERSHIP: value type. THREADING: thread-compatible (the control thread owns it).
#ifndef OUTBOXD_PLUGIN_PLUGIN_DIR_SCANNER_H_
#define OUTBOXD_PLUGIN_PLUGIN_DIR_SCANNER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "common/status.h"

namespace outboxd {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  int64_t size = -1;
  int64_t mtime_ns = 0;
  mode_t mode = 0;  // so that fixing permissions (chmod go-w) gets the file looked at again
  uid_t owner = 0;

  bool operator==(const FileIdentity& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns &&
           mode == o.mode && owner == o.owner;
  }
  bool operator!=(const FileIdentity& o) const { return !(*this == o); }
};

struct ScannedFile {
  std::filesystem::path path;
  FileIdentity identity;
};

struct PluginDirScan {
  std::vector<ScannedFile> stable;                // sorted by file name
  std::vector<std::filesystem::path> unsettled;   // present, still changing (or just appeared)
  // When the earliest unsettled file may become stable; empty when none is unsettled.
  std::optional<std::chrono::steady_clock::time_point> recheck_at;
};

// True for names the host ever considers ("x.so"; never ".x.so", "x.so.tmp", "x.tmp").
bool IsPluginFileName(const std::string& name);

class PluginDirScanner {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PluginDirScanner(std::chrono::milliseconds settle) : settle_(settle) {}

  // Lists `dir`. With trust_now (start-up), every candidate counts as stable at once. NotFound or
  // IoError when the folder itself cannot be listed (then nothing is remembered).
  Status Scan(const std::filesystem::path& dir, Clock::time_point now, bool trust_now,
              PluginDirScan* out);

 private:
  struct Seen {
    FileIdentity identity;
    Clock::time_point since;
  };
  const std::chrono::milliseconds settle_;
  std::map<std::filesystem::path, Seen> seen_;
};

// The identity of what `path` leads to; false when it cannot be stat()ed.
bool IdentityOf(const std::filesystem::path& path, FileIdentity* out);

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_PLUGIN_DIR_SCANNER_H_
