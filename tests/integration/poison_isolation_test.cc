// Poison isolation (issue 14, "What to build" 1), through the real binaries: one SQLite tenant
// holds a batch of 7 messages whose 4th payload makes the recording_handler fixture
// (tests/fixtures/recording_handler.cc) raise SIGSEGV. outboxd is restarted each time it dies, as
// a service manager would. A row reclaimed from an expired lease is claimed alone, so the poison
// message only ever counts attempts against itself: in the end 6 messages are done, each delivered
// at most twice, and the poison message is failed after max_attempts deliveries, with the attempt
// count and the "Gave up after N attempts" text agreeing (finding 14).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Outboxctl;
using testing::Process;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr int kMaxAttempts = 5;
constexpr milliseconds kWait{30000};

class PoisonIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    // Under a sanitizer (OBX_SANITIZE=address,undefined or thread) the fixture's SIGSEGV would be
    // caught by the sanitizer's handler, reported and turned into another exit code; the restart
    // loop is about a process that dies by the signal, so the children keep the default action.
    for (const char* name : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
      const char* value = std::getenv(name);
      const std::string options = value != nullptr ? value : "";
      ::setenv(name, (options + (options.empty() ? "" : ":") + "handle_segv=0").c_str(), 1);
    }
    for (const char* name : {"discovery_static.so", "recording_handler.so"}) {
      const std::filesystem::path from =
          std::string(name) == "recording_handler.so" ? testing::BuildDir() / "test-plugins" / name
                                                      : testing::PluginDir() / name;
      ASSERT_TRUE(std::filesystem::exists(from)) << from << " is not built";
      std::filesystem::create_directories(plugins_);
      std::filesystem::copy_file(from, plugins_ / name);
    }
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
  std::filesystem::path plugins_ = dir_ / "plugins";
};

TEST_F(PoisonIsolationTest, SegfaultingFourthMessageOfSevenFailsAloneUnderRestartLoop) {
  const std::filesystem::path deliveries = dir_ / "deliveries.txt";
  const std::filesystem::path db = dir_ / "t.db";
  ASSERT_TRUE(ctl_.SchemaApply(SqliteConnection(db)));
  {
    SqliteFile file(db);
    file.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7) "
              "INSERT INTO outbox (topic, payload, created_at) "
              "SELECT 'fixture.record', CASE WHEN i = 4 THEN 'poison' ELSE 'good ' || i END, i "
              "FROM n");
  }
  const nlohmann::json databases = nlohmann::json::array(
      {{{"identifier", "t1"}, {"connection_string", SqliteConnection(db)}}});
  const nlohmann::json config{
      {"plugin_dir", plugins_.string()},
      {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
      {"dispatch",
       {{"poll_interval", "10ms"},
        {"max_poll_interval", "50ms"},
        {"workers", 1},
        {"batch_size", 50},
        {"max_attempts", kMaxAttempts},
        {"lease", "300ms"}}},
      {"handlers",
       {{{"plugin", "recording_handler"},
         {"config", {{"file", deliveries.string()}, {"crash_payload", "poison"}}}}}}};
  const std::filesystem::path config_file = testing::WriteConfig(dir_, config);

  auto all_terminal = [&] {
    SqliteFile file(db);
    return file.Scalar("SELECT COUNT(*) FROM outbox WHERE status IN (2, 3)") == 7;
  };
  // The restart loop: every death by SIGSEGV is followed by a fresh process. Bounded, so that a
  // poison message that is never given up fails the test instead of hanging it.
  int crashes = 0;
  std::unique_ptr<Process> p;
  for (int run = 0; run < 4 * kMaxAttempts && !all_terminal(); ++run) {
    p = testing::StartOutboxd(dir_, config_file, "outboxd-" + std::to_string(run));
    ASSERT_TRUE(p->ok()) << p->error();
    ASSERT_TRUE(testing::Eventually([&] { return p->Exited() || all_terminal(); }, kWait))
        << p->StderrTail();
    if (p->Exited()) {
      std::optional<int> code = p->WaitExit(milliseconds(0));
      ASSERT_EQ(code.value_or(-1), 128 + SIGSEGV) << p->StderrTail();
      ++crashes;
    }
  }
  ASSERT_TRUE(all_terminal()) << "after " << crashes << " crashes";
  if (!p->Exited()) {
    ASSERT_TRUE(p->Signal(SIGTERM));
    ASSERT_TRUE(p->WaitExit(kWait).has_value()) << p->StderrTail();
  }

  SqliteFile file(db);
  std::map<std::string, std::vector<std::string>> row;  // payload -> status, attempts, last_error
  for (const auto& r : file.Rows("SELECT payload, status, attempts, COALESCE(last_error, ''), "
                                 "message_id FROM outbox"))
    row[r[0]] = r;
  std::map<std::string, int> times;  // message id -> deliveries
  for (const testing::Delivery& d : testing::ReadDeliveries(deliveries)) ++times[d.message_id];

  EXPECT_EQ(crashes, kMaxAttempts) << "the poison message crashes the process once per attempt";
  const std::vector<std::string>& poison = row["poison"];
  ASSERT_EQ(poison.size(), 5u);
  EXPECT_EQ(poison[1], "3") << "the poison message is failed";
  EXPECT_EQ(poison[2], std::to_string(kMaxAttempts)) << poison[3];
  EXPECT_NE(poison[3].find("Gave up after " + std::to_string(kMaxAttempts) + " attempts"),
            std::string::npos)
      << poison[3];
  EXPECT_EQ(times[poison[4]], kMaxAttempts);
  for (int i : {1, 2, 3, 5, 6, 7}) {
    const std::vector<std::string>& good = row["good " + std::to_string(i)];
    ASSERT_EQ(good.size(), 5u) << i;
    EXPECT_EQ(good[1], "2") << "message " << i << " is done; last_error: " << good[3];
    EXPECT_GE(times[good[4]], 1) << "message " << i;
    EXPECT_LE(times[good[4]], 2) << "message " << i << " delivered more than twice";
  }
}

}  // namespace
}  // namespace outboxd
