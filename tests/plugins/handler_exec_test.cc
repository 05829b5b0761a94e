// Tests for plugins/handler_exec (the built handler_exec.so, driven through FakeHost): outcomes by
// exit code, signal and timeout, the child's environment/stdin/stderr/working dir/descriptors, a
// large payload to a child that does not read, concurrent calls, and config validation.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plugins/built_plugin.h"
#include "support/temp_dir.h"

namespace outboxd::testing {
namespace {

using nlohmann::json;
using obx::testing::FakeHost;
using obx::testing::FakeMessage;
using obx::testing::HandleResult;
using obx::testing::HandlerInstance;

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ExecHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { descriptor_ = EnterBuiltPlugin(host_, "handler_exec"); }

  std::unique_ptr<HandlerInstance> Create(const json& config) {
    auto created = host_.CreateHandler(descriptor_, config.dump());
    EXPECT_EQ(created.status, OBX_STATUS_OK) << created.error;
    return std::move(created.instance);
  }

  // A handler running `sh -c <script>` with extra env.
  std::unique_ptr<HandlerInstance> Shell(const std::string& script,
                                         const json& env = json::object(),
                                         const std::string& timeout = "10s") {
    return Create({{"command", {"/bin/sh", "-c", script}}, {"env", env}, {"timeout", timeout}});
  }

  FakeHost host_;
  const obx_plugin_descriptor* descriptor_ = nullptr;
  TempDir dir_;
};

TEST_F(ExecHandlerTest, DescriptorIsAHandlerWithTopicsFromHostConfig) {
  EXPECT_STREQ(descriptor_->name, "exec");
  EXPECT_EQ(descriptor_->kinds, OBX_KIND_HANDLER);
  EXPECT_EQ(descriptor_->topics, nullptr);
  ASSERT_NE(descriptor_->handler, nullptr);
  EXPECT_EQ(descriptor_->discovery, nullptr);
}

TEST_F(ExecHandlerTest, ExitZeroIsOk) {
  auto h = Create({{"command", {"/bin/true"}}});
  HandleResult r = h->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_OK) << r.error;
  EXPECT_EQ(r.error, "");
}

TEST_F(ExecHandlerTest, AcceptsTheHostDurationSyntax) {
  for (const char* timeout : {"200ms", "30s", "5m", "1h", "1m30s", "1h0m5s"}) {
    auto created = host_.CreateHandler(
        descriptor_, json{{"command", {"/bin/true"}}, {"timeout", timeout}}.dump());
    EXPECT_EQ(created.status, OBX_STATUS_OK) << timeout << ": " << created.error;
  }
}

TEST_F(ExecHandlerTest, BareProgramNameIsLookedUpInPath) {
  auto h = Create({{"command", {"true"}}});
  EXPECT_EQ(h->Handle(FakeMessage{}).outcome, OBX_OUTCOME_OK);
}

TEST_F(ExecHandlerTest, Exit65IsPermanentFailure) {
  HandleResult r = Shell("exit 65")->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_PERMANENT_FAILURE);
  EXPECT_EQ(r.error, "exit code 65");
}

TEST_F(ExecHandlerTest, OtherExitCodeIsRetry) {
  HandleResult r = Shell("exit 3")->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_EQ(r.error, "exit code 3");
  EXPECT_EQ(r.retry_after_ms, 0);
}

TEST_F(ExecHandlerTest, SignalIsRetry) {
  HandleResult r = Shell("kill -TERM $$")->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_EQ(r.error, "killed by signal 15 (SIGTERM)");
}

TEST_F(ExecHandlerTest, TimeoutKillsTheChildAndReturnsQuickly) {
  auto h = Create({{"command", {"/bin/sleep", "5"}}, {"timeout", "200ms"}});
  const auto start = std::chrono::steady_clock::now();
  HandleResult r = h->Handle(FakeMessage{});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_EQ(r.error, "timed out after 0.2s");
  EXPECT_GE(elapsed, std::chrono::milliseconds(190));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST_F(ExecHandlerTest, TimeoutKillsTheWholeProcessGroup) {
  // The shell starts a grandchild that records its pid, then waits; both must die at the timeout.
  const auto pid_file = dir_ / "grandchild.pid";
  auto h =
      Shell("sleep 30 & echo $! > \"$PID_FILE\"; wait", {{"PID_FILE", pid_file.string()}}, "300ms");
  HandleResult r = h->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_EQ(r.error, "timed out after 0.3s");
  const pid_t grandchild = static_cast<pid_t>(std::stol(ReadAll(pid_file)));
  // SIGKILL was sent to the group before Handle returned; the orphan is reaped by init, so wait for
  // it to disappear (a condition, not a fixed sleep).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string line;
    gone = !stat || !std::getline(stat, line) || line.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::yield();
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived the timeout";
}

TEST_F(ExecHandlerTest, DoesNotWaitForGrandchildrenHoldingStderr) {
  auto h = Shell("sleep 3 & echo done >&2; exit 0");
  const auto start = std::chrono::steady_clock::now();
  HandleResult r = h->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_OK) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(ExecHandlerTest, ChildSeesMessageEnvironmentInheritedHostVariablesAndConfiguredEnv) {
  ASSERT_EQ(setenv("OBX_EXEC_TEST_HOST_VAR", "from-host", 1), 0);
  const auto out = dir_ / "env.txt";
  auto h = Create({{"command",
                    {"/bin/sh", "-c",
                     "printf '%s|%s|%s|%s|%s|%s|%s' \"$OUTBOX_TOPIC\" \"$OUTBOX_MESSAGE_ID\" "
                     "\"$OUTBOX_CORRELATION_ID\" \"$OUTBOX_TENANT\" \"$OUTBOX_ATTEMPT\" \"$EXTRA\" "
                     "\"$OBX_EXEC_TEST_HOST_VAR\" > \"$OUT\""}},
                   {"env", {{"OUT", out.string()}, {"EXTRA", "extra value"}}},
                   {"inherit_env", {"PATH", "OBX_EXEC_TEST_HOST_VAR"}}});
  unsetenv("OBX_EXEC_TEST_HOST_VAR");
  FakeMessage m;
  m.topic = "email.send";
  m.message_id = "msg-42";
  m.correlation_id = "corr-7";
  m.tenant = "customer-001";
  m.attempt = 3;
  HandleResult r = h->Handle(m);
  ASSERT_EQ(r.outcome, OBX_OUTCOME_OK) << r.error;
  EXPECT_EQ(ReadAll(out), "email.send|msg-42|corr-7|customer-001|3|extra value|from-host");
}

// Issue 14, finding 7: the daemon's environment (PGPASSWORD, tokens) must not reach the program, or
// its stderr would carry it into last_error. Only the inherit_env names (default PATH, HOME, LANG,
// LC_ALL, TZ, TMPDIR) and the configured env do.
TEST_F(ExecHandlerTest, DaemonEnvironmentDoesNotReachTheChildUnlessInherited) {
  ASSERT_EQ(setenv("PGPASSWORD", "s3cret-from-daemon-env", 1), 0);
  ASSERT_EQ(setenv("OBX_EXEC_TEST_TOKEN", "token-from-daemon-env", 1), 0);
  ASSERT_EQ(setenv("LANG", "C.UTF-8", 1), 0);
  auto h = Shell("env >&2; exit 1");
  unsetenv("PGPASSWORD");
  unsetenv("OBX_EXEC_TEST_TOKEN");
  HandleResult r = h->Handle(FakeMessage{});
  ASSERT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_EQ(r.error.find("s3cret-from-daemon-env"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("token-from-daemon-env"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("LANG=C.UTF-8"), std::string::npos) << r.error;  // a default name
  EXPECT_NE(r.error.find("PATH="), std::string::npos) << r.error;
}

TEST_F(ExecHandlerTest, ConfiguredEnvOverridesHostEnv) {
  ASSERT_EQ(setenv("OBX_EXEC_TEST_OVERRIDE", "host", 1), 0);
  const auto out = dir_ / "env.txt";
  auto h = Shell("printf '%s' \"$OBX_EXEC_TEST_OVERRIDE\" > \"$OUT\"",
                 {{"OUT", out.string()}, {"OBX_EXEC_TEST_OVERRIDE", "config"}});
  unsetenv("OBX_EXEC_TEST_OVERRIDE");
  ASSERT_EQ(h->Handle(FakeMessage{}).outcome, OBX_OUTCOME_OK);
  EXPECT_EQ(ReadAll(out), "config");
}

TEST_F(ExecHandlerTest, PayloadArrivesOnStdin) {
  const auto out = dir_ / "stdin.txt";
  auto h = Shell("cat > \"$OUT\"", {{"OUT", out.string()}});
  FakeMessage m;
  m.payload = std::string("{\"to\":\"a@b.c\"}\n\0binary\xff", 24);
  HandleResult r = h->Handle(m);
  ASSERT_EQ(r.outcome, OBX_OUTCOME_OK) << r.error;
  EXPECT_EQ(ReadAll(out), m.payload);
}

TEST_F(ExecHandlerTest, EmptyPayloadGivesImmediateEof) {
  const auto out = dir_ / "stdin.txt";
  auto h = Shell("cat > \"$OUT\"", {{"OUT", out.string()}});
  FakeMessage m;
  m.payload = "";
  ASSERT_EQ(h->Handle(m).outcome, OBX_OUTCOME_OK);
  EXPECT_EQ(ReadAll(out), "");
}

TEST_F(ExecHandlerTest, ErrorCarriesTheTailOfStderr) {
  auto h = Shell(
      "echo first-line >&2; i=0; while [ $i -lt 200 ]; do echo 0123456789abcdefghij >&2; "
      "i=$((i+1)); done; echo last-line >&2; exit 7");
  HandleResult r = h->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_EQ(r.error.rfind("exit code 7; stderr: ...", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("last-line"), std::string::npos);
  EXPECT_EQ(r.error.find("first-line"), std::string::npos);
  EXPECT_LE(r.error.size(), 1100u);
}

TEST_F(ExecHandlerTest, StderrTailIsSanitisedUtf8) {
  auto h = Shell("printf 'bad \\377\\001 byte' >&2; exit 65");
  HandleResult r = h->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_PERMANENT_FAILURE);
  EXPECT_EQ(r.error, "exit code 65; stderr: bad ?? byte");
}

TEST_F(ExecHandlerTest, LargePayloadToAChildThatDoesNotReadDoesNotHang) {
  FakeMessage m;
  m.payload.assign(3 * 1024 * 1024, 'x');
  const auto start = std::chrono::steady_clock::now();
  // Exits at once: the write side sees EPIPE, which must not raise SIGPIPE in this process.
  EXPECT_EQ(Create({{"command", {"/bin/true"}}})->Handle(m).outcome, OBX_OUTCOME_OK);
  // Stays alive without reading: the pipe fills up and the handler must keep polling for the exit.
  EXPECT_EQ(Shell("sleep 0.2; exit 0")->Handle(m).outcome, OBX_OUTCOME_OK);
  // Reads a little, then exits with a failure code.
  HandleResult r = Shell("head -c 1000 > /dev/null; exit 4")->Handle(m);
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_EQ(r.error, "exit code 4");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  sigset_t pending;
  sigemptyset(&pending);
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "a SIGPIPE was left pending";
}

TEST_F(ExecHandlerTest, LargePayloadIsDeliveredWhole) {
  const auto out = dir_ / "big.bin";
  FakeMessage m;
  m.payload.resize(2 * 1024 * 1024);
  for (size_t i = 0; i < m.payload.size(); ++i) m.payload[i] = static_cast<char>(i * 31 % 251);
  ASSERT_EQ(Shell("cat > \"$OUT\"", {{"OUT", out.string()}})->Handle(m).outcome, OBX_OUTCOME_OK);
  EXPECT_EQ(ReadAll(out), m.payload);
}

TEST_F(ExecHandlerTest, WorkingDirIsApplied) {
  const auto out = dir_ / "pwd.txt";
  auto h = Create({{"command", {"/bin/sh", "-c", "pwd -P > \"$OUT\""}},
                   {"working_dir", dir_.path().string()},
                   {"env", {{"OUT", out.string()}}}});
  ASSERT_EQ(h->Handle(FakeMessage{}).outcome, OBX_OUTCOME_OK);
  EXPECT_EQ(ReadAll(out), std::filesystem::canonical(dir_.path()).string() + "\n");
}

TEST_F(ExecHandlerTest, ChildDoesNotInheritOtherDescriptors) {
  const int fd = open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(fd, 3);
  auto h = Shell("if [ -e /proc/$$/fd/" + std::to_string(fd) + " ]; then exit 9; fi; exit 0");
  HandleResult r = h->Handle(FakeMessage{});
  close(fd);
  EXPECT_EQ(r.outcome, OBX_OUTCOME_OK) << r.error;
}

TEST_F(ExecHandlerTest, MissingProgramIsRetryWithReason) {
  HandleResult r = Create({{"command", {"obx-no-such-program-anywhere"}}})->Handle(FakeMessage{});
  EXPECT_EQ(r.outcome, OBX_OUTCOME_RETRY);
  EXPECT_NE(r.error.find("cannot start \"obx-no-such-program-anywhere\""), std::string::npos)
      << r.error;
}

TEST_F(ExecHandlerTest, ConcurrentCallsFromSeveralThreads) {
  auto h = Shell("cat > \"$DIR/$OUTBOX_MESSAGE_ID\"", {{"DIR", dir_.path().string()}});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 6;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        FakeMessage m;
        m.message_id = "m-" + std::to_string(t) + "-" + std::to_string(i);
        m.payload = "payload of " + m.message_id;
        if (h->Handle(m).outcome != OBX_OUTCOME_OK) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string id = "m-" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_EQ(ReadAll(dir_ / id), "payload of " + id);
    }
  }
}

TEST_F(ExecHandlerTest, ConcurrentTimeoutsAndSuccessesDoNotInterfere) {
  auto slow = Create({{"command", {"/bin/sleep", "5"}}, {"timeout", "200ms"}});
  auto fast = Create({{"command", {"/bin/true"}}});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        if (t % 2 == 0) {
          if (slow->Handle(FakeMessage{}).outcome != OBX_OUTCOME_RETRY) ++wrong;
        } else {
          if (fast->Handle(FakeMessage{}).outcome != OBX_OUTCOME_OK) ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

struct BadConfig {
  const char* config;
  const char* expected;  // substring of the error
};

class ExecBadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ExecBadConfigTest, CreateFailsNamingTheKey) {
  FakeHost host;
  const obx_plugin_descriptor* d = EnterBuiltPlugin(host, "handler_exec");
  auto created = host.CreateHandler(d, GetParam().config);
  EXPECT_EQ(created.status, OBX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(created.instance, nullptr);
  EXPECT_NE(created.error.find(GetParam().expected), std::string::npos) << created.error;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ExecBadConfigTest,
    ::testing::Values(
        BadConfig{"{}", "missing required key \"command\""},
        BadConfig{R"({"command": "/bin/true"})", "\"command\" must be an array"},
        BadConfig{R"({"command": []})", "\"command\" must not be empty"},
        BadConfig{R"({"command": ["/bin/true", 3]})", "\"command\"[1] must be a string"},
        BadConfig{R"({"command": ["/no/such/prog"]})", "\"command\"[0]: \"/no/such/prog\""},
        BadConfig{R"({"command": ["/bin/true"], "bogus": 1})", "unknown key \"bogus\""},
        BadConfig{R"({"command": ["/bin/true"], "timeout": "5x"})", "\"timeout\""},
        BadConfig{R"({"command": ["/bin/true"], "timeout": 30})", "\"timeout\""},
        BadConfig{R"({"command": ["/bin/true"], "timeout": "0s"})", "\"timeout\""},
        BadConfig{R"({"command": ["/bin/true"], "timeout": "30s1m"})", "\"timeout\""},
        BadConfig{R"({"command": ["/bin/true"], "timeout": "25h"})", "\"timeout\""},
        BadConfig{R"({"command": ["/bin/true"], "env": {"OUTBOX_TOPIC": "x"}})",
                  "\"env\".\"OUTBOX_TOPIC\""},
        BadConfig{R"({"command": ["/bin/true"], "env": {"A": 1}})", "\"env\".\"A\" must be"},
        BadConfig{R"({"command": ["/bin/true"], "inherit_env": "PATH"})",
                  "\"inherit_env\" must be an array"},
        BadConfig{R"({"command": ["/bin/true"], "inherit_env": ["A=B"]})",
                  "\"inherit_env\"[0]: not a valid variable name"},
        BadConfig{R"({"command": ["/bin/true"], "inherit_env": ["PATH", "OUTBOX_TOPIC"]})",
                  "\"inherit_env\"[1]: OUTBOX_* variables"},
        BadConfig{R"({"command": ["/bin/true"], "working_dir": "/no/such/dir"})",
                  "\"working_dir\""},
        BadConfig{"not json", "not valid JSON"}));

}  // namespace
}  // namespace outboxd::testing
