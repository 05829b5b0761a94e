#include "dispatch/failure_text.h"

#include <gtest/gtest.h>

namespace outboxd {
namespace {

TEST(FailureTextTest, ShortTextIsKeptTrimmed) {
  EXPECT_EQ(BoundFailureText("  boom \n"), "boom");
}

TEST(FailureTextTest, EmptyBecomesPlaceholder) {
  EXPECT_EQ(BoundFailureText(""), "Failure details unavailable.");
  EXPECT_EQ(BoundFailureText(" \t\n"), "Failure details unavailable.");
}

TEST(FailureTextTest, LongTextIsBoundedAndMarked) {  // scenario 33
  std::string text = "std::runtime_error: " + std::string(4096, 'x');
  std::string bounded = BoundFailureText(text);
  EXPECT_LE(bounded.size(), kMaxFailureTextLength);
  EXPECT_NE(bounded.find("std::runtime_error"), std::string::npos);
  EXPECT_EQ(bounded.substr(bounded.size() - 15), "... [truncated]");
}

TEST(FailureTextTest, DoesNotSplitUtf8) {
  std::string text;
  while (text.size() < 3000) text += "\xC3\xA9";  // é
  std::string bounded = BoundFailureText(text);
  const std::string head = bounded.substr(0, bounded.size() - 15);
  ASSERT_EQ(head.size() % 2, 0u);
  EXPECT_EQ(static_cast<unsigned char>(head.back()), 0xA9);
}

}  // namespace
}  // namespace outboxd
