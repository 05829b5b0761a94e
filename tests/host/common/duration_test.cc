#include "common/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

namespace outboxd {
namespace {

using std::chrono::milliseconds;

milliseconds Parsed(const std::string& text) {
  milliseconds out{-1};
  Status status = ParseDuration(text, &out);
  EXPECT_TRUE(status.ok()) << text << ": " << status.ToString();
  return out;
}

std::string ErrorOf(const std::string& text) {
  milliseconds out{-42};
  Status status = ParseDuration(text, &out);
  EXPECT_FALSE(status.ok()) << text << " parsed as " << out.count() << "ms";
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << text;
  EXPECT_EQ(out.count(), -42) << text << ": output written on error";
  return status.message();
}

TEST(ParseDurationTest, SingleUnits) {
  EXPECT_EQ(Parsed("250ms"), milliseconds(250));
  EXPECT_EQ(Parsed("30s"), milliseconds(30'000));
  EXPECT_EQ(Parsed("5m"), milliseconds(300'000));
  EXPECT_EQ(Parsed("1h"), milliseconds(3'600'000));
  EXPECT_EQ(Parsed("7d"), milliseconds(7LL * 86'400'000));
}

TEST(ParseDurationTest, Zero) {
  EXPECT_EQ(Parsed("0s"), milliseconds(0));
  EXPECT_EQ(Parsed("0ms"), milliseconds(0));
  EXPECT_EQ(Parsed("0"), milliseconds(0));
}

TEST(ParseDurationTest, SumsOfParts) {
  EXPECT_EQ(Parsed("1m30s"), milliseconds(90'000));
  EXPECT_EQ(Parsed("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(Parsed("1s500ms"), milliseconds(1'500));
  EXPECT_EQ(Parsed("1d2h3m4s5ms"), milliseconds(86'400'000 + 7'200'000 + 180'000 + 4'000 + 5));
}

TEST(ParseDurationTest, MinutesAndMillisecondsAreNotConfused) {
  EXPECT_EQ(Parsed("1ms"), milliseconds(1));
  EXPECT_EQ(Parsed("1m1ms"), milliseconds(60'001));
}

TEST(ParseDurationTest, LeadingZerosAndLargeValues) {
  EXPECT_EQ(Parsed("007s"), milliseconds(7'000));
  EXPECT_EQ(Parsed("9223372036854775807ms"), milliseconds(std::numeric_limits<int64_t>::max()));
}

TEST(ParseDurationTest, RejectsEmpty) { EXPECT_NE(ErrorOf("").find("empty"), std::string::npos); }

TEST(ParseDurationTest, MessageSaysWhatWasExpectedAndQuotesInput) {
  std::string message = ErrorOf("soon");
  EXPECT_NE(message.find("expected a duration such as"), std::string::npos) << message;
  EXPECT_NE(message.find("\"soon\""), std::string::npos) << message;
}

TEST(ParseDurationTest, RejectsNegative) {
  EXPECT_NE(ErrorOf("-5s").find("negative"), std::string::npos);
  EXPECT_NE(ErrorOf("-0s").find("negative"), std::string::npos);
}

TEST(ParseDurationTest, RejectsUnknownUnits) {
  EXPECT_NE(ErrorOf("5x").find("unknown unit \"x\""), std::string::npos);
  EXPECT_NE(ErrorOf("5sec").find("unknown unit \"sec\""), std::string::npos);
  EXPECT_NE(ErrorOf("5S").find("unknown unit \"S\""), std::string::npos);
  EXPECT_NE(ErrorOf("1w").find("unknown unit"), std::string::npos);
  EXPECT_NE(ErrorOf("5us").find("unknown unit"), std::string::npos);
}

TEST(ParseDurationTest, RejectsMissingUnitOrNumber) {
  EXPECT_NE(ErrorOf("5").find("missing unit"), std::string::npos);
  EXPECT_NE(ErrorOf("1m30").find("missing unit"), std::string::npos);
  EXPECT_NE(ErrorOf("s").find("number must come before"), std::string::npos);
  EXPECT_NE(ErrorOf("1ms s").find("number must come before"), std::string::npos);
  EXPECT_NE(ErrorOf("1 ms").find("unexpected character"), std::string::npos);
}

TEST(ParseDurationTest, RejectsFractionsSignsAndSpaces) {
  ErrorOf("1.5s");
  ErrorOf("+5s");
  ErrorOf(" 5s");
  ErrorOf("5s ");
  ErrorOf("5 s");
  ErrorOf("1e3ms");
  ErrorOf("0x10s");
}

TEST(ParseDurationTest, RejectsUnitsOutOfOrderOrRepeated) {
  EXPECT_NE(ErrorOf("30s1m").find("largest to smallest"), std::string::npos);
  EXPECT_NE(ErrorOf("1m1m").find("largest to smallest"), std::string::npos);
  ErrorOf("1ms1s");
}

TEST(ParseDurationTest, RejectsOverflow) {
  EXPECT_NE(ErrorOf("9223372036854775808ms").find("too large"), std::string::npos);
  EXPECT_NE(ErrorOf("99999999999999999999999s").find("too large"), std::string::npos);
  EXPECT_NE(ErrorOf("106751991168d").find("too large"), std::string::npos);
  // Each part fits, the sum does not.
  EXPECT_EQ(Parsed("106751991167d7h"), milliseconds(9223372036828800000 + 25'200'000));
  EXPECT_NE(ErrorOf("106751991167d8h").find("too large"), std::string::npos);
}

TEST(FormatDurationTest, UsesTheLargestWholeUnits) {
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(30'000)), "30s");
  EXPECT_EQ(FormatDuration(milliseconds(300'000)), "5m");
  EXPECT_EQ(FormatDuration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(FormatDuration(milliseconds(7LL * 86'400'000)), "7d");
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(1'500)), "1s500ms");
}

TEST(FormatDurationTest, ZeroAndNegative) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(-1'500)), "-1s500ms");
  EXPECT_FALSE(FormatDuration(milliseconds(std::numeric_limits<int64_t>::min())).empty());
}

TEST(FormatDurationTest, RoundTripsThroughParseDuration) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1'000}, int64_t{61'001},
                     int64_t{86'400'000} * 400 + 1, std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(Parsed(FormatDuration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

}  // namespace
}  // namespace outboxd
