// Unit tests for the send_email sample, linked with the handler source and driven through the SDK's
// in-memory host (obx/testing/fake_host.hpp): no outboxd, no dlopen.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "obx/testing/fake_host.hpp"

namespace {

using obx::testing::FakeHost;
using obx::testing::FakeMessage;

class SendEmailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "send-email-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    outbox_ = dir_ / "emails.jsonl";
    descriptor_ = host_.Enter(&obx_plugin_entry_v1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<obx::testing::HandlerInstance> Create() {
    auto created = host_.CreateHandler(
        descriptor_,
        nlohmann::json{{"file", outbox_.string()}, {"from", "app@example.com"}}.dump());
    EXPECT_TRUE(created.ok()) << created.error;
    return std::move(created.instance);
  }

  std::vector<nlohmann::json> Lines() {
    std::vector<nlohmann::json> out;
    std::ifstream in(outbox_);
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  FakeHost host_;
  const obx_plugin_descriptor* descriptor_ = nullptr;
  std::filesystem::path dir_;
  std::filesystem::path outbox_;
};

TEST_F(SendEmailTest, DeclaresTheEmailSendTopic) {
  EXPECT_STREQ(descriptor_->name, "send_email");
  ASSERT_NE(descriptor_->topics, nullptr);
  EXPECT_STREQ(descriptor_->topics[0], "email.send");
  EXPECT_EQ(descriptor_->topics[1], nullptr);
}

TEST_F(SendEmailTest, AppendsOneJsonLinePerMessage) {
  auto h = Create();
  host_.SetNowUnixMs(1234);
  FakeMessage m;
  m.topic = "email.send";
  m.message_id = "m-1";
  m.tenant = "customer-001";
  m.payload = R"({"to": "a@example.com", "subject": "Hi", "body": "Hello"})";
  auto r = h->Handle(m);
  ASSERT_EQ(r.outcome, OBX_OUTCOME_OK) << r.error;
  m.message_id = "m-2";
  m.payload = R"({"to": ["b@example.com", "c@example.com"]})";
  ASSERT_EQ(h->Handle(m).outcome, OBX_OUTCOME_OK);

  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["message_id"], "m-1");
  EXPECT_EQ(lines[0]["tenant"], "customer-001");
  EXPECT_EQ(lines[0]["to"], nlohmann::json::array({"a@example.com"}));
  EXPECT_EQ(lines[0]["from"], "app@example.com");
  EXPECT_EQ(lines[0]["subject"], "Hi");
  EXPECT_EQ(lines[0]["sent_at_unix_ms"], 1234);
  EXPECT_EQ(lines[1]["to"].size(), 2u);
}

TEST_F(SendEmailTest, PayloadWithoutToIsAPermanentFailure) {
  FakeMessage m;
  m.payload = R"({"subject": "no recipient"})";
  auto r = Create()->Handle(m);
  EXPECT_EQ(r.outcome, OBX_OUTCOME_PERMANENT_FAILURE);
  EXPECT_NE(r.error.find("\"to\""), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(outbox_));
}

TEST_F(SendEmailTest, NonJsonPayloadIsAPermanentFailure) {
  FakeMessage m;
  m.payload = "not json";
  EXPECT_EQ(Create()->Handle(m).outcome, OBX_OUTCOME_PERMANENT_FAILURE);
}

TEST_F(SendEmailTest, IoErrorIsARetry) {
  outbox_ = dir_ / "missing-dir" / "emails.jsonl";
  FakeMessage m;
  m.payload = R"({"to": "a@example.com"})";
  auto r = Create()->Handle(m);
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_NE(r.error.find("cannot open"), std::string::npos) << r.error;
}

TEST_F(SendEmailTest, BadConfigFailsCreate) {
  auto created = host_.CreateHandler(descriptor_, R"({"path": "/tmp/x"})");
  EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(created.error.find("unknown key \"path\""), std::string::npos) << created.error;
  created = host_.CreateHandler(descriptor_, "{}");
  EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(created.error.find("\"file\""), std::string::npos) << created.error;
}

}  // namespace
