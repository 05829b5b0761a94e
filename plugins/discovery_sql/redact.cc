// RedactConnectionString: two regular expressions, URI user info first, then key=value pairs.
#include "redact.h"

#include <regex>

namespace outboxd::discovery_sql {

std::string RedactConnectionString(const std::string& connection_string) {
  // scheme://user:secret@host -> scheme://user:***@host (the password ends at the last '@' before
  // the host part, so a '@' inside the password is covered too).
  static const std::regex kUserInfo(R"(^([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*):[^/?#]*@)");
  // password=secret / pwd=secret, in a URI query or a keyword string; quoted values included.
  static const std::regex kKeyValue(R"(((?:^|[?&;\s])(?:password|pwd|passwd)\s*=\s*)('(?:[^'\\]|\\.)*'|[^&;\s]*))",
                                    std::regex::icase);
  std::string out = std::regex_replace(connection_string, kUserInfo, "$1:***@");
  return std::regex_replace(out, kKeyValue, "$1***");
}

}  // namespace outboxd::discovery_sql
