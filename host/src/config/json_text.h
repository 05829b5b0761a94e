// ParseJsonText: strict JSON parsing for files people edit by hand. Beyond nlohmann's parser it
// reports where an error is as "line L, column C" (nlohmann gives a byte offset), leaves the text
// read at the error out of the message (it may be part of a password), and rejects duplicate object
// keys, which nlohmann would silently resolve by keeping the last one.
//
// THREADING: pure function; safe from any thread.
#ifndef OUTBOXD_CONFIG_JSON_TEXT_H_
#define OUTBOXD_CONFIG_JSON_TEXT_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace outboxd {

// Parses `text` into *out. Errors are InvalidArgument:
//   "malformed JSON at line 3, column 8: syntax error while parsing value - unexpected ','; ..."
//   "discovery.plugin: duplicate key"
Status ParseJsonText(std::string_view text, nlohmann::json* out);

// 1-based line and column of the byte at 0-based `offset` in `text` (offset may be text.size(),
// meaning "just past the end").
struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};
TextPosition PositionOfOffset(std::string_view text, size_t offset);

}  // namespace outboxd

#endif  // OUTBOXD_CONFIG_JSON_TEXT_H_
