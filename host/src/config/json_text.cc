#include "config/json_text.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace outboxd {
namespace {

using Event = nlohmann::json::parse_event_t;

// Follows the parser's callbacks to know the key path of the current value, and remembers the
// first key that appears twice in one object.
class DuplicateKeyFinder {
 public:
  bool OnEvent(Event event, const nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        CountArrayElement();
        frames_.push_back(Frame{event == Event::array_start, {}, {}, -1});
        break;
      case Event::object_end:
      case Event::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case Event::key:
        OnKey(parsed.get<std::string>());
        break;
      case Event::value:
        CountArrayElement();
        break;
    }
    return true;
  }

  const std::optional<std::string>& duplicate_path() const { return duplicate_path_; }

 private:
  struct Frame {
    bool is_array;
    std::set<std::string> keys;
    std::string key;  // objects: the key whose value is being read
    int index;        // arrays: the element being read
  };

  void CountArrayElement() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }

  void OnKey(const std::string& key) {
    Frame& top = frames_.back();
    top.key = key;
    if (top.keys.insert(key).second || duplicate_path_) return;
    duplicate_path_ = CurrentPath();
  }

  std::string CurrentPath() const {
    std::string path;
    for (const Frame& frame : frames_) {
      if (frame.is_array) {
        path += "[" + std::to_string(frame.index) + "]";
      } else {
        if (!path.empty()) path += ".";
        path += frame.key;
      }
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::optional<std::string> duplicate_path_;
};

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 2: <detail>;
// last read: '<text>'; <expectation>". Keep <detail> and <expectation>, drop the position (we
// compute our own from the byte offset) and the text read (it may be a secret).
std::string ParseErrorDetail(const std::string& what) {
  std::string detail = what;
  size_t at = detail.find("parse error");
  if (at != std::string::npos) {
    size_t colon = detail.find(": ", at);
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
  }
  size_t last_read = detail.find("; last read: '");
  if (last_read != std::string::npos) {
    size_t end = detail.find("'; ", last_read + 14);
    detail.erase(last_read, end == std::string::npos ? std::string::npos : end + 1 - last_read);
  }
  return detail;
}

}  // namespace

TextPosition PositionOfOffset(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  TextPosition position;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++position.line;
      line_start = i + 1;
    }
  }
  position.column = offset - line_start + 1;
  return position;
}

Status ParseJsonText(std::string_view text, nlohmann::json* out) {
  DuplicateKeyFinder finder;
  nlohmann::json::parser_callback_t callback = [&finder](int /*depth*/, Event event,
                                                         nlohmann::json& parsed) {
    return finder.OnEvent(event, parsed);
  };
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is the 1-based index of the last character read, i.e. the one that broke the parse.
    TextPosition where = PositionOfOffset(text, e.byte > 0 ? e.byte - 1 : 0);
    return Status::InvalidArgument("malformed JSON at line " + std::to_string(where.line) +
                                   ", column " + std::to_string(where.column) + ": " +
                                   ParseErrorDetail(e.what()));
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("malformed JSON: ") + e.what());
  }
  if (finder.duplicate_path()) {
    return Status::InvalidArgument(*finder.duplicate_path() + ": duplicate key");
  }
  *out = std::move(parsed);
  return Status::OK();
}

}  // namespace outboxd
