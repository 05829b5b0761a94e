// Fuzz target: ParseDuration (common/duration.h). Properties: never crashes or overflows (UBSan);
// an accepted duration is not negative, and FormatDuration's text parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::chrono::milliseconds parsed{-1};
  if (!outboxd::ParseDuration(text, &parsed).ok()) return 0;
  if (parsed.count() < 0) std::abort();
  std::chrono::milliseconds again{-1};
  if (!outboxd::ParseDuration(outboxd::FormatDuration(parsed), &again).ok() || again != parsed) {
    std::abort();
  }
  return 0;
}
