// HandlerInstance: create/destroy, the message view, and the mapping of every outcome, with the C
// fixture (good_c_handler), the C++-layer fixture (good_handler) and a raw C++ plugin that throws
// across the ABI (throwing_create).
#include "plugin/handler_instance.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "host/plugin/plugin_test_support.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using Kind = HandlerOutcome::Kind;
using plugin_testing::LoadFixture;
using plugin_testing::LogCapture;
using plugin_testing::MakeMessage;
using testing::TempDir;

class HandlerInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_.path() / "plugins"); }

  std::shared_ptr<LoadedPlugin> Load(const std::string& fixture) {
    std::shared_ptr<LoadedPlugin> plugin;
    Status s = LoadFixture(dir_.path() / "plugins", dir_.path() / "staging", fixture, &plugin);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return plugin;
  }

  std::shared_ptr<HandlerInstance> Make(const std::string& fixture,
                                        const std::string& config = "{}") {
    std::shared_ptr<HandlerInstance> instance;
    Status s = HandlerInstance::Create(Load(fixture), config, &instance);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return instance;
  }

  TempDir dir_;
};

TEST_F(HandlerInstanceTest, CreateAndHandleOk) {
  std::shared_ptr<HandlerInstance> c = Make("good_c_handler");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->plugin().name(), "good_c_handler");
  HandlerOutcome outcome = c->Handle(MakeMessage("ok"), "tenant-1");
  EXPECT_EQ(outcome.kind, Kind::kOk);
  EXPECT_EQ(outcome.retry_after.count(), 0);
  EXPECT_EQ(outcome.error, "");
}

TEST_F(HandlerInstanceTest, CFixtureOutcomes) {
  std::shared_ptr<HandlerInstance> h = Make("good_c_handler");
  ASSERT_NE(h, nullptr);

  HandlerOutcome retry = h->Handle(MakeMessage("retry"), "t");
  EXPECT_EQ(retry.kind, Kind::kRetry);
  EXPECT_EQ(retry.retry_after.count(), 250);
  EXPECT_EQ(retry.error, "backend busy");

  HandlerOutcome silent = h->Handle(MakeMessage("retry-silent"), "t");
  EXPECT_EQ(silent.kind, Kind::kRetry);
  EXPECT_EQ(silent.retry_after.count(), 0);
  EXPECT_EQ(silent.error, "plugin 'good_c_handler' asked for a retry without an error text");

  HandlerOutcome permanent = h->Handle(MakeMessage("permanent"), "t");
  EXPECT_EQ(permanent.kind, Kind::kPermanentFailure);
  EXPECT_EQ(permanent.error, "bad payload");

  HandlerOutcome twice = h->Handle(MakeMessage("twice"), "t");
  EXPECT_EQ(twice.kind, Kind::kPermanentFailure);
  EXPECT_EQ(twice.error, "second");  // the last set_error wins

  HandlerOutcome unknown = h->Handle(MakeMessage("unknown"), "t");
  EXPECT_EQ(unknown.kind, Kind::kRetry);
  EXPECT_EQ(unknown.error, "plugin 'good_c_handler' returned unknown outcome 42");

  HandlerOutcome negative = h->Handle(MakeMessage("negative"), "t");
  EXPECT_EQ(negative.kind, Kind::kRetry);
  EXPECT_EQ(negative.retry_after.count(), 0);

  HandlerOutcome clock = h->Handle(MakeMessage("clock"), "t");
  EXPECT_EQ(clock.error, "clock-ok");
}

TEST_F(HandlerInstanceTest, CxxLayerOutcomes) {
  std::shared_ptr<HandlerInstance> h = Make("good_handler");
  ASSERT_NE(h, nullptr);

  HandlerOutcome retry = h->Handle(MakeMessage("retry"), "t");
  EXPECT_EQ(retry.kind, Kind::kRetry);
  EXPECT_EQ(retry.retry_after.count(), 1500);
  EXPECT_EQ(retry.error, "try again later");

  HandlerOutcome silent = h->Handle(MakeMessage("retry-silent"), "t");
  EXPECT_EQ(silent.error, "plugin 'good_handler' asked for a retry without an error text");

  HandlerOutcome permanent = h->Handle(MakeMessage("permanent"), "t");
  EXPECT_EQ(permanent.kind, Kind::kPermanentFailure);
  EXPECT_EQ(permanent.error, "payload rejected");

  HandlerOutcome thrown = h->Handle(MakeMessage("throw"), "t");
  EXPECT_EQ(thrown.kind, Kind::kRetry);
  EXPECT_EQ(thrown.error, "std::runtime_error: handler exploded");

  HandlerOutcome poison = h->Handle(MakeMessage("throw-permanent"), "t");
  EXPECT_EQ(poison.kind, Kind::kPermanentFailure);
  EXPECT_EQ(poison.error, "poison message");

  EXPECT_EQ(h->Handle(MakeMessage("ok"), "t").kind, Kind::kOk);
}

TEST_F(HandlerInstanceTest, PluginSeesTheWholeMessageView) {
  std::shared_ptr<HandlerInstance> h = Make("good_handler");
  ASSERT_NE(h, nullptr);
  OutboxMessage m = MakeMessage("echo");
  m.attempts = 2;  // two failed attempts so far: this is attempt 3
  m.correlation_id = "c-9";
  m.due_at_ms = 1700000005000;
  EXPECT_EQ(h->Handle(m, "customer-001").error,
            "attempt=3 row=42 id=m-1 topic=fixture.good corr=c-9 tenant=customer-001 "
            "created=1700000000000 due=1700000005000");

  OutboxMessage first = MakeMessage("echo");  // no correlation id, no due time, first attempt
  EXPECT_EQ(h->Handle(first, "").error,
            "attempt=1 row=42 id=m-1 topic=fixture.good corr= tenant= created=1700000000000 due=0");
}

TEST_F(HandlerInstanceTest, CreateFailuresNameThePluginAndCarryItsText) {
  std::shared_ptr<HandlerInstance> out;
  Status s = HandlerInstance::Create(Load("good_handler"), "{\"invalid\":true}", &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(
      s.message(),
      "plugin 'good_handler': handler create failed: config rejected: 'invalid' is not allowed");

  s = HandlerInstance::Create(Load("good_handler"), "{\"explode\":true}", &out);
  EXPECT_EQ(s.code(), Status::Code::kInternal);
  EXPECT_EQ(
      s.message(),
      "plugin 'good_handler': handler create failed: std::runtime_error: constructor exploded");

  s = HandlerInstance::Create(Load("good_c_handler"), "{\"fail\":1}", &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "plugin 'good_c_handler': handler create failed: good_c_handler: config says fail");
  EXPECT_EQ(out, nullptr);
}

TEST_F(HandlerInstanceTest, ExceptionThrownAcrossTheAbiAtCreateIsCaught) {
  std::shared_ptr<HandlerInstance> out;
  Status s = HandlerInstance::Create(Load("throwing_create"), "{}", &out);
  EXPECT_EQ(s.code(), Status::Code::kInternal);
  EXPECT_EQ(s.message(),
            "plugin 'throwing_create': handler create failed: exception escaped the plugin: create "
            "exploded");
  EXPECT_EQ(out, nullptr);
}

TEST_F(HandlerInstanceTest, ExceptionThrownAcrossTheAbiAtHandleBecomesRetry) {
  std::shared_ptr<HandlerInstance> h = Make("throwing_create", "{\"survive\":true}");
  ASSERT_NE(h, nullptr);
  HandlerOutcome outcome = h->Handle(MakeMessage("ok"), "t");
  EXPECT_EQ(outcome.kind, Kind::kRetry);
  EXPECT_EQ(outcome.error, "plugin 'throwing_create' threw from handle: handle exploded");
}

TEST_F(HandlerInstanceTest, RefusesNonHandlers) {
  std::shared_ptr<HandlerInstance> out;
  Status s = HandlerInstance::Create(Load("discovery_fixture"), "{}", &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "plugin 'discovery_fixture' is not a handler");
  EXPECT_EQ(HandlerInstance::Create(nullptr, "{}", &out).code(), Status::Code::kInvalidArgument);
}

TEST_F(HandlerInstanceTest, ShouldAbortFollowsRequestAbort) {
  std::shared_ptr<HandlerInstance> h = Make("good_c_handler");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->Handle(MakeMessage("abort?"), "t").kind, Kind::kOk);
  h->RequestAbort();
  HandlerOutcome outcome = h->Handle(MakeMessage("abort?"), "t");
  EXPECT_EQ(outcome.kind, Kind::kRetry);
  EXPECT_EQ(outcome.error, "aborted");
}

// Issue 14 finding 9: a call's deadline (dispatch.handler_timeout) turns should_abort on for that
// call only.
TEST_F(HandlerInstanceTest, ShouldAbortFollowsTheCallDeadline) {
  std::shared_ptr<HandlerInstance> h = Make("good_c_handler");
  ASSERT_NE(h, nullptr);
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(h->Handle(MakeMessage("abort?"), "t", now + std::chrono::hours(1)).kind, Kind::kOk);
  HandlerOutcome outcome = h->Handle(MakeMessage("abort?"), "t", now);
  EXPECT_EQ(outcome.kind, Kind::kRetry);
  EXPECT_EQ(outcome.error, "aborted");
  EXPECT_EQ(h->Handle(MakeMessage("abort?"), "t").kind, Kind::kOk) << "no deadline, no abort";
}

TEST_F(HandlerInstanceTest, KeepsItsPluginAlive) {
  std::shared_ptr<LoadedPlugin> plugin = Load("good_c_handler");
  const fs::path staged = plugin->staged_path();
  std::shared_ptr<HandlerInstance> h;
  ASSERT_TRUE(HandlerInstance::Create(plugin, "{}", &h).ok());
  plugin.reset();  // the instance holds the last reference
  EXPECT_EQ(h->Handle(MakeMessage("permanent"), "t").error, "bad payload");
  EXPECT_TRUE(fs::exists(staged));
  h.reset();
  EXPECT_FALSE(fs::exists(staged));
}

TEST_F(HandlerInstanceTest, LogFromPluginGoesToSpdlogWithThePluginName) {
  std::shared_ptr<HandlerInstance> h = Make("good_handler");
  ASSERT_NE(h, nullptr);
  LogCapture log;
  EXPECT_EQ(h->Handle(MakeMessage("log"), "t").kind, Kind::kOk);
  const std::vector<std::string> lines = plugin_testing::Matching(log, "hello from good_handler");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("info [plugin:good_handler] hello from good_handler", 0), 0u)
      << lines[0];
}

TEST_F(HandlerInstanceTest, HandleIsSafeFromManyThreads) {
  std::shared_ptr<HandlerInstance> c = Make("good_c_handler");
  std::shared_ptr<HandlerInstance> cxx = Make("good_handler");
  ASSERT_NE(c, nullptr);
  ASSERT_NE(cxx, nullptr);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const bool even = (i + t) % 2 == 0;
        HandlerOutcome a = c->Handle(MakeMessage(even ? "retry" : "permanent"), "t");
        if (a.error != (even ? "backend busy" : "bad payload")) ++wrong;
        HandlerOutcome b = cxx->Handle(MakeMessage(even ? "throw" : "ok"), "t");
        if (b.kind != (even ? Kind::kRetry : Kind::kOk)) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace outboxd
