// The text log format (log_format "text", the default): spdlog's usual pattern, with every control
// character of the message escaped, so that text a plugin or a producer controls (a topic, a tenant
// identifier, a handler's error, last_error) can never start a line of its own or move the
// terminal's cursor: a topic "a<newline>[2026-...] [info] fake" is written on ONE line as
// a\n[2026-...] [info] fake (a backslash and an 'n'). JSON lines (JsonLogSink) are escaped by JSON.
//
// Escapes: \n \r \t as those two characters; every other byte below 0x20 and 0x7f (DEL, ESC, ...)
// as \xHH. Everything else, UTF-8 included, is kept as it is. A backslash already in the text is
// kept too (the escape only has to keep lines apart, not be reversible).
//
// EscapingFormatter is installed once on outboxd's logger (app/outboxd_main.cc); it applies to
// every line of every call site and plugin. OWNERSHIP: the logger (its sinks) own the formatter.
// THREADING: spdlog calls format() under the sink's lock; the functions here are pure.
#ifndef OUTBOXD_OBSERVE_TEXT_LOG_FORMAT_H_
#define OUTBOXD_OBSERVE_TEXT_LOG_FORMAT_H_

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace outboxd {

// True when `text` has a byte EscapeControlCharacters would change.
bool HasControlCharacters(std::string_view text);

// `text` with its control characters escaped (see above).
std::string EscapeControlCharacters(std::string_view text);

// spdlog's pattern formatter over the escaped message (the default pattern unless given one).
class EscapingFormatter : public spdlog::formatter {
 public:
  EscapingFormatter();
  explicit EscapingFormatter(const std::string& pattern);

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  explicit EscapingFormatter(std::unique_ptr<spdlog::formatter> inner);
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_TEXT_LOG_FORMAT_H_
