#include "config/json_object_reader.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/duration.h"
#include "obx/cpp/redact.hpp"

namespace outboxd {
namespace {

constexpr size_t kMaxQuoted = 60;

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

}  // namespace

JsonObjectReader::JsonObjectReader(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

Status JsonObjectReader::CheckKnownKeys(std::initializer_list<std::string_view> known) const {
  for (const auto& item : object_.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) {
      if (!list.empty()) list += ", ";
      list += k;
    }
    return Error(item.key(), "unknown key (known: " + list + ")");
  }
  return Status::OK();
}

const nlohmann::json* JsonObjectReader::Find(std::string_view key) const {
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

std::string JsonObjectReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Status JsonObjectReader::Error(std::string_view key, const std::string& what) const {
  return Status::InvalidArgument(PathOf(key) + ": " + what);
}

std::string JsonObjectReader::Describe(const nlohmann::json& value, Echo echo) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_string() && echo == Echo::kTypeOnly) return "a string";
  // A string is redacted before JSON escapes it (libpq's "\ " would read "\\ ", a quote \"),
  // then the whole text again, last.
  const nlohmann::json shown =
      value.is_string()
          ? nlohmann::json(obx::RedactConnectionString(value.get_ref<const std::string&>()))
          : value;
  std::string text = shown.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxQuoted) text = text.substr(0, kMaxQuoted) + "...";
  return obx::RedactConnectionString(text);
}

Status JsonObjectReader::ReadString(std::string_view key, Presence presence,
                                    std::string* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) {
    return presence == Presence::kRequired ? Error(key, "required") : Status::OK();
  }
  if (!value->is_string()) return Error(key, "expected a string, got " + Describe(*value));
  const std::string& text = value->get_ref<const std::string&>();
  if (text.empty()) {
    return Error(key, presence == Presence::kRequired
                          ? "must not be empty"
                          : "must not be empty (leave the key out for the default)");
  }
  *out = text;
  return Status::OK();
}

Status JsonObjectReader::ReadPath(std::string_view key, std::string* out) const {
  std::string text;
  OBX_RETURN_IF_ERROR(ReadString(key, Presence::kOptional, &text));
  if (obx::RedactConnectionString(text) != text) {
    return Error(key, "expected a folder path, got a string that holds a password (a connection "
                      "string?); it is not shown");
  }
  if (!text.empty()) *out = text;
  return Status::OK();
}

Status JsonObjectReader::ReadChoice(std::string_view key,
                                    const std::vector<std::string_view>& choices,
                                    std::string* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::OK();
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) {
      *out = text;
      return Status::OK();
    }
  }
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) list += i + 1 == choices.size() ? " or " : ", ";
    list += Quote(choices[i]);
  }
  return Error(key, "expected " + list + ", got " + Describe(*value, Echo::kStrings));
}

Status JsonObjectReader::ReadInt(std::string_view key, int min, int max, int* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::OK();
  bool in_range = false;
  if (value->is_number_unsigned()) {
    in_range = value->get<uint64_t>() <= static_cast<uint64_t>(max) &&
               value->get<uint64_t>() >= static_cast<uint64_t>(std::max(min, 0));
  } else if (value->is_number_integer()) {
    in_range = value->get<int64_t>() >= min && value->get<int64_t>() <= max;
  }
  if (!in_range) {
    return Error(key, "expected an integer from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", got " + Describe(*value));
  }
  *out = static_cast<int>(value->get<int64_t>());
  return Status::OK();
}

Status JsonObjectReader::ReadBool(std::string_view key, bool* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::OK();
  if (!value->is_boolean()) return Error(key, "expected true or false, got " + Describe(*value));
  *out = value->get<bool>();
  return Status::OK();
}

Status JsonObjectReader::ReadDuration(std::string_view key, std::chrono::milliseconds min,
                                      std::chrono::milliseconds* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::OK();
  if (!value->is_string()) {
    return Error(key, "expected a duration string such as \"30s\", got " + Describe(*value));
  }
  std::chrono::milliseconds parsed{0};
  Status status = ParseDuration(value->get_ref<const std::string&>(), &parsed);
  // The parser quotes what it could not read: a secret pasted under the wrong key stays hidden.
  if (!status.ok()) return Error(key, obx::RedactConnectionString(status.message()));
  if (parsed < min) {
    return Error(key, "must be at least " + FormatDuration(min) + ", got " +
                          Describe(*value, Echo::kStrings));
  }
  if (parsed > kMaxDuration) {
    return Error(key, "must be at most " + FormatDuration(kMaxDuration) + ", got " +
                          Describe(*value, Echo::kStrings));
  }
  *out = parsed;
  return Status::OK();
}

Status JsonObjectReader::ReadObjectText(std::string_view key, std::string* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::OK();
  if (!value->is_object()) return Error(key, "expected an object, got " + Describe(*value));
  *out = value->dump();
  return Status::OK();
}

Status JsonObjectReader::ReadStringList(std::string_view key, std::vector<std::string>* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::OK();
  if (!value->is_array()) {
    return Error(key, "expected an array of strings, got " + Describe(*value));
  }
  if (value->empty()) {
    return Error(key,
                 "must not be empty (leave the key out to use the topics the plugin declares)");
  }
  std::vector<std::string> items;
  std::set<std::string> seen;
  for (size_t i = 0; i < value->size(); ++i) {
    const nlohmann::json& item = (*value)[i];
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      return Error(item_key, "expected a non-empty string, got " + Describe(item, Echo::kStrings));
    }
    const std::string& text = item.get_ref<const std::string&>();
    if (!seen.insert(text).second) return Error(item_key, "duplicate " + Describe(item, Echo::kStrings));
    items.push_back(text);
  }
  *out = std::move(items);
  return Status::OK();
}

}  // namespace outboxd
