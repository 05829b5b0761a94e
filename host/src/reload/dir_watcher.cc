#include "reload/dir_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "plugin/plugin_dir_scanner.h"

namespace outboxd {
namespace {

constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                             IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

// True when one event in buf[0, len) concerns a plugin file or the folder itself (or events were
// dropped): then a rescan is worth it.
bool Relevant(const char* buf, ssize_t len) {
  for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= len;) {
    inotify_event event;
    std::memcpy(&event, buf + at, sizeof(event));
    if ((event.mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) {
      return true;
    }
    if (event.len > 0) {
      const char* name = buf + at + sizeof(inotify_event);
      if (IsPluginFileName(std::string(name, strnlen(name, event.len)))) return true;
    }
    at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
  }
  return false;
}

}  // namespace

Status DirWatcher::Start(const std::filesystem::path& dir, std::function<void()> on_change,
                         std::unique_ptr<DirWatcher>* out) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Status::IoError(std::string("inotify_init1: ") + std::strerror(errno));
  if (inotify_add_watch(fd, dir.c_str(), kEvents) < 0) {
    const int err = errno;
    ::close(fd);
    return Status::IoError("cannot watch " + dir.string() + ": " + std::strerror(err));
  }
  const int stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop < 0) {
    const int err = errno;
    ::close(fd);
    return Status::IoError(std::string("eventfd: ") + std::strerror(err));
  }
  std::unique_ptr<DirWatcher> watcher(new DirWatcher(fd, stop, std::move(on_change)));
  watcher->thread_ = std::thread([w = watcher.get()] { w->Loop(); });
  *out = std::move(watcher);
  return Status::OK();
}

DirWatcher::DirWatcher(int inotify_fd, int stop_fd, std::function<void()> on_change)
    : inotify_fd_(inotify_fd), stop_fd_(stop_fd), on_change_(std::move(on_change)) {}

DirWatcher::~DirWatcher() {
  const uint64_t one = 1;
  while (::write(stop_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  if (thread_.joinable()) thread_.join();
  ::close(inotify_fd_);
  ::close(stop_fd_);
}

void DirWatcher::Loop() {
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    bool relevant = false;
    for (;;) {
      const ssize_t n = ::read(inotify_fd_, buf, sizeof(buf));
      if (n <= 0) break;  // EAGAIN: drained
      relevant = relevant || Relevant(buf, n);
    }
    if (relevant) on_change_();
  }
}

}  // namespace outboxd
