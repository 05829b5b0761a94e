// Failure text stored in last_error: passwords of any connection string it quotes redacted
// (obx::RedactConnectionString), bounded to 2048 characters, never empty. Text longer than the
// bound keeps its head and ends with "... [truncated]" (cut on a UTF-8 character boundary).
#ifndef OUTBOXD_DISPATCH_FAILURE_TEXT_H_
#define OUTBOXD_DISPATCH_FAILURE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace outboxd {

inline constexpr std::size_t kMaxFailureTextLength = 2048;

// Trims surrounding white space; empty -> "Failure details unavailable."; bounds the length.
std::string BoundFailureText(std::string_view text);

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_FAILURE_TEXT_H_
