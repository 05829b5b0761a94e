// OutputTail: bounded tail buffer plus UTF-8 sanitising.
#include "output_tail.h"

namespace outboxd::handler_exec {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid or cut short.
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b == 0xE0 && b1 < 0xA0) return 0;  // overlong
  if (b == 0xED && b1 > 0x9F) return 0;  // surrogates
  if (b == 0xF0 && b1 < 0x90) return 0;  // overlong
  if (b == 0xF4 && b1 > 0x8F) return 0;  // > U+10FFFF
  return len;
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

}  // namespace

void OutputTail::Append(const char* data, size_t size) {
  buffer_.append(data, size);
  if (buffer_.size() > 2 * capacity_) {
    buffer_.erase(0, buffer_.size() - capacity_);
    dropped_ = true;
  }
}

std::string OutputTail::Text() const {
  size_t start = 0;
  bool dropped = dropped_;
  if (buffer_.size() > capacity_) {
    start = buffer_.size() - capacity_;
    dropped = true;
  }
  // Start at a character boundary: skip continuation bytes of a character cut by the window.
  while (dropped && start < buffer_.size() &&
         (static_cast<unsigned char>(buffer_[start]) & 0xC0) == 0x80) {
    ++start;
  }
  std::string out;
  out.reserve(buffer_.size() - start + 3);
  for (size_t i = start; i < buffer_.size();) {
    const char c = buffer_[i];
    const size_t len = Utf8SequenceLength(buffer_, i);
    if (len == 0) {
      out.push_back('?');
      ++i;
    } else if (len == 1 && static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
      out.push_back(c == '\r' ? ' ' : '?');
      ++i;
    } else if (len == 1 && c == 0x7F) {
      out.push_back('?');
      ++i;
    } else {
      out.append(buffer_, i, len);
      i += len;
    }
  }
  size_t b = 0;
  while (b < out.size() && IsSpace(out[b])) ++b;
  size_t e = out.size();
  while (e > b && IsSpace(out[e - 1])) --e;
  out = out.substr(b, e - b);
  if (dropped && !out.empty()) out = "..." + out;
  return out;
}

}  // namespace outboxd::handler_exec
