#include "dispatch/failure_text.h"

#include "obx/cpp/redact.hpp"

namespace outboxd {
namespace {
constexpr std::string_view kTruncatedSuffix = "... [truncated]";
constexpr std::string_view kWhitespace = " \t\r\n\v\f";
}  // namespace

std::string BoundFailureText(std::string_view raw) {
  // Redacted before it is cut, so that no cut can leave a password piece the patterns miss.
  const std::string redacted = obx::RedactConnectionString(raw);
  std::string_view text = redacted;
  const std::size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return "Failure details unavailable.";
  text = text.substr(first, text.find_last_not_of(kWhitespace) - first + 1);
  if (text.size() <= kMaxFailureTextLength) return std::string(text);
  std::size_t cut = kMaxFailureTextLength - kTruncatedSuffix.size();
  // Do not split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += kTruncatedSuffix;
  return out;
}

}  // namespace outboxd
