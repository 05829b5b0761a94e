// RunChild: runs one program to completion with a payload on stdin, a deadline and no shell.
//
// The child is started with posix_spawn in its own process group, with an empty signal mask and
// default dispositions, stdin = a pipe fed with `stdin_data` (then closed), stdout = /dev/null,
// stderr = a pipe whose last bytes are kept, every other descriptor closed, and `env` as its whole
// environment. The caller's thread polls stdin, stderr and the child's exit together, so a child
// that never reads stdin or floods stderr cannot deadlock it. Writing to a child that closed stdin
// never raises SIGPIPE in the host: SIGPIPE is blocked in the calling thread while writing, and a
// SIGPIPE raised by this call is consumed before the mask is restored. At the deadline the whole
// process group gets SIGKILL and the child is reaped before RunChild returns.
//
// Thread-safe: any number of threads may call RunChild at once (all descriptors are O_CLOEXEC).
#ifndef OUTBOXD_PLUGINS_HANDLER_EXEC_CHILD_PROCESS_H_
#define OUTBOXD_PLUGINS_HANDLER_EXEC_CHILD_PROCESS_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace outboxd::handler_exec {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0]: a path (contains '/') or a name looked up in PATH
  std::vector<std::string> env;   // "NAME=value" entries: the child's entire environment
  std::string working_dir;        // empty: inherit
  std::chrono::milliseconds timeout{30000};
  size_t stderr_tail_bytes = 1024;
};

struct ChildOutcome {
  enum class Kind { kExited, kSignaled, kTimedOut, kSpawnFailed };
  Kind kind = Kind::kSpawnFailed;
  int exit_code = -1;       // kExited
  int signal = 0;           // kSignaled
  std::string spawn_error;  // kSpawnFailed: why it could not start (or its status was lost)
  std::string stderr_tail;  // sanitised tail of stderr (see OutputTail)
};

ChildOutcome RunChild(const ChildSpec& spec, std::string_view stdin_data);

}  // namespace outboxd::handler_exec

#endif  // OUTBOXD_PLUGINS_HANDLER_EXEC_CHILD_PROCESS_H_
