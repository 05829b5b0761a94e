#include "plugin/plugin_text.h"

#include <cstdint>
#include <cstdio>

namespace outboxd {

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;  // stray continuation byte or 0xF8..0xFF
    }
    if (n - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<uint8_t>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

bool HasControlCharacter(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

std::string EscapeForLog(std::string_view text, size_t max_bytes) {
  // Valid UTF-8 keeps its non-ASCII characters; anything else is shown byte by byte.
  const bool utf8 = IsValidUtf8(text);
  const bool cut = text.size() > max_bytes;
  if (cut) {
    size_t end = max_bytes;
    while (utf8 && end > 0 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  std::string out;
  out.reserve(text.size() + (cut ? 3 : 0));
  for (char ch : text) {
    const auto c = static_cast<uint8_t>(ch);
    if ((c >= 0x20 && c < 0x7F && c != '\\') || (utf8 && c >= 0x80)) {
      out.push_back(ch);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace outboxd
