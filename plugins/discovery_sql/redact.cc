// RedactConnectionString: a small scanner (no std::regex): URI user info, then key=value pairs.
#include "redact.h"

#include <cctype>

namespace outboxd::discovery_sql {
namespace {

bool IsSeparator(char c) {
  return c == '?' || c == '&' || c == ';' || std::isspace(static_cast<unsigned char>(c));
}

// True when s[i..] starts with `word`, ignoring case.
bool MatchesAt(const std::string& s, size_t i, const char* word) {
  for (size_t k = 0; word[k] != '\0'; ++k) {
    if (i + k >= s.size() ||
        std::tolower(static_cast<unsigned char>(s[i + k])) != static_cast<unsigned char>(word[k])) {
      return false;
    }
  }
  return true;
}

// scheme://user:secret@host/... -> scheme://user:***@host/... (the password runs to the last '@' of
// the authority, so an unescaped '@' inside it is covered too).
std::string RedactUserInfo(const std::string& s) {
  const size_t scheme_end = s.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) return s;
  for (size_t i = 0; i < scheme_end; ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '.' && c != '-') return s;
  }
  const size_t authority = scheme_end + 3;
  size_t authority_end = s.find_first_of("/?#", authority);
  if (authority_end == std::string::npos) authority_end = s.size();
  const size_t at = s.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at == std::string::npos || at < authority) return s;
  const size_t colon = s.find(':', authority);
  if (colon == std::string::npos || colon > at) return s;
  return s.substr(0, colon + 1) + "***" + s.substr(at);
}

// password=secret, pwd=secret, passwd=secret (also quoted 'a b'), in a URI query or keyword string.
std::string RedactKeyValues(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const bool at_boundary = i == 0 || IsSeparator(s[i - 1]);
    size_t key_len = 0;
    if (at_boundary) {
      for (const char* key : {"password", "passwd", "pwd"}) {
        if (MatchesAt(s, i, key)) {
          key_len = std::char_traits<char>::length(key);
          break;
        }
      }
    }
    size_t j = i + key_len;
    while (key_len > 0 && j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (key_len == 0 || j >= s.size() || s[j] != '=') {
      out += s[i++];
      continue;
    }
    ++j;  // '='
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    out.append(s, i, j - i);
    out += "***";
    if (j < s.size() && s[j] == '\'') {
      for (++j; j < s.size() && s[j] != '\''; ++j) {
        if (s[j] == '\\') ++j;
      }
      if (j < s.size()) ++j;  // closing quote
    } else {
      while (j < s.size() && !IsSeparator(s[j])) ++j;
    }
    i = j;
  }
  return out;
}

}  // namespace

std::string RedactConnectionString(const std::string& connection_string) {
  return RedactKeyValues(RedactUserInfo(connection_string));
}

}  // namespace outboxd::discovery_sql
