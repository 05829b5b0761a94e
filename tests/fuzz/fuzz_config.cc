// Fuzz target: the configuration parser (config/config.h, ParseConfig) on arbitrary bytes.
// Properties: never crashes, hangs or hits undefined behaviour; an error is one line (no control
// character can reach the operator's terminal or log through it); an accepted configuration can be
// described (DescribeConfig) without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  outboxd::OutboxdConfig config;
  const outboxd::Status s = outboxd::ParseConfig(text, &config);
  if (s.ok()) {
    (void)outboxd::DescribeConfig(config);
    return 0;
  }
  for (const char c : s.message()) {
    if (c == '\n' || c == '\r') std::abort();
  }
  return 0;
}
