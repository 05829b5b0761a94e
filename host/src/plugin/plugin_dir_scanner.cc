#include "plugin/plugin_dir_scanner.h"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

namespace outboxd {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool IsPluginFileName(const std::string& name) {
  return !name.empty() && name[0] != '.' && !EndsWith(name, ".tmp") && EndsWith(name, ".so");
}

bool IdentityOf(const fs::path& path, FileIdentity* out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  out->device = st.st_dev;
  out->inode = st.st_ino;
  out->size = static_cast<int64_t>(st.st_size);
  out->mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  out->mode = st.st_mode;
  out->owner = st.st_uid;
  return true;
}

Status PluginDirScanner::Scan(const fs::path& dir, Clock::time_point now, bool trust_now,
                              PluginDirScan* out) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) return Status::NotFound("plugin folder " + dir.string() + " does not exist");
  if (!fs::is_directory(st)) {
    return Status::IoError("plugin folder " + dir.string() + " is not a directory");
  }
  std::vector<ScannedFile> present;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ScannedFile file;
    file.path = it->path();
    if (!IsPluginFileName(file.path.filename().string())) continue;
    if (!IdentityOf(file.path, &file.identity)) continue;  // vanished, dangling, not regular
    present.push_back(std::move(file));
  }
  if (ec) return Status::IoError("cannot read plugin folder " + dir.string() + ": " + ec.message());
  std::sort(present.begin(), present.end(), [](const ScannedFile& a, const ScannedFile& b) {
    return a.path.filename() < b.path.filename();
  });

  PluginDirScan scan;
  std::map<fs::path, Seen> seen;
  for (ScannedFile& file : present) {
    auto it_seen = seen_.find(file.path);
    Seen s{file.identity, trust_now ? now - settle_ : now};
    if (it_seen != seen_.end() && it_seen->second.identity == file.identity) s = it_seen->second;
    seen.emplace(file.path, s);
    const auto stable_at = s.since + settle_;
    if (stable_at <= now) {
      scan.stable.push_back(std::move(file));
      continue;
    }
    scan.unsettled.push_back(file.path);
    if (!scan.recheck_at || stable_at < *scan.recheck_at) scan.recheck_at = stable_at;
  }
  seen_ = std::move(seen);
  *out = std::move(scan);
  return Status::OK();
}

}  // namespace outboxd
