#include "dispatch/failure_text.h"

#include <gtest/gtest.h>

#include <string>

#include "support/hostile_connections.h"

namespace outboxd {
namespace {

TEST(FailureTextTest, ShortTextIsKeptTrimmed) {
  EXPECT_EQ(BoundFailureText("  boom \n"), "boom");
}

// A handler's error text reaches last_error: a connection string quoted in it loses its password,
// also when the text is long enough to be cut (redaction runs before the cut).
TEST(FailureTextTest, ConnectionStringsInTheTextAreRedacted) {
  for (const auto& c : testing::HostileConnections()) {
    const std::string text = "exit code 1; stderr: cannot connect to \"" + c.connection + "\"";
    testing::ExpectNoSecret(BoundFailureText(text), c, "short");
    const std::string cut = std::string(kMaxFailureTextLength - 40, 'x') + " " + c.connection;
    testing::ExpectNoSecret(BoundFailureText(cut), c, "cut");
  }
  EXPECT_EQ(BoundFailureText("db postgresql://u:secret@h/db down"), "db postgresql://u:***@h/db down");
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
