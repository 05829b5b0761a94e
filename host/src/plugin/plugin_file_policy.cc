#include "plugin/plugin_file_policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace outboxd {

Status CheckPluginFileOwnership(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::IoError("cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  const uid_t self = ::geteuid();
  if (st.st_uid != self && st.st_uid != 0) {
    return Status::InvalidArgument(path.string() + " is owned by uid " +
                                   std::to_string(st.st_uid) + ", not by the host user (uid " +
                                   std::to_string(self) + ") or root");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument(path.string() + " is writable by group or others (mode " +
                                   mode + "); run chmod go-w on it");
  }
  return Status::OK();
}

}  // namespace outboxd
