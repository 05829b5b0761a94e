// ParseExecConfig: JSON -> ExecConfig, with one clear error per bad key.
#include "common/config_object.h"
#include "exec_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace outboxd::handler_exec {
namespace {

using nlohmann::json;

constexpr int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;

[[noreturn]] void Fail(const std::string& message) {
  throw std::invalid_argument("exec config: " + message);
}

// The host's duration syntax: one or more <integer><unit> parts, units d, h, m, s, ms from the
// largest to the smallest, each at most once ("30s", "200ms", "1m30s"). Returns ms, or -1.
int64_t ParseDurationMs(const std::string& text) {
  static const struct {
    const char* name;
    int64_t ms;
  } kUnits[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  int64_t total = 0;
  size_t i = 0;
  int next_unit = 0;  // index into kUnits of the largest unit still allowed
  if (text.empty()) return -1;
  while (i < text.size()) {
    int64_t value = 0;
    const size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (value > std::numeric_limits<int32_t>::max()) return -1;
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (i == digits_start) return -1;
    size_t unit_end = i;
    while (unit_end < text.size() && (text[unit_end] < '0' || text[unit_end] > '9')) ++unit_end;
    const std::string unit = text.substr(i, unit_end - i);
    int found = -1;
    for (int u = next_unit; u < 5 && found < 0; ++u) {
      if (unit == kUnits[u].name) found = u;
    }
    if (found < 0) return -1;
    total += value * kUnits[found].ms;
    if (total > kMaxTimeoutMs) return kMaxTimeoutMs + 1;
    next_unit = found + 1;
    i = unit_end;
  }
  return total;
}

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

std::vector<std::string> ParseCommand(const json& v) {
  if (!v.is_array())
    Fail("\"command\" must be an array of strings, e.g. [\"/usr/bin/prog\", \"arg\"]");
  if (v.empty()) Fail("\"command\" must not be empty");
  std::vector<std::string> argv;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string key = "\"command\"[" + std::to_string(i) + "]";
    if (!v[i].is_string()) Fail(key + " must be a string");
    std::string arg = v[i].get<std::string>();
    if (HasNul(arg)) Fail(key + " contains a NUL character");
    argv.push_back(std::move(arg));
  }
  const std::string& program = argv[0];
  if (program.empty()) Fail("\"command\"[0] (the program) must not be empty");
  if (program[0] == '/') {
    struct stat st {};
    if (stat(program.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        access(program.c_str(), X_OK) != 0) {
      Fail("\"command\"[0]: \"" + program + "\" is not an executable file");
    }
  }
  return argv;
}

bool IsVariableName(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos && !HasNul(name);
}

std::vector<std::pair<std::string, std::string>> ParseEnv(const json& v) {
  if (!v.is_object()) Fail("\"env\" must be an object of strings, e.g. {\"KEY\": \"value\"}");
  std::vector<std::pair<std::string, std::string>> env;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& name = it.key();
    const std::string key = "\"env\".\"" + name + "\"";
    if (!IsVariableName(name)) Fail(key + ": not a valid variable name");
    if (name.rfind("OUTBOX_", 0) == 0) Fail(key + ": OUTBOX_* variables are set by the handler");
    if (!it.value().is_string()) Fail(key + " must be a string");
    std::string value = it.value().get<std::string>();
    if (HasNul(value)) Fail(key + " contains a NUL character");
    env.emplace_back(name, std::move(value));
  }
  return env;
}

std::vector<std::string> ParseInheritEnv(const json& v) {
  if (!v.is_array()) Fail("\"inherit_env\" must be an array of variable names, e.g. [\"PATH\"]");
  std::vector<std::string> names;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string key = "\"inherit_env\"[" + std::to_string(i) + "]";
    if (!v[i].is_string()) Fail(key + " must be a string");
    std::string name = v[i].get<std::string>();
    if (!IsVariableName(name)) Fail(key + ": not a valid variable name");
    if (name.rfind("OUTBOX_", 0) == 0) Fail(key + ": OUTBOX_* variables are set by the handler");
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

std::vector<std::string> DefaultInheritEnv() {
  return {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"};
}

ExecConfig ParseExecConfig(std::string_view config_json) {
  const json root = outboxd_plugins::ParseConfigObject(config_json, "exec");

  ExecConfig config;
  bool has_command = false;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const json& value = it.value();
    if (key == "command") {
      config.command = ParseCommand(value);
      has_command = true;
    } else if (key == "timeout") {
      int64_t ms = value.is_string() ? ParseDurationMs(value.get<std::string>()) : -1;
      if (ms <= 0 || ms > kMaxTimeoutMs) {
        Fail(
            "\"timeout\" must be a positive duration up to 24h such as \"30s\", \"200ms\" "
            "or \"1m30s\" (units ms, s, m, h, d), got " +
            value.dump());
      }
      config.timeout = std::chrono::milliseconds(ms);
    } else if (key == "env") {
      config.env = ParseEnv(value);
    } else if (key == "inherit_env") {
      config.inherit_env = ParseInheritEnv(value);
    } else if (key == "working_dir") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        Fail("\"working_dir\" must be a non-empty string");
      }
      config.working_dir = value.get<std::string>();
      struct stat st {};
      if (HasNul(config.working_dir) || stat(config.working_dir.c_str(), &st) != 0 ||
          !S_ISDIR(st.st_mode)) {
        Fail("\"working_dir\": \"" + config.working_dir + "\" is not a directory");
      }
    } else {
      Fail("unknown key \"" + key + "\" (expected command, timeout, env, inherit_env, working_dir)");
    }
  }
  if (!has_command) Fail("missing required key \"command\" (an array: program and arguments)");
  return config;
}

std::string FormatSeconds(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(ms) / 1000.0);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s + "s";
}

}  // namespace outboxd::handler_exec
