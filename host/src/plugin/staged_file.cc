#include "plugin/staged_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <system_error>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/sha256.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;

// Every live StagedFile by path. Leaked on purpose: plugins may outlive static destruction.
struct Registry {
  Mutex mu;
  std::map<fs::path, std::weak_ptr<StagedFile>> files GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

std::string ErrnoText() { return std::strerror(errno); }

Status EnsureStagingDir(const fs::path& dir) {
  if (dir.empty()) return Status::InvalidArgument("no plugin staging directory configured");
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      return Status::IoError("cannot create staging directory " + dir.string() + ": " +
                             ec.message());
    }
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) {
      return Status::IoError("cannot restrict staging directory " + dir.string() + ": " +
                             ec.message());
    }
  }
  const fs::file_status st = fs::status(dir, ec);
  if (ec || !fs::is_directory(st)) {
    return Status::IoError("staging directory " + dir.string() + " is not a directory");
  }
  struct stat raw {};
  if (::stat(dir.c_str(), &raw) == 0 && raw.st_uid != ::geteuid()) {
    return Status::IoError("staging directory " + dir.string() +
                           " is not owned by the host user; it must be private (0700)");
  }
  if ((st.permissions() & (fs::perms::group_write | fs::perms::others_write)) != fs::perms::none) {
    return Status::IoError("staging directory " + dir.string() +
                           " is writable by group or others; it must be private (0700)");
  }
  return Status::OK();
}

// Plugin file stems go into a path: keep [A-Za-z0-9_.-], replace the rest.
std::string SafeStem(const fs::path& source) {
  std::string stem = source.stem().string();
  for (char& c : stem) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) c = '_';
  }
  return stem.empty() ? std::string("plugin") : stem;
}

// Copies `source` to a new temporary file in `dir`, hashing the bytes written. The copy is 0400.
Status CopyAndHash(const fs::path& source, const fs::path& dir, fs::path* temp,
                   std::string* sha256) {
  std::ifstream in(source, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + source.string() + ": " + ErrnoText());
  std::string pattern = (dir / ".staging-XXXXXX").string();
  const int fd = mkstemp(pattern.data());
  if (fd < 0) {
    return Status::IoError("cannot create a file in " + dir.string() + ": " + ErrnoText());
  }
  *temp = pattern;
  Sha256 sha;
  std::vector<char> buffer(64 * 1024);
  Status status;
  while (status.ok() && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    sha.Update(buffer.data(), n);
    for (size_t done = 0; done < n && status.ok();) {
      const ssize_t w = ::write(fd, buffer.data() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) status = Status::IoError("cannot write " + temp->string() + ": " + ErrnoText());
      if (w > 0) done += static_cast<size_t>(w);
    }
  }
  if (status.ok() && in.bad()) status = Status::IoError("cannot read " + source.string());
  if (status.ok() && ::fchmod(fd, S_IRUSR) != 0) {
    status = Status::IoError("cannot make " + temp->string() + " read-only: " + ErrnoText());
  }
  if (::close(fd) != 0 && status.ok()) {
    status = Status::IoError("cannot write " + temp->string() + ": " + ErrnoText());
  }
  if (!status.ok()) {
    std::error_code ec;
    fs::remove(*temp, ec);
    return status;
  }
  *sha256 = sha.HexDigest();
  if (sha256->empty()) return Status::Internal("libcrypto could not hash " + source.string());
  return Status::OK();
}

}  // namespace

Status StagedFile::Stage(const fs::path& source, const fs::path& staging_dir,
                         std::shared_ptr<StagedFile>* out) {
  std::error_code ec;
  if (!fs::exists(source, ec)) return Status::NotFound("file not found: " + source.string());
  OBX_RETURN_IF_ERROR(EnsureStagingDir(staging_dir));

  fs::path temp;
  std::string sha256;
  OBX_RETURN_IF_ERROR(CopyAndHash(source, staging_dir, &temp, &sha256));
  const fs::path final_path = staging_dir / (SafeStem(source) + "-" + sha256.substr(0, 16) + ".so");

  Registry& registry = GetRegistry();
  MutexLock lock(&registry.mu);
  std::weak_ptr<StagedFile>& slot = registry.files[final_path];
  if (std::shared_ptr<StagedFile> live = slot.lock()) {
    fs::remove(temp, ec);  // same content is already staged there
    *out = std::move(live);
    return Status::OK();
  }
  // rename() replaces a leftover from an earlier run atomically; a library still mapped from an old
  // inode at this path is unaffected.
  fs::rename(temp, final_path, ec);
  if (ec) {
    fs::remove(temp, ec);
    registry.files.erase(final_path);
    return Status::IoError("cannot stage " + source.string() + " as " + final_path.string() + ": " +
                           ec.message());
  }
  std::shared_ptr<StagedFile> staged(new StagedFile(final_path, std::move(sha256)));
  slot = staged;
  *out = std::move(staged);
  return Status::OK();
}

StagedFile::~StagedFile() {
  Registry& registry = GetRegistry();
  MutexLock lock(&registry.mu);
  auto it = registry.files.find(path_);
  // A live entry means the same content was staged again after this object expired: that holder
  // owns the file now.
  if (it != registry.files.end() && !it->second.expired()) return;
  if (it != registry.files.end()) registry.files.erase(it);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace outboxd
