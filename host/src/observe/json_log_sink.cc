#include "observe/json_log_sink.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/chrono.h>

#include <chrono>

namespace outboxd {
namespace {

// The text between the quotes after `marker` ("store '" -> X in "store 'X'"), or "".
std::string Quoted(std::string_view message, std::string_view marker) {
  const size_t at = message.find(marker);
  if (at == std::string_view::npos) return "";
  const size_t start = at + marker.size();
  const size_t end = message.find('\'', start);
  if (end == std::string_view::npos) return "";
  return std::string(message.substr(start, end - start));
}

// The word after `marker` ("message " -> M in "message M (topic"), or "".
std::string WordAfter(std::string_view message, std::string_view marker) {
  const size_t at = message.find(marker);
  if (at == std::string_view::npos) return "";
  const size_t start = at + marker.size();
  size_t end = start;
  while (end < message.size() && message[end] != ' ' && message[end] != ',' &&
         message[end] != ')' && message[end] != ';') {
    ++end;
  }
  return std::string(message.substr(start, end - start));
}

}  // namespace

std::map<std::string, std::string> LogFieldsOf(std::string_view message) {
  std::map<std::string, std::string> fields;
  std::string tenant = Quoted(message, "store '");
  if (tenant.empty()) tenant = Quoted(message, "outbox database '");
  if (tenant.empty()) tenant = Quoted(message, "Outbox database '");
  if (tenant.empty()) tenant = WordAfter(message, "Discovered new outbox database: ");
  if (tenant.empty()) tenant = WordAfter(message, "Outbox database removed: ");
  if (!tenant.empty()) fields["tenant"] = tenant;
  std::string topic = Quoted(message, "topic '");
  if (topic.empty()) topic = Quoted(message, "Topic '");
  if (!topic.empty()) fields["topic"] = topic;
  std::string id = WordAfter(message, "outbox message ");
  if (id.empty()) id = WordAfter(message, "Outbox message ");
  if (id.empty()) id = WordAfter(message, "(message ");
  if (!id.empty()) fields["message_id"] = id;
  // A plugin's own line (HostApi().log) starts with "[plugin:P] ": that names it for sure.
  std::string plugin;
  constexpr std::string_view kPluginPrefix = "[plugin:";
  if (message.substr(0, kPluginPrefix.size()) == kPluginPrefix) {
    const size_t end = message.find("] ", kPluginPrefix.size());
    if (end != std::string_view::npos) {
      plugin = std::string(message.substr(kPluginPrefix.size(), end - kPluginPrefix.size()));
    }
  }
  if (plugin.empty()) plugin = Quoted(message, "plugin '");
  if (plugin.empty()) plugin = Quoted(message, "Plugin '");
  if (!plugin.empty()) fields["plugin"] = plugin;
  return fields;
}

void JsonLogSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view text(msg.payload.data(), msg.payload.size());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      msg.time.time_since_epoch()) % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(msg.time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[40];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  nlohmann::json line = {
      {"time", std::string(stamp) + "." + fmt::format("{:03d}", static_cast<int>(ms.count())) + "Z"},
      {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                            spdlog::level::to_string_view(msg.level).size())},
      {"message", std::string(text)}};
  for (auto& [key, value] : LogFieldsOf(text)) line[key] = std::move(value);
  const std::string out =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(out.data(), 1, out.size(), out_);
}

void JsonLogSink::flush_() { std::fflush(out_); }

}  // namespace outboxd
