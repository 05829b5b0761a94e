// StagedFile: the private, read-only copy of a plugin file that the host actually dlopen()s.
//
// glibc's dlopen returns the already-loaded object when it is asked for a path it has seen before,
// even after the file there was replaced, so the host never loads the drop-folder path itself. Each
// content gets its own path instead: <staging_dir>/<stem>-<sha256[0:16]>.so. The copy is hashed as
// it is written (the hash describes exactly the bytes that get loaded, however the source changes
// afterwards) and is made read-only (0400).
//
// OWNERSHIP: shared. Stage() hands out the live StagedFile when the same path is already staged, so
// all holders of one content share one file; it is deleted when the last holder lets go (a library
// mapped from it keeps working after the unlink).
// THREADING: Stage() and destruction are thread-safe (one process-wide registry, under a mutex).
#ifndef OUTBOXD_PLUGIN_STAGED_FILE_H_
#define OUTBOXD_PLUGIN_STAGED_FILE_H_

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"

namespace outboxd {

class StagedFile {
 public:
  // Copies `source` into `staging_dir` (created 0700 when missing; refused when group- or
  // world-writable or owned by another user). NotFound when `source` does not exist, IoError when
  // the copy fails.
  static Status Stage(const std::filesystem::path& source, const std::filesystem::path& staging_dir,
                      std::shared_ptr<StagedFile>* out);

  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile();

  const std::filesystem::path& path() const { return path_; }
  const std::string& sha256() const { return sha256_; }  // lower-case hex, 64 characters

 private:
  StagedFile(std::filesystem::path path, std::string sha256)
      : path_(std::move(path)), sha256_(std::move(sha256)) {}

  const std::filesystem::path path_;
  const std::string sha256_;
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_STAGED_FILE_H_
