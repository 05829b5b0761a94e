// JsonLogSink: log_format "json". An spdlog sink writing one JSON object per line to stderr:
//   {"time":"2026-12-03T10:21:24.123Z","level":"info","message":"...","tenant":"customer-001",
//    "topic":"email.send","message_id":"...","plugin":"exec"}
// tenant, topic, message_id and plugin appear where the message names them in outboxd's usual
// phrasing (store 'X' / outbox database 'X' / "Discovered new outbox database: X", topic 'T',
// message M / outbox message M, plugin 'P', and a plugin's own lines: "[plugin:P] ..."); the
// message itself is kept whole.
//
// OWNERSHIP: the logger owns the sink. THREADING: thread-safe (spdlog's base_sink lock).
#ifndef OUTBOXD_OBSERVE_JSON_LOG_SINK_H_
#define OUTBOXD_OBSERVE_JSON_LOG_SINK_H_

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/sinks/base_sink.h>

namespace outboxd {

// The fields found in `message` (see above), by name.
std::map<std::string, std::string> LogFieldsOf(std::string_view message);

class JsonLogSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JsonLogSink(FILE* out = stderr) : out_(out) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  FILE* out_;
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_JSON_LOG_SINK_H_
