// RunChild: posix_spawn + one poll loop over stdin, stderr and a pidfd (see child_process.h).
#include "child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "output_tail.h"

namespace outboxd::handler_exec {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kWriteChunk = 64 * 1024;
constexpr int kFallbackTickMs = 10;  // exit polling period when pidfd_open is unavailable

std::string ErrnoText(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof(buf));  // GNU variant: returns the message
}

void CloseFd(int& fd) {
  if (fd >= 0) {
    close(fd);
    fd = -1;
  }
}

// Moves fd to a number >= 3, so the child's dup2 onto 0..2 cannot clobber it (a host that runs
// with some of 0..2 closed gets pipe descriptors in that range).
int AboveStdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

bool MakePipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  fds[0] = AboveStdio(fds[0]);
  fds[1] = AboveStdio(fds[1]);
  if (fds[0] < 0 || fds[1] < 0) {
    CloseFd(fds[0]);
    CloseFd(fds[1]);
    return false;
  }
  return true;
}

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Blocks SIGPIPE in the calling thread for its lifetime; if a write of ours raised SIGPIPE (and
// none was pending before), consumes it before restoring the mask so it is never delivered.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (raised_ && !was_pending_) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_set_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  void NoteEpipe() { raised_ = true; }

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool was_pending_ = false;
  bool raised_ = false;
};

// posix_spawn attributes and file actions, released at scope exit.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // Returns 0 or an errno value.
  int Prepare(int stdin_read, int stderr_write, const std::string& working_dir) {
    sigset_t empty;
    sigemptyset(&empty);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD,
                    SIGXFSZ, SIGTSTP, SIGTTIN, SIGTTOU}) {
      sigaddset(&defaults, sig);
    }
    int rc = posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr_, 0);  // own group, so a timeout kills all
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr_, &empty);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr_, &defaults);
    if (rc == 0 && !working_dir.empty()) {
      rc = posix_spawn_file_actions_addchdir_np(&actions_, working_dir.c_str());
    }
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, stdin_read, STDIN_FILENO);
    if (rc == 0) {
      rc = posix_spawn_file_actions_addopen(&actions_, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    }
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, stderr_write, STDERR_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
    return rc;
  }
  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

// NULL-terminated char* arrays over a vector of strings (which must outlive them).
std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Reads everything currently available on fd into tail. Returns false at EOF or on error.
bool DrainInto(int fd, OutputTail& tail) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      tail.Append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;  // EOF or a real error
  }
}

// A descriptor that becomes readable when the child exits, or -1 (old kernel: caller polls
// waitpid). Called through syscall(2): glibc 2.36's <sys/pidfd.h> lacks C++ linkage declarations.
int OpenPidFd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

int WaitBlocking(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

ChildOutcome RunChild(const ChildSpec& spec, std::string_view stdin_data) {
  ChildOutcome outcome;
  SigpipeGuard sigpipe_guard;
  int in_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (!MakePipe(in_pipe)) {
    outcome.spawn_error = "pipe: " + ErrnoText(errno);
    return outcome;
  }
  if (!MakePipe(err_pipe)) {
    outcome.spawn_error = "pipe: " + ErrnoText(errno);
    CloseFd(in_pipe[0]);
    CloseFd(in_pipe[1]);
    return outcome;
  }

  pid_t pid = -1;
  {
    SpawnSetup setup;
    int rc = setup.Prepare(in_pipe[0], err_pipe[1], spec.working_dir);
    if (rc == 0) {
      std::vector<char*> argv = CStrings(spec.argv);
      std::vector<char*> envp = CStrings(spec.env);
      const bool has_slash = spec.argv[0].find('/') != std::string::npos;
      rc = has_slash
               ? posix_spawn(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), envp.data())
               : posix_spawnp(&pid, argv[0], setup.actions(), setup.attr(), argv.data(),
                              envp.data());
    }
    CloseFd(in_pipe[0]);
    CloseFd(err_pipe[1]);
    if (rc != 0) {
      outcome.spawn_error = "cannot start \"" + spec.argv[0] + "\": " + ErrnoText(rc);
      CloseFd(in_pipe[1]);
      CloseFd(err_pipe[0]);
      return outcome;
    }
  }

  int stdin_fd = in_pipe[1];
  int stderr_fd = err_pipe[0];
  SetNonBlocking(stdin_fd);
  SetNonBlocking(stderr_fd);
  int pid_fd = OpenPidFd(pid);

  OutputTail tail(spec.stderr_tail_bytes);
  size_t written = 0;
  if (stdin_data.empty()) CloseFd(stdin_fd);
  const Clock::time_point deadline = Clock::now() + spec.timeout;
  bool exited = false;
  bool timed_out = false;
  bool status_lost = false;
  int status = 0;

  while (!exited) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      kill(-pid, SIGKILL);  // the whole process group: grandchildren too
      kill(pid, SIGKILL);   // in case the child left the group
      status = WaitBlocking(pid);
      timed_out = true;
      break;
    }
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    int wait_ms =
        static_cast<int>(std::min<int64_t>(remaining, pid_fd >= 0 ? 1000 : kFallbackTickMs));

    pollfd fds[3];
    nfds_t n = 0;
    int stdin_idx = -1;
    int stderr_idx = -1;
    int pid_idx = -1;
    if (stdin_fd >= 0) {
      stdin_idx = static_cast<int>(n);
      fds[n++] = pollfd{stdin_fd, POLLOUT, 0};
    }
    if (stderr_fd >= 0) {
      stderr_idx = static_cast<int>(n);
      fds[n++] = pollfd{stderr_fd, POLLIN, 0};
    }
    if (pid_fd >= 0) {
      pid_idx = static_cast<int>(n);
      fds[n++] = pollfd{pid_fd, POLLIN, 0};
    }
    int ready = n > 0 ? poll(fds, n, wait_ms) : poll(nullptr, 0, wait_ms);
    if (ready < 0 && errno != EINTR) {
      wait_ms = kFallbackTickMs;  // should not happen; keep going on the waitpid check below
    }

    if (ready > 0 && stdin_idx >= 0 && fds[stdin_idx].revents != 0) {
      for (;;) {
        const size_t chunk = std::min(kWriteChunk, stdin_data.size() - written);
        ssize_t w = write(stdin_fd, stdin_data.data() + written, chunk);
        if (w > 0) {
          written += static_cast<size_t>(w);
          if (written == stdin_data.size()) {
            CloseFd(stdin_fd);  // EOF for the child
            break;
          }
          continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (w < 0 && errno == EPIPE) sigpipe_guard.NoteEpipe();
        CloseFd(stdin_fd);  // the child closed its stdin (EPIPE) or another error: stop feeding
        break;
      }
    }
    if (ready > 0 && stderr_idx >= 0 && fds[stderr_idx].revents != 0) {
      if (!DrainInto(stderr_fd, tail)) CloseFd(stderr_fd);
    }
    if (pid_fd < 0 || (ready > 0 && pid_idx >= 0 && fds[pid_idx].revents != 0)) {
      pid_t r;
      do {
        r = waitpid(pid, &status, WNOHANG);
      } while (r < 0 && errno == EINTR);
      if (r == pid) exited = true;
      if (r < 0 && errno == ECHILD) {  // the host ignores SIGCHLD: the kernel reaped the child
        exited = true;
        status_lost = true;
      }
    }
  }

  // Whatever the child wrote before it ended is in the pipe; grandchildren may keep the pipe open,
  // so read what is there without waiting for EOF.
  if (stderr_fd >= 0) DrainInto(stderr_fd, tail);
  CloseFd(stdin_fd);
  CloseFd(stderr_fd);
  CloseFd(pid_fd);

  outcome.stderr_tail = tail.Text();
  if (timed_out) {
    outcome.kind = ChildOutcome::Kind::kTimedOut;
  } else if (status_lost) {
    outcome.kind = ChildOutcome::Kind::kSpawnFailed;
    outcome.spawn_error = "exit status of \"" + spec.argv[0] +
                          "\" unavailable: the process ignores SIGCHLD, so children are reaped "
                          "before their status can be read";
  } else if (WIFEXITED(status)) {
    outcome.kind = ChildOutcome::Kind::kExited;
    outcome.exit_code = WEXITSTATUS(status);
  } else {
    outcome.kind = ChildOutcome::Kind::kSignaled;
    outcome.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return outcome;
}

}  // namespace outboxd::handler_exec
