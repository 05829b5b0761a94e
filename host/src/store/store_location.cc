#include "store/store_location.h"

#include <regex>

namespace outboxd {

std::string RedactConnectionString(const std::string& connection_string) {
  // URI user info: scheme://user:secret@host -> scheme://user:***@host
  static const std::regex kUserInfo(R"(^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*):[^@/?#]*@)");
  // key=value forms, in a URI query or a libpq keyword string: password=secret -> password=***
  static const std::regex kKeyValue(R"(((?:^|[?&;\s])(?:password|pwd)\s*=\s*)('[^']*'|[^&;\s]*))",
                                    std::regex::icase);
  std::string out = std::regex_replace(connection_string, kUserInfo, "$1:***@");
  return std::regex_replace(out, kKeyValue, "$1***");
}

}  // namespace outboxd
