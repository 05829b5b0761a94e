// IsValidUtf8, HasControlCharacter and EscapeForLog (plugin_text.h).
#include "plugin/plugin_text.h"

#include <gtest/gtest.h>

#include <string>

namespace outboxd {
namespace {

TEST(PluginTextTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8(std::string("a\xE2\x82", 3)));
}

TEST(PluginTextTest, ControlCharacters) {
  EXPECT_FALSE(HasControlCharacter("tenant-1 caf\xC3\xA9"));
  EXPECT_TRUE(HasControlCharacter("a\nb"));
  EXPECT_TRUE(HasControlCharacter(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControlCharacter("\x7F"));
}

TEST(PluginTextTest, EscapeForLog) {
  EXPECT_EQ(EscapeForLog("tenant-1"), "tenant-1");
  EXPECT_EQ(EscapeForLog("caf\xC3\xA9"), "caf\xC3\xA9");  // valid UTF-8 stays readable
  EXPECT_EQ(EscapeForLog("a\nb\\c"), "a\\x0Ab\\x5Cc");
  EXPECT_EQ(EscapeForLog("bad-\xFF"), "bad-\\xFF");
  EXPECT_EQ(EscapeForLog("abcdef", 3), "abc...");
  EXPECT_EQ(EscapeForLog("\xC3\xA9\xC3\xA9", 3), "\xC3\xA9...");  // never cuts a character in two
}

}  // namespace
}  // namespace outboxd
