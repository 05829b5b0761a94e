// Fuzz target: the redaction policy (obx/cpp/redact.hpp). Property: a secret written in any shape
// a connection string allows never survives RedactConnectionString (free text around it
// included), and a secret a library echoes bare never survives RedactConnectionSecrets.
//
// Input (FuzzedDataProvider): a shape, a prefix and a suffix of free text, then the secret.
//   0  URI user info      <prefix>postgresql://u:<secret>@h/db<suffix>
//   1  keyword, unquoted  <prefix> password=<secret> <suffix>       (secret without white space)
//   2  keyword, quoted    <prefix> password='<secret, \-escaped>' <suffix>
//   3  URI query          <prefix>postgresql://u@h/db?sslmode=disable&password=<secret><suffix>
//   4  echoed bare        RedactConnectionSecrets(<prefix>"<secret>"<suffix>,
//                                                  "postgresql://u:<secret>@h/db")
// A secret that also occurs in the text without it (so it is ordinary text there), shorter than
// 4 bytes, or holding a line break in a shape that ends at the line, is not checked; what counts
// as shown is leak_check.h's ShowsSecret.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "leak_check.h"
#include "obx/cpp/redact.hpp"

namespace {

bool Has(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

bool HasAny(const std::string& text, const char* chars) {
  return text.find_first_of(chars) != std::string::npos;
}

std::string Printable(const std::string& s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

[[noreturn]] void Leak(int shape, const std::string& in, const std::string& out,
                       const std::string& secret) {
  std::fprintf(stderr,
               "secret survived redaction (shape %d)\n  secret: %s\n  input:  %s\n  output: %s\n",
               shape, Printable(secret).c_str(), Printable(in).c_str(), Printable(out).c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const int shape = fdp.ConsumeIntegralInRange<int>(0, 4);
  const std::string prefix = fdp.ConsumeRandomLengthString(48);
  const std::string suffix = fdp.ConsumeRandomLengthString(48);
  const std::string secret = fdp.ConsumeRemainingBytesAsString();
  if (secret.size() < 4 || Has(secret, std::string(1, '\0'))) return 0;

  std::string before, after;
  // The secret as the shape writes it (shape 2 escapes quotes and backslashes).
  const auto write = [shape](const std::string& sec) {
    if (shape != 2) return sec;
    std::string out;
    for (const char c : sec) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  switch (shape) {
    case 0:
      if (HasAny(secret, "\r\n")) return 0;  // a URI password cannot hold a line break
      before = prefix + "postgresql://u:";
      after = "@h/db" + suffix;
      break;
    case 1:
      if (HasAny(secret, " \t\r\n\f\v'\\")) return 0;  // libpq ends an unquoted value there
      before = prefix + " password=";
      after = " " + suffix;
      break;
    case 2:
      before = prefix + " password='";
      after = "' " + suffix;
      break;
    case 3:
      if (HasAny(secret, " \t\r\n\f\v&#")) return 0;  // ends a query value
      before = prefix + "postgresql://u@h/db?sslmode=disable&password=";
      after = suffix;
      break;
    default:
      if (HasAny(secret, "\r\n@")) return 0;
      before = prefix + "\"";
      after = "\"" + suffix;
      break;
  }
  const std::string written = write(secret);
  const std::string text = before + written + after;
  // Ordinary text elsewhere, or around the junctions: not a secret the redaction could know.
  if (Has(before + after, secret) || Has(before + "***" + after, secret) ||
      Has(written, "***")) {
    return 0;
  }
  const auto show = [&](const std::string& sec) {
    const std::string in = before + write(sec) + after;
    return shape == 4 ? obx::RedactConnectionSecrets(in, "postgresql://u:" + sec + "@h/db")
                      : obx::RedactConnectionString(in);
  };
  if (obx_fuzz::ShowsSecret(secret, show)) Leak(shape, text, show(secret), secret);
  return 0;
}
