// Durations as operators write them: "250ms", "30s", "5m", "1h", "7d", and sums such as "1m30s" or
// "1h30m". Used by the configuration file and outboxctl flags, and for printing intervals in logs.
//
// Syntax: one or more <integer><unit> parts, units ms, s, m, h, d, from the largest unit to the
// smallest, each unit at most once ("1m30s", not "30s1m" or "1m1m"). "0" alone is accepted as zero.
// No sign, no fraction, no spaces: "-5s", "1.5s" and "5 s" are rejected, as is anything larger than
// the std::chrono::milliseconds range.
//
// THREADING: pure functions; safe from any thread.
#ifndef OUTBOXD_COMMON_DURATION_H_
#define OUTBOXD_COMMON_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outboxd {

// Parses `text` into *out. On error returns InvalidArgument whose message says what was expected
// and quotes `text`; *out is left unchanged.
Status ParseDuration(std::string_view text, std::chrono::milliseconds* out);

// The shortest text ParseDuration reads back as `duration`: "250ms", "30s", "5m", "1m30s", "7d",
// "0s". Negative values get a leading "-" (never produced by ParseDuration, but printable).
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace outboxd

#endif  // OUTBOXD_COMMON_DURATION_H_
