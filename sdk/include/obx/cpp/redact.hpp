// obx::RedactConnectionString / obx::RedactConnectionSecrets: the one redaction policy for
// connection strings, compiled into the host and into every plugin that handles connection
// strings (header-only, C++17, no host types; nothing here crosses the C ABI).
//
// Contract:
//   - Apply it LAST, to the whole text about to be logged, stored or printed (after libpq's or any
//     other library's message has been appended): libraries quote their input, sometimes only the
//     piece they could not parse.
//   - RedactConnectionString(text) hides what the text itself shows to be secret:
//       * URI user info: scheme://user:SECRET@host -> scheme://user:***@host. The password runs from
//         the first ':' after the user name to the LAST '@' on that line (of the string, for
//         one connection string), so unescaped '/', '@', ':', '%' and even "://" inside it are
//         covered; this may hide more than the password (a later URI's user on the same line),
//         never less;
//       * key=value pairs whose key is password, passwd, pwd, sslpassword or pgpassword (any case,
//         percent-encoded or not, spaces around '=' allowed), in libpq keyword strings and URI
//         queries: the value up to the next white space, including a 'quoted part' with \-escapes
//         and anything glued to it (password='x'secret -> password=***); a value that starts
//         with '"' (not libpq's syntax, but operators write it) runs to the next '"' first, one
//         that starts with a JSON-escaped \" to the next \"; the character after a run of
//         backslashes is escaped whatever the run's length (JSON writes libpq's "\ " as "\\ ").
//   - RedactConnectionSecrets(text, connection) does the above and also removes every secret that
//     `connection` holds wherever it occurs in `text`: raw, percent-decoded, as libpq unquotes it,
//     and the pieces libpq may cut it into at '/', '@', ':', '?', '&', ',', '=', '#', '[', ']', '%',
//     white space and quotes; for `password=two words` (libpq reads "two" and then a keyword
//     "words" that it quotes in its error) the following word too. Use it whenever the connection string is known: it is the only way to hide a
//     password that a library echoed without its key or URI around it (libpq's
//     `invalid percent-encoded token: "..."`). Pieces shorter than kMinSecretPiece characters are
//     not searched for (they cannot be told apart from ordinary text); the patterns still apply.
//   - Pure functions of their arguments; safe to call from any thread. Never throw anything but
//     std::bad_alloc.
#ifndef OBX_CPP_REDACT_HPP_
#define OBX_CPP_REDACT_HPP_

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace obx {

namespace redact_detail {

constexpr std::size_t kMinSecretPiece = 3;
constexpr const char* kMask = "***";
constexpr const char* kSecretKeys[] = {"sslpassword", "pgpassword", "password", "passwd", "pwd"};

inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
inline int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The character at s[i], percent-decoded when s[i..] is "%XX"; *width gets 1 or 3.
inline char DecodedAt(std::string_view s, std::size_t i, std::size_t* width) {
  if (s[i] == '%' && i + 2 < s.size()) {
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi >= 0 && lo >= 0) {
      *width = 3;
      return static_cast<char>(hi * 16 + lo);
    }
  }
  *width = 1;
  return s[i];
}

inline std::string PercentDecoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t width = 1;
    out += DecodedAt(s, i, &width);
    i += width;
  }
  return out;
}

// A [begin, end) range of text that holds a secret.
struct Span {
  std::size_t begin;
  std::size_t end;
};

// Length of the secret key (possibly percent-encoded) at s[i], or 0. The key must start at a word
// boundary and be followed by optional blanks and '='; *value_begin gets the first value character.
inline std::size_t SecretKeyAt(std::string_view s, std::size_t i, std::size_t* value_begin) {
  if (i > 0) {
    const char before = s[i - 1];
    if (IsAlpha(before) || IsDigit(before) || before == '_') return 0;
  }
  for (const char* key : kSecretKeys) {
    std::size_t j = i;
    const char* k = key;
    for (; *k != '\0' && j < s.size(); ++k) {
      std::size_t width = 1;
      if (Lower(DecodedAt(s, j, &width)) != *k) break;
      j += width;
    }
    if (*k != '\0') continue;
    std::size_t key_end = j;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (j >= s.size() || s[j] != '=') continue;
    ++j;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    *value_begin = j;
    return key_end - i;
  }
  return 0;
}

// End of a key=value value starting at s[i]: 'quoted' parts (with \-escapes) and unquoted runs
// (with \-escapes) up to white space. `stop_at_amp`: also stop at '&' (a URI query's separator,
// used only when the whole string is known to be one URI).
inline std::size_t ValueEnd(std::string_view s, std::size_t i, bool stop_at_amp) {
  // A value that starts with '"' (not libpq syntax, but operators write it) runs to the next '"';
  // one that starts with a JSON-escaped '\"' (the same value quoted in a JSON text, such as a
  // configuration error) runs to the next '\"'.
  if (!stop_at_amp && i < s.size() && s[i] == '"') {
    const std::size_t close = s.find('"', i + 1);
    i = close == std::string_view::npos ? s.size() : close + 1;
  } else if (!stop_at_amp && s.substr(i, 2) == "\\\"") {
    const std::size_t close = s.find("\\\"", i + 2);
    i = close == std::string_view::npos ? s.size() : close + 2;
  }
  while (i < s.size() && !IsSpace(s[i]) && !(stop_at_amp && s[i] == '&')) {
    if (s[i] == '\'' && !stop_at_amp) {
      for (++i; i < s.size() && s[i] != '\''; ++i) {
        if (s[i] == '\\') ++i;
      }
      if (i < s.size()) ++i;  // the closing quote
    } else if (s[i] == '\\' && !stop_at_amp) {
      // "\x" escapes x. A JSON text writes libpq's "\ " as "\\ ": the character after a run of
      // backslashes is taken as escaped whatever the run's length (this may hide a following
      // word, never less).
      while (i < s.size() && s[i] == '\\') ++i;
      if (i < s.size()) ++i;
    } else {
      ++i;
    }
  }
  return std::min(i, s.size());
}

// Password spans of URI user info in free text. For each "scheme://", the user name runs to the
// first ':' (password follows), '@' (no password) or one of "/?#[" and white space (no user info);
// the password runs to the last '@' of the line (of the string when `whole_string`).
inline void FindUriPasswords(std::string_view s, bool whole_string, std::vector<Span>* out) {
  for (std::size_t sep = s.find("://"); sep != std::string_view::npos;
       sep = s.find("://", sep + 3)) {
    std::size_t scheme = sep;
    while (scheme > 0 && (IsAlpha(s[scheme - 1]) || IsDigit(s[scheme - 1]) ||
                          s[scheme - 1] == '+' || s[scheme - 1] == '.' || s[scheme - 1] == '-')) {
      --scheme;
    }
    while (scheme < sep && !IsAlpha(s[scheme])) ++scheme;
    if (scheme == sep) continue;
    const std::size_t authority = sep + 3;
    std::size_t line_end = whole_string ? s.size() : s.find_first_of("\r\n", authority);
    if (line_end == std::string_view::npos) line_end = s.size();
    std::size_t colon = authority;
    while (colon < line_end && s[colon] != ':' && s[colon] != '@' && s[colon] != '/' &&
           s[colon] != '?' && s[colon] != '#' && s[colon] != '[' && !IsSpace(s[colon])) {
      ++colon;
    }
    if (colon >= line_end || s[colon] != ':') continue;
    // To the LAST '@' of the line: the password may hold '@' and "://" (u:@x://y@h), so any
    // earlier '@' or "://" may be inside it. In free text this may also hide a later URI's user.
    const std::size_t at = s.substr(0, line_end).rfind('@');
    if (at == std::string_view::npos || at <= colon) continue;
    out->push_back({colon + 1, at});
  }
}

// Value spans of secret key=value pairs anywhere in s. A key inside an earlier value is read too:
// a stray quote in free text (password=x'... password='two words') would otherwise end the
// earlier value where the later one's quoted part begins, and show the rest of it.
inline void FindKeyValueSecrets(std::string_view s, bool stop_at_amp, std::vector<Span>* out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    std::size_t value_begin = 0;
    if (SecretKeyAt(s, i, &value_begin) == 0) continue;
    const std::size_t value_end = ValueEnd(s, value_begin, stop_at_amp);
    if (value_end > value_begin) out->push_back({value_begin, value_end});
    i = value_begin - 1;
  }
}

inline std::vector<Span> SecretSpans(std::string_view s, bool whole_string) {
  std::vector<Span> spans;
  FindUriPasswords(s, whole_string, &spans);
  FindKeyValueSecrets(s, /*stop_at_amp=*/false, &spans);
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  return spans;
}

// s with each span replaced by the mask (overlapping spans merged).
inline std::string MaskSpans(std::string_view s, const std::vector<Span>& spans) {
  std::string out;
  std::size_t pos = 0;
  for (const Span& span : spans) {
    if (span.end <= pos) continue;
    const std::size_t begin = std::max(span.begin, pos);
    out.append(s.substr(pos, begin - pos));
    if (begin == span.begin) out += kMask;
    pos = span.end;
  }
  out.append(s.substr(std::min(pos, s.size())));
  return out;
}

// libpq's reading of a keyword value: quotes removed, \-escapes resolved.
inline std::string Unquoted(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out += v[++i];
    } else if (v[i] != '\'') {
      out += v[i];
    }
  }
  return out;
}

inline void AddSecret(std::string_view secret, std::vector<std::string>* out) {
  static constexpr std::string_view kCuts = "/@:?&,=#[]%'\" \t\r\n\\";
  const auto add = [out](std::string_view piece) {
    if (piece.size() >= kMinSecretPiece && piece.find_first_not_of('*') != std::string_view::npos) {
      out->emplace_back(piece);
    }
  };
  for (const std::string& form : {std::string(secret), PercentDecoded(secret), Unquoted(secret)}) {
    add(form);
    std::size_t begin = 0;
    while (begin <= form.size()) {
      std::size_t end = form.find_first_of(kCuts, begin);
      if (end == std::string::npos) end = form.size();
      if (end > begin && !(begin == 0 && end == form.size())) {
        const std::string_view piece(form.data() + begin, end - begin);
        add(piece);
        add(PercentDecoded(piece));
      }
      begin = end + 1;
    }
  }
}

// Every secret `connection` holds, in every form a library may echo it (see the contract above).
// `whole_string`: `connection` is one connection string (not a message that may quote several).
inline std::vector<std::string> SecretsOf(std::string_view connection, bool whole_string) {
  std::vector<std::string> secrets;
  for (const Span& span : SecretSpans(connection, whole_string)) {
    AddSecret(connection.substr(span.begin, span.end - span.begin), &secrets);
    // libpq reads `password=a b` as password "a" and a keyword "b" it then quotes in its error.
    std::size_t next = span.end;
    while (next < connection.size() && IsSpace(connection[next])) ++next;
    const std::size_t next_end = ValueEnd(connection, next, /*stop_at_amp=*/false);
    const std::string_view token = connection.substr(next, next_end - next);
    if (whole_string && next > span.end && !token.empty() &&
        token.find('=') == std::string_view::npos) {
      AddSecret(token, &secrets);
    }
  }
  // In one URI a query value ends at '&': the value alone is a secret too.
  std::vector<Span> query_values;
  if (whole_string && connection.find("://") != std::string_view::npos &&
      connection.find('?') != std::string_view::npos) {
    FindKeyValueSecrets(connection, /*stop_at_amp=*/true, &query_values);
  }
  for (const Span& span : query_values) {
    AddSecret(connection.substr(span.begin, span.end - span.begin), &secrets);
  }
  // Longest first, so that no shorter piece splits a longer secret before it is replaced whole.
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

inline void ReplaceEvery(std::string* text, const std::string& secret) {
  for (std::size_t at = text->find(secret); at != std::string::npos;
       at = text->find(secret, at + 3)) {
    text->replace(at, secret.size(), kMask);
  }
}

}  // namespace redact_detail

// `text` (a connection string, or any message that may quote one) with the passwords it shows
// replaced by "***". See the contract at the top of this header.
inline std::string RedactConnectionString(std::string_view text) {
  namespace d = redact_detail;
  std::string out = d::MaskSpans(text, d::SecretSpans(text, /*whole_string=*/false));
  for (const std::string& secret : d::SecretsOf(text, false)) d::ReplaceEvery(&out, secret);
  return out;
}

// `text` with every secret of `connection` removed wherever it occurs, then RedactConnectionString.
inline std::string RedactConnectionSecrets(std::string_view text, std::string_view connection) {
  namespace d = redact_detail;
  std::string out(text);
  for (const std::string& secret : d::SecretsOf(connection, true)) d::ReplaceEvery(&out, secret);
  return RedactConnectionString(out);
}

}  // namespace obx

#endif  // OBX_CPP_REDACT_HPP_
