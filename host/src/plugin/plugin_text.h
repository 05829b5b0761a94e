// Checks for text that comes out of plugin memory (names, identifiers, connection strings) before
// the host stores it or writes it to a log.
//
// THREADING: pure functions, thread-safe.
#ifndef OUTBOXD_PLUGIN_PLUGIN_TEXT_H_
#define OUTBOXD_PLUGIN_PLUGIN_TEXT_H_

#include <string>
#include <string_view>

namespace outboxd {

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view text);

// True when `text` has a C0 control character or DEL (tab, newline and NUL included).
bool HasControlCharacter(std::string_view text);

// A one-line, printable copy for logs: control characters, backslashes and (in text that is not
// valid UTF-8) every non-ASCII byte become \xNN; text longer than `max_bytes` is cut with "...".
std::string EscapeForLog(std::string_view text, size_t max_bytes = 200);

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_PLUGIN_TEXT_H_
