// ExecConfig: the validated configuration of one `exec` handler instance.
//
// ParseExecConfig reads the instance's JSON config:
//   {"command": ["/path/prog", "arg", ...],   required, non-empty array of strings, no shell
//    "timeout": "30s",                         optional duration ("200ms", "1m30s"), default 30s
//    "env": {"K": "V"},                        optional extra environment (OUTBOX_* is reserved)
//    "inherit_env": ["PATH", ...],             optional names taken from outboxd's own environment
//    "working_dir": "/some/dir"}               optional, must be an existing directory
// and throws std::invalid_argument naming the offending key on any error (unknown key included).
// Thread-compatible value type; immutable after parsing.
#ifndef OUTBOXD_PLUGINS_HANDLER_EXEC_EXEC_CONFIG_H_
#define OUTBOXD_PLUGINS_HANDLER_EXEC_EXEC_CONFIG_H_

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outboxd::handler_exec {

// PATH, HOME, LANG, LC_ALL, TZ, TMPDIR: what programs need to start and format text, no secrets.
std::vector<std::string> DefaultInheritEnv();

struct ExecConfig {
  std::vector<std::string> command;  // argv; command[0] is a path or a name looked up in PATH
  std::chrono::milliseconds timeout{30000};
  std::vector<std::pair<std::string, std::string>> env;  // extra variables, in config order
  // Names of outboxd's own variables the child also gets (when set). Nothing else of the daemon's
  // environment reaches the child: it may hold secrets (PGPASSWORD, tokens) that would otherwise end
  // up in a program's output and from there in last_error.
  std::vector<std::string> inherit_env = DefaultInheritEnv();
  std::string working_dir;                               // empty: inherit the host's
};

ExecConfig ParseExecConfig(std::string_view config_json);

// "30s", "0.2s", "1.5s": the timeout as it appears in error texts.
std::string FormatSeconds(std::chrono::milliseconds d);

}  // namespace outboxd::handler_exec

#endif  // OUTBOXD_PLUGINS_HANDLER_EXEC_EXEC_CONFIG_H_
