#include "config/json_text.h"

#include <gtest/gtest.h>

#include <string>

namespace outboxd {
namespace {

TEST(ConfigJsonTextTest, PositionOfOffset) {
  std::string text = "ab\ncd\n\nef";
  auto at = [&](size_t offset) {
    TextPosition p = PositionOfOffset(text, offset);
    return std::to_string(p.line) + ":" + std::to_string(p.column);
  };
  EXPECT_EQ(at(0), "1:1");
  EXPECT_EQ(at(1), "1:2");
  EXPECT_EQ(at(2), "1:3");  // the newline itself ends line 1
  EXPECT_EQ(at(3), "2:1");
  EXPECT_EQ(at(6), "3:1");
  EXPECT_EQ(at(7), "4:1");
  EXPECT_EQ(at(9), "4:3");    // just past the end
  EXPECT_EQ(at(100), "4:3");  // clamped
}

TEST(ConfigJsonTextTest, ParsesValidJson) {
  nlohmann::json out;
  Status status = ParseJsonText(R"({"a": [1, {"b": null}], "c": "d"})", &out);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(out["a"][1]["b"], nullptr);
  EXPECT_EQ(out["c"], "d");
}

TEST(ConfigJsonTextTest, NewlineInsideAStringPointsAtIt) {
  nlohmann::json out;
  Status status = ParseJsonText("{\n\"a\": \"x\ny\"}", &out);
  EXPECT_EQ(status.message().rfind("malformed JSON at line 2, column 8: ", 0), 0u)
      << status.message();
}

TEST(ConfigJsonTextTest, DuplicateKeyPathsThroughArrays) {
  nlohmann::json out;
  Status status = ParseJsonText(R"({"x": [1, [2, 3], {"y": 1}, {"z": {"k": 1, "k": 2}}]})", &out);
  EXPECT_EQ(status.message(), "x[3].z.k: duplicate key");
  status = ParseJsonText(R"([{"a": 1}, {"a": 1, "a": 2}])", &out);
  EXPECT_EQ(status.message(), "[1].a: duplicate key");
}

TEST(ConfigJsonTextTest, TrailingGarbage) {
  nlohmann::json out;
  Status status = ParseJsonText("{}\n}", &out);
  EXPECT_EQ(status.message().rfind("malformed JSON at line 2, column 1: ", 0), 0u)
      << status.message();
}

}  // namespace
}  // namespace outboxd
