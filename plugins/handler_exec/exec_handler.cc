// The `exec` handler plugin: runs a configured program once per message, no shell involved.
//
// The payload goes to the program's stdin; OUTBOX_TOPIC, OUTBOX_MESSAGE_ID, OUTBOX_CORRELATION_ID,
// OUTBOX_TENANT and OUTBOX_ATTEMPT, the host variables named in "inherit_env" (snapshotted at
// create; nothing else of the daemon's environment, which may hold secrets), then the configured "env". Outcome: exit 0 -> OK, exit 65 (EX_DATAERR) -> PERMANENT_FAILURE, any
// other exit code, a signal, a start failure or the timeout -> RETRY, with "exit code N" /
// "killed by signal S" / "timed out after Xs" plus the tail of stderr as the error text.
// Topics come from the host configuration. Thread-safe: Handle only reads immutable state.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "child_process.h"
#include "exec_config.h"
#include "obx/cpp/plugin.hpp"

namespace outboxd::handler_exec {
namespace {

constexpr int kPermanentFailureExitCode = 65;  // sysexits.h EX_DATAERR: "this input is bad"
constexpr size_t kStderrTailBytes = 1024;

bool IsOverridden(const std::string& name, const ExecConfig& config) {
  for (const auto& kv : config.env) {
    if (kv.first == name) return true;
  }
  return false;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string(" (SIG") + abbrev + ")" : std::string();
}

class ExecHandler : public obx::Handler {
 public:
  explicit ExecHandler(const obx::PluginContext& ctx)
      : host_(ctx.host), config_(ParseExecConfig(ctx.config_json)) {
    for (const std::string& name : config_.inherit_env) {
      const char* value = getenv(name.c_str());
      if (value != nullptr && !IsOverridden(name, config_)) base_env_.push_back(name + "=" + value);
    }
    for (const auto& kv : config_.env) base_env_.push_back(kv.first + "=" + kv.second);
  }

  obx::Result Handle(const obx::Message& m) override {
    ChildSpec spec;
    spec.argv = config_.command;
    spec.working_dir = config_.working_dir;
    spec.timeout = config_.timeout;
    spec.stderr_tail_bytes = kStderrTailBytes;
    spec.env.reserve(base_env_.size() + 5);
    spec.env = base_env_;
    spec.env.push_back("OUTBOX_TOPIC=" + Clean(m.topic));
    spec.env.push_back("OUTBOX_MESSAGE_ID=" + Clean(m.message_id));
    spec.env.push_back("OUTBOX_CORRELATION_ID=" + Clean(m.correlation_id));
    spec.env.push_back("OUTBOX_TENANT=" + Clean(m.tenant));
    spec.env.push_back("OUTBOX_ATTEMPT=" + std::to_string(m.attempt));

    const ChildOutcome o = RunChild(spec, m.payload);
    switch (o.kind) {
      case ChildOutcome::Kind::kExited:
        if (o.exit_code == 0) return obx::Result::Ok();
        if (o.exit_code == kPermanentFailureExitCode) {
          return obx::Result::PermanentFailure(WithStderr("exit code 65", o));
        }
        return obx::Result::Retry(WithStderr("exit code " + std::to_string(o.exit_code), o));
      case ChildOutcome::Kind::kSignaled:
        return obx::Result::Retry(
            WithStderr("killed by signal " + std::to_string(o.signal) + SignalName(o.signal), o));
      case ChildOutcome::Kind::kTimedOut:
        return obx::Result::Retry(
            WithStderr("timed out after " + FormatSeconds(config_.timeout), o));
      case ChildOutcome::Kind::kSpawnFailed:
        break;
    }
    host_.Warn("exec: " + o.spawn_error);
    return obx::Result::Retry(o.spawn_error);
  }

 private:
  // Environment values cannot hold NUL bytes; drop them rather than truncate silently.
  static std::string Clean(std::string_view v) {
    std::string s(v);
    s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
    return s;
  }

  static std::string WithStderr(std::string text, const ChildOutcome& o) {
    if (!o.stderr_tail.empty()) text += "; stderr: " + o.stderr_tail;
    return text;
  }

  const obx::Host& host_;
  const ExecConfig config_;
  std::vector<std::string> base_env_;  // inherited host variables, then config env
};

}  // namespace
}  // namespace outboxd::handler_exec

OBX_DEFINE_PLUGIN("exec", OBX_PLUGIN_VERSION,
                  "Runs a program per message: payload on stdin, exit code decides the outcome",
                  ::outboxd::handler_exec::ExecHandler, void, nullptr)
