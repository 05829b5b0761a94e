#include "common/duration.h"

#include <cstdint>
#include <limits>

namespace outboxd {
namespace {

struct Unit {
  std::string_view name;
  int64_t millis;
};

// Largest first: parts must appear in this order, and FormatDuration emits them in it.
constexpr Unit kUnits[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1},
};
constexpr int kUnitCount = sizeof(kUnits) / sizeof(kUnits[0]);

constexpr char kExpected[] =
    "expected a duration such as \"250ms\", \"30s\", \"5m\", \"1h30m\" or \"7d\" "
    "(units ms, s, m, h, d; whole numbers only)";

Status Invalid(std::string_view text, std::string_view why) {
  std::string msg = kExpected;
  msg += ", got \"";
  msg += text;
  msg += "\"";
  if (!why.empty()) {
    msg += ": ";
    msg += why;
  }
  return Status::InvalidArgument(std::move(msg));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int FindUnit(std::string_view name) {
  for (int i = 0; i < kUnitCount; ++i) {
    if (kUnits[i].name == name) return i;
  }
  return -1;
}

}  // namespace

Status ParseDuration(std::string_view text, std::chrono::milliseconds* out) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (text.empty()) return Invalid(text, "empty");
  if (text == "0") {
    *out = std::chrono::milliseconds(0);
    return Status::OK();
  }
  if (text[0] == '-') return Invalid(text, "must not be negative");

  int64_t total = 0;
  int previous_unit = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!IsDigit(text[pos])) return Invalid(text, "a number must come before each unit");
    int64_t value = 0;
    for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
      int digit = text[pos] - '0';
      if (value > (kMax - digit) / 10) return Invalid(text, "too large");
      value = value * 10 + digit;
    }
    size_t unit_start = pos;
    while (pos < text.size() && IsLetter(text[pos])) ++pos;
    std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    if (unit_name.empty()) {
      return Invalid(text, pos < text.size() ? "unexpected character" : "missing unit");
    }
    int unit = FindUnit(unit_name);
    if (unit < 0) return Invalid(text, "unknown unit \"" + std::string(unit_name) + "\"");
    if (unit <= previous_unit) {
      return Invalid(text, "units must go from largest to smallest, each at most once");
    }
    previous_unit = unit;
    if (value > (kMax - total) / kUnits[unit].millis) return Invalid(text, "too large");
    total += value * kUnits[unit].millis;
  }
  *out = std::chrono::milliseconds(total);
  return Status::OK();
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  int64_t remaining = duration.count();
  if (remaining == 0) return "0s";
  std::string out;
  if (remaining < 0) {
    if (remaining == std::numeric_limits<int64_t>::min()) return std::to_string(remaining) + "ms";
    out = "-";
    remaining = -remaining;
  }
  for (const Unit& unit : kUnits) {
    int64_t count = remaining / unit.millis;
    if (count == 0) continue;
    out += std::to_string(count);
    out += unit.name;
    remaining -= count * unit.millis;
  }
  return out;
}

}  // namespace outboxd
