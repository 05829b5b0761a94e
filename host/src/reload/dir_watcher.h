// DirWatcher: inotify on plugin_dir, used only as a trigger. Every batch of events that names a
// plugin file (see IsPluginFileName) or the folder itself calls on_change; the caller then rescans
// the folder, which stays the source of truth (events can be lost when the inotify queue overflows,
// and some file systems do not deliver them at all; the periodic rescan covers both).
//
// OWNERSHIP: owns the inotify descriptor and one thread; the destructor stops and joins it.
// THREADING: on_change runs on the watcher thread; it must be quick and thread-safe (e.g. set a
// flag and notify a condition variable).
#ifndef OUTBOXD_RELOAD_DIR_WATCHER_H_
#define OUTBOXD_RELOAD_DIR_WATCHER_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "common/status.h"

namespace outboxd {

class DirWatcher {
 public:
  // IoError when inotify is unavailable or `dir` cannot be watched (the caller may go on with
  // periodic rescans only).
  static Status Start(const std::filesystem::path& dir, std::function<void()> on_change,
                      std::unique_ptr<DirWatcher>* out);

  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;
  ~DirWatcher();

 private:
  DirWatcher(int inotify_fd, int stop_fd, std::function<void()> on_change);
  void Loop();

  const int inotify_fd_;
  const int stop_fd_;  // eventfd: written once by the destructor
  const std::function<void()> on_change_;
  std::thread thread_;
};

}  // namespace outboxd

#endif  // OUTBOXD_RELOAD_DIR_WATCHER_H_
