// obx::validate: the host's rules for what a plugin hands it: the descriptor its entry point
// returns and each database record it emits. Header-only (C++17, no host types), compiled into the
// host (plugin/descriptor_check, plugin/discovery_instance) and into obx::testing::FakeHost, so a
// plugin's unit tests reject exactly what outboxd rejects.
//
// Contract:
//   - DescriptorProblem / RecordProblem return "" when the input passes, otherwise a one-line
//     reason for a log (plugin text in it is escaped with EscapeForLog). Rules, in order:
//       descriptor: magic; abi_major == OBX_ABI_MAJOR; abi_minor <= OBX_ABI_MINOR; struct_size
//         covers ABI 1.0; name of 1-kMaxPluginNameLength characters of [a-z0-9_.-]; version
//         non-empty, at most kMaxPluginVersionLength bytes of UTF-8 without control characters;
//         kinds non-zero with only known bits; a vtable for every declared kind, covering ABI 1.0,
//         with no null function; topics (when not NULL) only for handlers: a non-empty list of at
//         most kMaxDeclaredTopics distinct, non-empty names of at most kMaxTopicLength bytes of
//         UTF-8 without control characters. Only ABI 1.0 fields are read.
//       record: struct_size covers ABI 1.0; identifier and connection_string non-empty;
//         schema_name and table_name optional, at most kMaxSqlNameBytes; every string valid UTF-8
//         without control characters. NUL is a control character: "acme\0evil" is rejected, never
//         cut to "acme" (obx_str carries its size, so the NUL is seen).
//       listing: an identifier emitted twice in one discover call is rejected the second time
//         (kDuplicateIdentifier); the caller keeps the set of identifiers seen.
//   - Pure functions; thread-safe. They read plugin memory only within the sizes the ABI gives
//     (C strings of the descriptor are read at most max length + 1 bytes).
#ifndef OBX_CPP_VALIDATE_HPP_
#define OBX_CPP_VALIDATE_HPP_

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "obx/discovery.h"
#include "obx/plugin.h"

namespace obx::validate {

inline constexpr std::size_t kMaxPluginNameLength = 64;
inline constexpr std::size_t kMaxPluginVersionLength = 64;
inline constexpr std::size_t kMaxDeclaredTopics = 1024;
inline constexpr std::size_t kMaxTopicLength = 255;
inline constexpr std::size_t kMaxSqlNameBytes = 63;  // PostgreSQL's NAMEDATALEN - 1
inline constexpr const char* kDuplicateIdentifier = "duplicate identifier in this listing";

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
inline bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
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
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<uint8_t>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// True when `text` has a C0 control character or DEL (tab, newline and NUL included).
inline bool HasControlCharacter(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// A one-line, printable copy for logs: control characters, backslashes and (in text that is not
// valid UTF-8) every non-ASCII byte become \xNN; text longer than `max_bytes` is cut with "...".
inline std::string EscapeForLog(std::string_view text, std::size_t max_bytes = 200) {
  const bool utf8 = IsValidUtf8(text);
  const bool cut = text.size() > max_bytes;
  if (cut) {
    std::size_t end = max_bytes;
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

// [a-z0-9_.-]{1,kMaxPluginNameLength}
inline bool IsValidPluginName(std::string_view name) {
  if (name.empty() || name.size() > kMaxPluginNameLength) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace detail {

inline std::string Hex(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIX32, value);
  return buf;
}

// A NUL-terminated string from plugin memory, read no further than max_length + 1 bytes.
inline std::string_view BoundedString(const char* s, std::size_t max_length) {
  return s == nullptr ? std::string_view() : std::string_view(s, strnlen(s, max_length + 1));
}

inline std::string_view View(obx_str s) {
  return (s.data == nullptr || s.size == 0) ? std::string_view() : std::string_view(s.data, s.size);
}

template <class Vtable>
std::string VtableSizeProblem(const Vtable* vtable, const std::string& kind) {
  if (vtable == nullptr) return "declares kind " + kind + " but has no " + kind + " vtable";
  if (vtable->struct_size < sizeof(Vtable)) {
    return kind + " vtable struct_size " + std::to_string(vtable->struct_size) +
           " is smaller than its ABI 1.0 size " + std::to_string(sizeof(Vtable));
  }
  return std::string();
}

inline std::string HandlerVtableProblem(const obx_handler_vtable* vtable) {
  std::string problem = VtableSizeProblem(vtable, "handler");
  if (!problem.empty()) return problem;
  if (vtable->create == nullptr) return "handler vtable has a null create";
  if (vtable->destroy == nullptr) return "handler vtable has a null destroy";
  if (vtable->handle == nullptr) return "handler vtable has a null handle";
  return std::string();
}

inline std::string DiscoveryVtableProblem(const obx_discovery_vtable* vtable) {
  std::string problem = VtableSizeProblem(vtable, "discovery");
  if (!problem.empty()) return problem;
  if (vtable->create == nullptr) return "discovery vtable has a null create";
  if (vtable->destroy == nullptr) return "discovery vtable has a null destroy";
  if (vtable->discover == nullptr) return "discovery vtable has a null discover";
  return std::string();
}

inline std::string TopicsProblem(const obx_plugin_descriptor& d) {
  if (d.topics == nullptr) return std::string();
  if ((d.kinds & OBX_KIND_HANDLER) == 0) return "declares topics but is not a handler";
  std::set<std::string_view> seen;
  std::size_t i = 0;
  for (; d.topics[i] != nullptr; ++i) {
    if (i == kMaxDeclaredTopics) {
      return "declares more than " + std::to_string(kMaxDeclaredTopics) +
             " topics (is the list NULL-terminated?)";
    }
    const std::string_view topic = BoundedString(d.topics[i], kMaxTopicLength);
    if (topic.empty()) return "declares an empty topic";
    if (topic.size() > kMaxTopicLength) {
      return "declares a topic longer than " + std::to_string(kMaxTopicLength) + " characters";
    }
    if (HasControlCharacter(topic) || !IsValidUtf8(topic)) {
      return "declares topic '" + EscapeForLog(topic) +
             "' with control characters or invalid UTF-8";
    }
    if (!seen.insert(topic).second) return "declares topic '" + std::string(topic) + "' twice";
  }
  if (i == 0) return "declares an empty topic list (use NULL for topics from configuration)";
  return std::string();
}

// "" when `value` is acceptable for record field `field`, else why not.
inline std::string FieldProblem(const char* field, std::string_view value, bool required,
                                std::size_t max_bytes) {
  if (value.empty()) return required ? std::string(field) + " is empty" : std::string();
  if (!IsValidUtf8(value)) return std::string(field) + " is not valid UTF-8";
  if (HasControlCharacter(value)) return std::string(field) + " contains control characters";
  if (value.size() > max_bytes) {
    return std::string(field) + " is longer than " + std::to_string(max_bytes) + " bytes";
  }
  return std::string();
}

}  // namespace detail

// "" when the host accepts `d`, else the reason (see the rules at the top).
inline std::string DescriptorProblem(const obx_plugin_descriptor& d) {
  using detail::Hex;
  // magic, abi_major and abi_minor sit at fixed offsets in every major: read them first.
  if (d.magic != OBX_PLUGIN_MAGIC) {
    return "bad descriptor magic " + Hex(d.magic) + ", expected " + Hex(OBX_PLUGIN_MAGIC);
  }
  if (d.abi_major != OBX_ABI_MAJOR) {
    return "ABI major " + std::to_string(d.abi_major) + ", host speaks " +
           std::to_string(OBX_ABI_MAJOR);
  }
  if (d.abi_minor > OBX_ABI_MINOR) {
    return "needs ABI " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) +
           ", host speaks " + std::to_string(OBX_ABI_MAJOR) + "." + std::to_string(OBX_ABI_MINOR);
  }
  if (d.struct_size < sizeof(obx_plugin_descriptor)) {
    return "descriptor struct_size " + std::to_string(d.struct_size) +
           " is smaller than its ABI 1.0 size " + std::to_string(sizeof(obx_plugin_descriptor));
  }
  const std::string_view name = detail::BoundedString(d.name, kMaxPluginNameLength);
  if (!IsValidPluginName(name)) {
    return "invalid plugin name '" + EscapeForLog(name) + "' (must be 1-" +
           std::to_string(kMaxPluginNameLength) + " characters of [a-z0-9_.-])";
  }
  const std::string_view version = detail::BoundedString(d.version, kMaxPluginVersionLength);
  if (version.empty() || version.size() > kMaxPluginVersionLength ||
      HasControlCharacter(version) || !IsValidUtf8(version)) {
    return "plugin '" + std::string(name) + "' has an empty or invalid version '" +
           EscapeForLog(version) + "'";
  }
  constexpr uint32_t kKnownKinds = OBX_KIND_HANDLER | OBX_KIND_DISCOVERY;
  if (d.kinds == 0) return "declares no kind (kinds is 0)";
  if ((d.kinds & ~kKnownKinds) != 0) {
    return "declares unknown kind bits " + Hex(d.kinds & ~kKnownKinds);
  }
  if ((d.kinds & OBX_KIND_HANDLER) != 0) {
    std::string problem = detail::HandlerVtableProblem(d.handler);
    if (!problem.empty()) return problem;
  }
  if ((d.kinds & OBX_KIND_DISCOVERY) != 0) {
    std::string problem = detail::DiscoveryVtableProblem(d.discovery);
    if (!problem.empty()) return problem;
  }
  return detail::TopicsProblem(d);
}

// "" when the host accepts `record` (duplicates aside: see kDuplicateIdentifier), else the reason.
inline std::string RecordProblem(const obx_database_record& record) {
  if (record.struct_size < sizeof(obx_database_record)) {
    return "struct_size " + std::to_string(record.struct_size) +
           " is smaller than its ABI 1.0 size " + std::to_string(sizeof(obx_database_record));
  }
  const std::size_t kUnbounded = static_cast<std::size_t>(-1);
  std::string problem =
      detail::FieldProblem("identifier", detail::View(record.identifier), true, kUnbounded);
  if (problem.empty()) {
    problem = detail::FieldProblem("connection_string", detail::View(record.connection_string),
                                   true, kUnbounded);
  }
  if (problem.empty()) {
    problem = detail::FieldProblem("schema_name", detail::View(record.schema_name), false,
                                   kMaxSqlNameBytes);
  }
  if (problem.empty()) {
    problem = detail::FieldProblem("table_name", detail::View(record.table_name), false,
                                   kMaxSqlNameBytes);
  }
  return problem;
}

}  // namespace obx::validate

#endif  // OBX_CPP_VALIDATE_HPP_
