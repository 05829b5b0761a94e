// Finding 13 of issue 14, through the real binaries: with a shutdown_grace shorter than the
// handler call in flight, outboxd exits anyway (exit 1), and the messages it had claimed but not
// started are released (ready, no attempt counted) as docs/configuration.md says, instead of
// staying in progress until their lease expires and then counting a lost lease.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
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

constexpr milliseconds kWait{30000};

TEST(ShutdownGraceTest, ShortGraceReleasesClaimedButUnstartedMessages) {
  ASSERT_TRUE(testing::BinariesBuilt());
  TempDir dir;
  Outboxctl ctl(dir.path());
  const std::filesystem::path plugins = dir / "plugins";
  std::filesystem::create_directories(plugins);
  std::filesystem::copy_file(testing::PluginDir() / "discovery_static.so",
                             plugins / "discovery_static.so");
  std::filesystem::copy_file(testing::BuildDir() / "test-plugins" / "recording_handler.so",
                             plugins / "recording_handler.so");
  const std::filesystem::path deliveries = dir / "deliveries.txt";
  const std::filesystem::path db = dir / "t.db";
  ASSERT_TRUE(ctl.SchemaApply(SqliteConnection(db)));
  {
    SqliteFile file(db);
    file.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
              "INSERT INTO outbox (topic, payload, created_at) SELECT 'fixture.record', 'm', i "
              "FROM n");
  }
  const nlohmann::json config{
      {"plugin_dir", plugins.string()},
      {"discovery",
       {{"plugin", "static"},
        {"config",
         {{"databases", nlohmann::json::array({{{"identifier", "t1"},
                                                {"connection_string", SqliteConnection(db)}}})}}}}},
      {"dispatch",
       {{"poll_interval", "10ms"},
        {"workers", 1},
        {"batch_size", 50},
        {"lease", "1h"},
        {"shutdown_grace", "0s"}}},
      // The first delivery holds its worker for a minute: far longer than the grace.
      {"handlers",
       {{{"plugin", "recording_handler"},
         {"config", {{"file", deliveries.string()}, {"delay_us", 60000000}}}}}}};
  std::unique_ptr<Process> p = testing::StartOutboxd(dir, testing::WriteConfig(dir, config));
  ASSERT_TRUE(p->ok()) << p->error();
  ASSERT_TRUE(testing::Eventually([&] { return !testing::ReadText(deliveries).empty(); }, kWait))
      << p->StderrTail();
  ASSERT_TRUE(p->Signal(SIGTERM));
  std::optional<int> code = p->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << p->StderrTail();
  EXPECT_EQ(*code, 1) << p->StderrTail();

  SqliteFile file(db);
  EXPECT_EQ(file.Scalar("SELECT COUNT(*) FROM outbox WHERE status = 1"), 1)
      << "only the message in its handler stays claimed";
  EXPECT_EQ(file.Scalar("SELECT COUNT(*) FROM outbox WHERE status = 0 AND attempts = 0 AND "
                        "owner_token IS NULL"),
            2)
      << "the two unstarted messages are released without an attempt" << p->StderrTail();
  EXPECT_EQ(testing::ReadDeliveries(deliveries).size(), 1u);
}

}  // namespace
}  // namespace outboxd
