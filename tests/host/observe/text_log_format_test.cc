#include "observe/text_log_format.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace outboxd {
namespace {

TEST(TextLogFormatTest, EscapesEveryControlCharacterAndKeepsTheRest) {
  EXPECT_EQ(EscapeControlCharacters("plain 'text' \\ é ✓"), "plain 'text' \\ é ✓");
  EXPECT_EQ(EscapeControlCharacters("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(EscapeControlCharacters(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(EscapeControlCharacters("\x1b[2K\x7f\x01"), "\\x1b[2K\\x7f\\x01");
  EXPECT_FALSE(HasControlCharacters("topic 'email.send' é"));
  EXPECT_TRUE(HasControlCharacters("a\x1f"));
}

// Issue 14, finding 12: one call, one line, whatever the arguments hold.
TEST(TextLogFormatTest, AFormattedMessageIsAlwaysOneLine) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger("text-test", sink);
  logger.set_formatter(std::make_unique<EscapingFormatter>("[%l] %v"));
  logger.info("No handler registered for topic '{}'", "a\n[2026-12-03 10:00:00.000] [info] fake");
  logger.warn("clean");
  EXPECT_EQ(out.str(),
            "[info] No handler registered for topic 'a\\n[2026-12-03 10:00:00.000] [info] fake'\n"
            "[warning] clean\n");
}

TEST(TextLogFormatTest, ClonesKeepEscaping) {
  EscapingFormatter formatter("%v");
  std::unique_ptr<spdlog::formatter> clone = formatter.clone();
  spdlog::memory_buf_t buf;
  spdlog::details::log_msg msg("n", spdlog::level::info, "a\nb");
  clone->format(msg, buf);
  EXPECT_EQ(std::string(buf.data(), buf.size()), "a\\nb\n");
}

}  // namespace
}  // namespace outboxd
