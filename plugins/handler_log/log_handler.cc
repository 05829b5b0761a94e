// The `log` handler plugin: one host log line per message, always OK.
//
// Config: {"level": "info" (trace|debug|info|warn|warning|error), "max_payload": 256 (bytes shown;
// 0 logs only the size)}; unknown keys fail create. Topics come from the host configuration.
// The line:
//   message tenant=<t> topic=<t> message_id=<id> attempt=<n> correlation_id=<c> payload=<p>
// with control characters and invalid UTF-8 escaped (\n, \xNN), so a message is always one line.
// Thread-safe: Handle only reads immutable state; the host log is thread-safe.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/config_object.h"
#include "obx/cpp/plugin.hpp"

namespace outboxd::handler_log {
namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& message) {
  throw std::invalid_argument("log config: " + message);
}

int32_t ParseLevel(const json& v) {
  const std::string name = v.is_string() ? v.get<std::string>() : std::string();
  if (name == "trace") return OBX_LOG_TRACE;
  if (name == "debug") return OBX_LOG_DEBUG;
  if (name == "info") return OBX_LOG_INFO;
  if (name == "warn" || name == "warning") return OBX_LOG_WARN;
  if (name == "error") return OBX_LOG_ERROR;
  Fail("\"level\" must be one of trace, debug, info, warn, error; got " + v.dump());
}

// Length of a valid UTF-8 sequence at s[i] (1 for ASCII), or 0 when invalid or cut short.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t len = b < 0x80                   ? 1
               : (b >= 0xC2 && b <= 0xDF) ? 2
               : (b >= 0xE0 && b <= 0xEF) ? 3
               : (b >= 0xF0 && b <= 0xF4) ? 4
                                          : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

// Appends at most max_bytes of `text` (never splitting a character), escaped for one log line.
// Returns true when it had to stop early.
bool AppendEscaped(std::string& out, std::string_view text, size_t max_bytes) {
  static const char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < text.size()) {
    size_t len = Utf8Length(text, i);
    if (i + (len == 0 ? 1 : len) > max_bytes) return true;
    const auto c = static_cast<unsigned char>(text[i]);
    if (len == 0 || c < 0x20 || c == 0x7F || c == '\\') {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\\':
          out += "\\\\";
          break;
        default:
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
      }
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
  return false;
}

class LogHandler : public obx::Handler {
 public:
  explicit LogHandler(const obx::PluginContext& ctx) : host_(ctx.host) {
    const json root = outboxd_plugins::ParseConfigObject(ctx.config_json, "log");
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it.key() == "level") {
        level_ = ParseLevel(it.value());
      } else if (it.key() == "max_payload") {
        if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0) {
          Fail("\"max_payload\" must be an integer >= 0, got " + it.value().dump());
        }
        max_payload_ = static_cast<size_t>(it.value().get<int64_t>());
      } else {
        Fail("unknown key \"" + it.key() + "\" (expected level, max_payload)");
      }
    }
  }

  obx::Result Handle(const obx::Message& m) override {
    if (!host_.LogEnabled(level_)) return obx::Result::Ok();
    std::string line = "message tenant=";
    AppendEscaped(line, m.tenant, SIZE_MAX);
    line += " topic=";
    AppendEscaped(line, m.topic, SIZE_MAX);
    line += " message_id=";
    AppendEscaped(line, m.message_id, SIZE_MAX);
    line += " attempt=" + std::to_string(m.attempt);
    line += " correlation_id=";
    AppendEscaped(line, m.correlation_id, SIZE_MAX);
    if (max_payload_ > 0) {
      line += " payload=";
      if (AppendEscaped(line, m.payload, max_payload_)) {
        line += "...(" + std::to_string(m.payload.size()) + " bytes)";
      }
    } else {
      line += " payload_bytes=" + std::to_string(m.payload.size());
    }
    host_.Log(level_, line);
    return obx::Result::Ok();
  }

 private:
  const obx::Host& host_;
  int32_t level_ = OBX_LOG_INFO;
  size_t max_payload_ = 256;
};

}  // namespace
}  // namespace outboxd::handler_log

OBX_DEFINE_PLUGIN("log", OBX_PLUGIN_VERSION,
                  "Logs one line per message through the host; always OK",
                  ::outboxd::handler_log::LogHandler, void, nullptr)
