// Checks for text that comes out of plugin memory (names, identifiers, connection strings) before
// the host stores it or writes it to a log. Defined once in the SDK's header-only
// obx/cpp/validate.hpp, which obx::testing::FakeHost compiles in too.
//
// THREADING: pure functions, thread-safe.
#ifndef OUTBOXD_PLUGIN_PLUGIN_TEXT_H_
#define OUTBOXD_PLUGIN_PLUGIN_TEXT_H_

#include "obx/cpp/validate.hpp"

namespace outboxd {

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
using ::obx::validate::IsValidUtf8;

// True when `text` has a C0 control character or DEL (tab, newline and NUL included).
using ::obx::validate::HasControlCharacter;

// A one-line, printable copy for logs: control characters, backslashes and (in text that is not
// valid UTF-8) every non-ASCII byte become \xNN; text longer than `max_bytes` is cut with "...".
using ::obx::validate::EscapeForLog;

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_PLUGIN_TEXT_H_
