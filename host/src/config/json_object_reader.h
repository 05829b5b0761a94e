// JsonObjectReader: typed, validated reads of the members of one JSON object, for configuration.
// Each reader knows the object's key path ("", "dispatch", "handlers[1]") and the keys it accepts;
// every error message starts with the full path of the offending key, e.g.
// `dispatch.batch_size: expected an integer from 1 to 10000, got "abc"`.
//
// Reads of a missing key leave *out untouched (the caller's default) and succeed, unless the read
// is Required. A key present with JSON null is a type error, not "missing". Values quoted back in
// messages are scalars only (objects and arrays are named by type), cut to a short length.
//
// OWNERSHIP: the reader refers to `object`, which must outlive it.
// THREADING: thread-compatible.
#ifndef OUTBOXD_CONFIG_JSON_OBJECT_READER_H_
#define OUTBOXD_CONFIG_JSON_OBJECT_READER_H_

#include <chrono>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outboxd {

class JsonObjectReader {
 public:
  enum class Presence { kOptional, kRequired };

  // REQUIRES: object.is_object().
  JsonObjectReader(const nlohmann::json& object, std::string path);

  // InvalidArgument naming the first member whose key is not in `known`, listing the known keys.
  Status CheckKnownKeys(std::initializer_list<std::string_view> known) const;

  // Null when absent.
  const nlohmann::json* Find(std::string_view key) const;

  // "<path>.<key>" ("<key>" at the top level).
  std::string PathOf(std::string_view key) const;

  // A non-empty string.
  Status ReadString(std::string_view key, Presence presence, std::string* out) const;

  // An optional non-empty string naming a file or folder. One that holds a password (a connection
  // string pasted under the wrong key) is refused without being echoed: a path is shown in many
  // messages after normalisation ("postgresql://u:pw@h" becomes ".../postgresql:/u:pw@h"), a
  // shape no redaction pattern can tell from a path.
  Status ReadPath(std::string_view key, std::string* out) const;

  // A string equal to one of `choices`.
  Status ReadChoice(std::string_view key, const std::vector<std::string_view>& choices,
                    std::string* out) const;

  // A JSON integer (not a float, not a string) in [min, max].
  Status ReadInt(std::string_view key, int min, int max, int* out) const;

  Status ReadBool(std::string_view key, bool* out) const;

  // A duration string (see common/duration.h) of at least `min` and at most kMaxDuration.
  Status ReadDuration(std::string_view key, std::chrono::milliseconds min,
                      std::chrono::milliseconds* out) const;

  // Any JSON object, stored as its compact JSON text.
  Status ReadObjectText(std::string_view key, std::string* out) const;

  // An array of distinct non-empty strings. An empty array is rejected (leave the key out instead).
  Status ReadStringList(std::string_view key, std::vector<std::string>* out) const;

  // The longest duration any key accepts: 3650d. Every duration is added to a clock reading
  // somewhere (lease deadlines, retry times, shutdown), and this keeps each sum far inside the
  // range of std::chrono::steady_clock and of the databases' timestamps.
  static constexpr std::chrono::milliseconds kMaxDuration{3650LL * 24 * 60 * 60 * 1000};

  // Builds the error for `key`: "<path>.<key>: <what>".
  Status Error(std::string_view key, const std::string& what) const;

  // `value` as quoted in messages: numbers, booleans and null as JSON; containers as "an object" /
  // "an array"; a string as "a string" only (a wrong-typed string may be a password or a whole
  // connection string pasted under the wrong key), unless `echo` is kStrings: for keys whose
  // strings have a known, non-secret shape (a duration, a choice, a topic), shortened and redacted.
  enum class Echo { kTypeOnly, kStrings };
  static std::string Describe(const nlohmann::json& value, Echo echo = Echo::kTypeOnly);

 private:
  const nlohmann::json& object_;
  std::string path_;
};

}  // namespace outboxd

#endif  // OUTBOXD_CONFIG_JSON_OBJECT_READER_H_
