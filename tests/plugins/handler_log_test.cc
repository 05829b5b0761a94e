// Tests for plugins/handler_log (the built handler_log.so through FakeHost): the line it logs,
// payload truncation and escaping, the level and its filtering, and config validation.
#include <gtest/gtest.h>

#include <string>

#include "plugins/built_plugin.h"

namespace outboxd::testing {
namespace {

using obx::testing::FakeHost;
using obx::testing::FakeMessage;
using obx::testing::HandleResult;

class LogHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { descriptor_ = EnterBuiltPlugin(host_, "handler_log"); }

  std::unique_ptr<obx::testing::HandlerInstance> Create(const std::string& config) {
    auto created = host_.CreateHandler(descriptor_, config, "log-instance");
    EXPECT_EQ(created.status, OBX_STATUS_OK) << created.error;
    return std::move(created.instance);
  }

  FakeHost host_;
  const obx_plugin_descriptor* descriptor_ = nullptr;
};

TEST_F(LogHandlerTest, DescriptorIsAHandlerWithTopicsFromHostConfig) {
  EXPECT_STREQ(descriptor_->name, "log");
  EXPECT_EQ(descriptor_->kinds, OBX_KIND_HANDLER);
  EXPECT_EQ(descriptor_->topics, nullptr);
}

TEST_F(LogHandlerTest, LogsOneLineWithTheMessageFieldsAndReturnsOk) {
  auto h = Create("{}");
  FakeMessage m;
  m.tenant = "customer-001";
  m.topic = "email.send";
  m.message_id = "msg-1";
  m.attempt = 2;
  m.payload = R"({"to":"a@b.c"})";
  HandleResult r = h->Handle(m);
  EXPECT_EQ(r.outcome, OBX_OUTCOME_OK);
  auto logs = host_.Logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].level, OBX_LOG_INFO);
  EXPECT_EQ(logs[0].instance, "log-instance");
  EXPECT_EQ(logs[0].text,
            "message tenant=customer-001 topic=email.send message_id=msg-1 attempt=2 "
            "correlation_id= payload={\"to\":\"a@b.c\"}");
}

TEST_F(LogHandlerTest, TruncatesLongPayloadsAtACharacterBoundary) {
  auto h = Create(R"({"max_payload": 5})");
  FakeMessage m;
  m.payload = "abcd\xC3\xA9xyz";  // 'é' straddles the 5-byte limit
  EXPECT_EQ(h->Handle(m).outcome, OBX_OUTCOME_OK);
  auto logs = host_.Logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].text.find(" payload=abcd...(9 bytes)"), std::string::npos) << logs[0].text;
}

TEST_F(LogHandlerTest, ZeroMaxPayloadShowsOnlyTheSize) {
  auto h = Create(R"({"max_payload": 0})");
  FakeMessage m;
  m.payload = "secret";
  h->Handle(m);
  EXPECT_TRUE(host_.HasLog("payload_bytes=6"));
  EXPECT_FALSE(host_.HasLog("secret"));
}

TEST_F(LogHandlerTest, EscapesControlCharactersSoAMessageIsOneLine) {
  auto h = Create("{}");
  FakeMessage m;
  m.payload = std::string("a\nb\tc\x01\xff", 7);
  h->Handle(m);
  EXPECT_TRUE(host_.HasLog("payload=a\\nb\\tc\\x01\\xff")) << host_.Logs()[0].text;
}

TEST_F(LogHandlerTest, UsesTheConfiguredLevel) {
  auto h = Create(R"({"level": "warn"})");
  h->Handle(FakeMessage{});
  EXPECT_TRUE(host_.HasLog("message tenant=", OBX_LOG_WARN));
}

TEST_F(LogHandlerTest, SkipsTheLineWhenTheLevelIsDisabledButStillReturnsOk) {
  host_.SetLogLevel(OBX_LOG_INFO);
  auto h = Create(R"({"level": "debug"})");
  EXPECT_EQ(h->Handle(FakeMessage{}).outcome, OBX_OUTCOME_OK);
  EXPECT_TRUE(host_.Logs().empty());
}

TEST_F(LogHandlerTest, RejectsBadConfig) {
  for (const auto& [config, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"level": "loud"})", "\"level\""},
           {R"({"max_payload": -1})", "\"max_payload\""},
           {R"({"max_payload": "10"})", "\"max_payload\""},
           {R"({"colour": "red"})", "unknown key \"colour\""},
           {"[]", "expected a JSON object"}}) {
    auto created = host_.CreateHandler(descriptor_, config);
    EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT) << config;
    EXPECT_NE(created.error.find(expected), std::string::npos) << created.error;
  }
}

}  // namespace
}  // namespace outboxd::testing
