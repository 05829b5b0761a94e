#include "observe/json_log_sink.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace outboxd {
namespace {

TEST(JsonLogSinkTest, FieldsAreTakenFromOutboxdsPhrasing) {
  auto f = LogFieldsOf("Outbox message 1f-2a (topic 'email.send') in store 'customer-001' failed");
  EXPECT_EQ(f["message_id"], "1f-2a");
  EXPECT_EQ(f["topic"], "email.send");
  EXPECT_EQ(f["tenant"], "customer-001");
  EXPECT_EQ(LogFieldsOf("Discovered new outbox database: customer-004")["tenant"], "customer-004");
  EXPECT_EQ(LogFieldsOf("Plugin 'email' 1.0.0 (generation 3) drained")["plugin"], "email");
  EXPECT_TRUE(LogFieldsOf("Refresh requested").empty());
}

// Regression: a plugin's own lines (HostApi().log writes "[plugin:P] text") had no plugin field.
TEST(JsonLogSinkTest, APluginsOwnLineNamesThePlugin) {
  auto f = LogFieldsOf("[plugin:log] message tenant=t1 topic=ok message_id=9d53 attempt=1");
  EXPECT_EQ(f["plugin"], "log");
  EXPECT_EQ(LogFieldsOf("[plugin:exec] calling plugin 'other' for store 'c1'")["plugin"], "exec")
      << "the prefix names the plugin that wrote the line";
  EXPECT_EQ(LogFieldsOf("text about [plugin:x] later").count("plugin"), 0u)
      << "only a prefix counts";
}

TEST(JsonLogSinkTest, WritesOneJsonObjectPerLine) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  auto logger = std::make_shared<spdlog::logger>("json-test", std::make_shared<JsonLogSink>(out));
  logger->warn("Outbox database 't1' unavailable: \"quoted\"\nsecond line");
  logger->flush();
  std::rewind(out);
  char buf[4096] = {0};
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, out);
  std::fclose(out);
  const std::string text(buf, n);
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  nlohmann::json line = nlohmann::json::parse(text);
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["tenant"], "t1");
  EXPECT_EQ(line["message"], "Outbox database 't1' unavailable: \"quoted\"\nsecond line");
  EXPECT_EQ(line["time"].get<std::string>().back(), 'Z');
}

}  // namespace
}  // namespace outboxd
