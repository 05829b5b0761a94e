// ShowsSecret: the leak property the redaction fuzz targets share. A secret counts as shown only
// when the text it comes out of holds it for a reason the secret explains:
//   - not when the mask itself forms it with the text beside it ("* Es" in "*** Es": the mask is
//     compared as a character no secret holds), and
//   - not when the same input with the secret's letters and digits changed (Neutral) still shows
//     it: then it is ordinary text of the message ("SQL con" in "PostgreSQL connector").
// Both were false reports of random runs (December 2026, reported as "backslash-escaped keyword
// values"; the inputs are in corpus/fuzz_redact and corpus/fuzz_connection_string now).
//
// THREADING: pure functions. ERRORS: none.
#ifndef OUTBOXD_TESTS_FUZZ_LEAK_CHECK_H_
#define OUTBOXD_TESTS_FUZZ_LEAK_CHECK_H_

#include <functional>
#include <string>

namespace obx_fuzz {

// `secret` with every ASCII letter and digit replaced by the next one (z -> a, 9 -> 0); every
// other byte (separators, quotes, backslashes) kept, so the input keeps its shape.
inline std::string Neutral(const std::string& secret) {
  std::string out = secret;
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = c == 'z' ? 'a' : static_cast<char>(c + 1);
    else if (c >= 'A' && c <= 'Z') c = c == 'Z' ? 'A' : static_cast<char>(c + 1);
    else if (c >= '0' && c <= '9') c = c == '9' ? '0' : static_cast<char>(c + 1);
  }
  return out;
}

// `shown` with each "***" replaced by a NUL (the fuzz targets skip secrets holding a NUL).
inline std::string MaskAsNul(const std::string& shown) {
  std::string out;
  for (std::size_t i = 0; i < shown.size();) {
    if (shown.compare(i, 3, "***") == 0) {
      out += '\0';
      i += 3;
    } else {
      out += shown[i++];
    }
  }
  return out;
}

// True when `secret` is shown: it occurs in show(secret) apart from the mask, and does not occur
// in show(Neutral(secret)) (where it would be ordinary text). REQUIRES: no NUL in `secret`.
inline bool ShowsSecret(const std::string& secret,
                        const std::function<std::string(const std::string&)>& show) {
  if (MaskAsNul(show(secret)).find(secret) == std::string::npos) return false;
  const std::string neutral = Neutral(secret);
  return neutral == secret || show(neutral).find(secret) == std::string::npos;
}

}  // namespace obx_fuzz

#endif  // OUTBOXD_TESTS_FUZZ_LEAK_CHECK_H_
