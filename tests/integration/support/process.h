// Process helpers for the integration tests (header-only: tests/CMakeLists.txt compiles only
// *_test.cc files of tests/integration into integration_tests).
//
//  - Process: starts a real binary (posix_spawn, its own process group, stdin = /dev/null, stdout
//    and stderr captured to files in a folder the test owns), waits for a log line with a
//    deadline, sends signals, waits for the exit with a deadline, and on destruction kills and
//    reaps whatever is still running, so a failing test never leaves an outboxd behind.
//  - RunProgram: runs a short-lived program (outboxctl) to completion with a deadline.
//  - Eventually: polls a condition until it holds or a deadline passes (no fixed sleeps in tests).
//
// THREADING: a Process object is used from one test thread.
#ifndef OUTBOXD_TESTS_INTEGRATION_SUPPORT_PROCESS_H_
#define OUTBOXD_TESTS_INTEGRATION_SUPPORT_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace outboxd::testing {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// The whole content of `path`, or "" when it cannot be read.
inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline int CountOccurrences(const std::string& text, const std::string& needle) {
  if (needle.empty()) return 0;
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Polls `condition` every `every` until it returns true or `timeout` has passed; returns the last
// result (the condition is always evaluated at least once, and once more at the deadline).
template <typename Condition>
bool Eventually(Condition condition, milliseconds timeout, milliseconds every = milliseconds(20)) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (SteadyClock::now() >= deadline) return condition();
    std::this_thread::sleep_for(every);
  }
}

// A running child process. Start() never throws; check ok() / error().
class Process {
 public:
  struct Options {
    std::vector<std::string> args;  // without argv[0]
    // Extra or overriding "NAME=value" environment entries on top of the test's environment.
    std::vector<std::string> env;
    std::filesystem::path log_dir;  // stdout/stderr go to <log_dir>/<name>.out / .err
    std::string name = "process";
    bool quiet = false;  // never dump its stderr at destruction (see ~Process)
  };

  static std::unique_ptr<Process> Start(const std::filesystem::path& binary, Options options) {
    std::unique_ptr<Process> p(new Process());
    p->name_ = options.name;
    p->quiet_ = options.quiet;
    p->stdout_path_ = options.log_dir / (options.name + ".out");
    p->stderr_path_ = options.log_dir / (options.name + ".err");

    std::vector<std::string> argv_strings;
    argv_strings.push_back(binary.string());
    argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    std::map<std::string, std::string> env_map;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string entry = *e;
      size_t eq = entry.find('=');
      if (eq != std::string::npos) env_map[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const std::string& entry : options.env) {
      size_t eq = entry.find('=');
      if (eq != std::string::npos) env_map[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env_map) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, p->stdout_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, p->stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty_mask;
    sigemptyset(&empty_mask);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    posix_spawnattr_setsigmask(&attr, &empty_mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);  // own process group: teardown kills it and its children
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      p->error_ = "posix_spawn " + binary.string() + ": " + std::strerror(rc);
      return p;
    }
    p->pid_ = pid;
    return p;
  }

  // With OBX_TEST_DUMP_LOGS=1 in the environment, the captured stderr is printed when the object
  // goes away (to read a passing run's log).
  ~Process() {
    Kill();
    const char* dump = getenv("OBX_TEST_DUMP_LOGS");
    if (pid_ > 0 && !quiet_ && dump != nullptr && *dump != '\0' && std::string(dump) != "0") {
      fprintf(stderr, "=== %s stderr ===\n%s=== end of %s ===\n", name_.c_str(), Stderr().c_str(),
              name_.c_str());
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& stdout_path() const { return stdout_path_; }
  const std::filesystem::path& stderr_path() const { return stderr_path_; }

  std::string Stdout() const { return ReadText(stdout_path_); }
  std::string Stderr() const { return ReadText(stderr_path_); }

  // Occurrences of `needle` in the captured stderr so far.
  int CountInStderr(const std::string& needle) const { return CountOccurrences(Stderr(), needle); }

  // Waits until stderr holds at least `count` occurrences of `needle`. False at the deadline, or
  // as soon as the process has exited without printing enough of them.
  bool WaitForLog(const std::string& needle, milliseconds timeout, int count = 1) {
    return Eventually(
        [&] {
          if (CountInStderr(needle) >= count) return true;
          Poll();
          return exit_code_.has_value() && CountInStderr(needle) >= count;
        },
        timeout);
  }

  // Last `n` lines of stderr, for failure messages.
  std::string StderrTail(size_t n = 40) const {
    std::vector<std::string> lines = SplitLines(Stderr());
    std::string out = "--- last lines of " + name_ + " stderr ---\n";
    for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
      out += lines[i] + "\n";
    return out;
  }

  bool Signal(int sig) {
    if (pid_ <= 0 || exit_code_.has_value()) return false;
    return ::kill(pid_, sig) == 0;
  }

  // True once the process has exited (reaps it).
  bool Exited() {
    Poll();
    return exit_code_.has_value();
  }

  // Waits for the exit: the exit status, 128 + signal when killed by a signal, or nullopt when it
  // is still running at the deadline.
  std::optional<int> WaitExit(milliseconds timeout) {
    Eventually([&] { return Exited(); }, timeout, milliseconds(10));
    return exit_code_;
  }

  // SIGKILL to the whole process group (outboxd and anything it started that stayed in its
  // group), then reap. No-op when already reaped.
  void Kill() {
    if (pid_ <= 0 || exit_code_.has_value()) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = DecodeStatus(status);
  }

 private:
  Process() = default;

  static int DecodeStatus(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
  }

  void Poll() {
    if (pid_ <= 0 || exit_code_.has_value()) return;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) exit_code_ = DecodeStatus(status);
  }

  std::string name_;
  std::string error_;
  bool quiet_ = false;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
};

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed; -1 when it could not start
  std::string out;
  std::string err;
};

// Runs `binary args...` to completion (killed at `timeout`), capturing stdout and stderr through
// files in `scratch_dir`.
inline RunResult RunProgram(const std::filesystem::path& binary,
                            const std::vector<std::string>& args,
                            const std::filesystem::path& scratch_dir,
                            milliseconds timeout = milliseconds(30000)) {
  static std::atomic<int> counter{0};
  Process::Options options;
  options.args = args;
  options.log_dir = scratch_dir;
  options.quiet = true;
  options.name = "run-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  std::unique_ptr<Process> p = Process::Start(binary, options);
  RunResult result;
  if (!p->ok()) {
    result.err = p->error();
    return result;
  }
  std::optional<int> code = p->WaitExit(timeout);
  if (!code) {
    p->Kill();
    result.err = "timed out after " + std::to_string(timeout.count()) + " ms; ";
    code = 128 + SIGKILL;
  }
  result.exit_code = *code;
  result.out = p->Stdout();
  result.err += p->Stderr();
  std::error_code ec;
  std::filesystem::remove(p->stdout_path(), ec);
  std::filesystem::remove(p->stderr_path(), ec);
  return result;
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_INTEGRATION_SUPPORT_PROCESS_H_
