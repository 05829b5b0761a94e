// Hot reload end to end (issue 4), with the real outboxd binary on SQLite tenants:
//  - under a steady stream of messages, a handler .so is replaced by new versions several times
//    (write beside, then rename), a second handler is added, the first is removed and restored,
//    and a broken file is dropped in: every message is handled exactly once, at its first attempt,
//    by a generation that was live around its claim, none failed, none lost;
//  - the discovery plugin's file is replaced at run time: the tenant set follows at the next
//    refresh (here forced with SIGHUP, which also rescans the folder at once), and a removed
//    discovery plugin leaves the tenant set as it is.
// The fixture handlers (tests/fixtures/versioned_handler.cc) append "<version> <tenant>
// <message_id> <attempt>" to $OBX_FIXTURE_RECORD_FILE for every message they handle.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::Eventually;
using testing::Outboxctl;
using testing::Process;
using testing::SplitLines;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr milliseconds kWait{30000};
constexpr int kWorkers = 4;
constexpr int kBatch = 10;

fs::path TestPlugin(const std::string& name) {
  return testing::BuildDir() / "test-plugins" / (name + ".so");
}

struct Record {
  std::string version;
  std::string tenant;
  std::string message_id;
  int attempt = 0;
};

class HotReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    for (const char* fixture : {"reload_a_v1", "reload_a_v2", "reload_a_v3", "reload_a_v4",
                                "reload_b_v1", "tenant_list_v1", "tenant_list_v2"}) {
      ASSERT_TRUE(fs::exists(TestPlugin(fixture))) << TestPlugin(fixture) << " is not built";
    }
    plugins_ = dir_ / "plugins";
    fs::create_directories(plugins_);
    fs::permissions(plugins_, fs::perms::owner_all | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read |
                                  fs::perms::others_exec,
                    fs::perm_options::replace);  // 0755: what an operator's folder looks like
  }

  std::string Conn(const std::string& file) const { return SqliteConnection(dir_ / file); }

  // The operator's atomic replace: copy beside under a dot-name, then rename over the plugin.
  void Install(const fs::path& from, const std::string& file_name) {
    const fs::path temp = plugins_ / ("." + file_name + ".tmp");
    fs::copy_file(from, temp, fs::copy_options::overwrite_existing);
    fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read,
                    fs::perm_options::replace);
    fs::rename(temp, plugins_ / file_name);
  }

  std::unique_ptr<Process> Start(const nlohmann::json& config) {
    Process::Options options;
    options.args = {"--config", testing::WriteConfig(dir_, config).string()};
    options.env = {"OBX_FIXTURE_RECORD_FILE=" + record_.string()};
    options.log_dir = dir_.path();
    options.name = "outboxd";
    return Process::Start(testing::OutboxdBinary(), options);
  }

  static void StopCleanly(Process* p) {
    ASSERT_TRUE(p->Signal(SIGTERM));
    std::optional<int> code = p->WaitExit(kWait);
    ASSERT_TRUE(code.has_value()) << "still running after SIGTERM" << p->StderrTail();
    EXPECT_EQ(*code, 0) << p->StderrTail();
  }

  std::vector<Record> Records() const {
    std::vector<Record> out;
    for (const std::string& line : SplitLines(testing::ReadText(record_))) {
      std::istringstream in(line);
      Record r;
      in >> r.version >> r.tenant >> r.message_id >> r.attempt;
      out.push_back(r);
    }
    return out;
  }

  // Messages handled by `version` (either handler), so far.
  int HandledBy(const std::string& version) const {
    int n = 0;
    for (const Record& r : Records()) n += r.version == version ? 1 : 0;
    return n;
  }

  bool WaitHandledBy(const std::string& version, int at_least) const {
    return Eventually([&] { return HandledBy(version) >= at_least; }, kWait, milliseconds(50));
  }

  TempDir dir_;
  fs::path plugins_;
  fs::path record_ = dir_ / "record.txt";
  Outboxctl ctl_{dir_.path()};
};

// A producer thread: inserts one message of each of `topics` into each tenant per round, pacing
// itself, until stopped. Producers insert with plain SQL, as an application does.
class Producer {
 public:
  Producer(std::vector<fs::path> dbs, std::vector<std::string> topics)
      : thread_([this, dbs = std::move(dbs), topics = std::move(topics)] {
          std::vector<std::unique_ptr<SqliteFile>> files;
          for (const fs::path& db : dbs) files.push_back(std::make_unique<SqliteFile>(db));
          while (!stop_.load()) {
            for (auto& file : files) {
              for (const std::string& topic : topics) {
                file->Exec("INSERT INTO outbox (topic, payload) VALUES ('" + topic + "', 'p')");
                inserted_.fetch_add(1);
              }
            }
            std::this_thread::sleep_for(milliseconds(4));  // pacing, not waiting
          }
        }) {}
  ~Producer() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int inserted() const { return inserted_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> inserted_{0};
  std::thread thread_;
};

TEST_F(HotReloadTest, ReplaceAddRemoveRestoreAndBrokenFileUnderLoadLoseAndRepeatNothing) {
  ASSERT_TRUE(ctl_.SchemaApply(Conn("c1.db")));
  ASSERT_TRUE(ctl_.SchemaApply(Conn("c2.db")));
  fs::copy_file(testing::PluginDir() / "discovery_static.so", plugins_ / "discovery_static.so");
  Install(TestPlugin("reload_a_v1"), "reload_a.so");
  nlohmann::json databases = nlohmann::json::array(
      {{{"identifier", "c1"}, {"connection_string", Conn("c1.db")}},
       {{"identifier", "c2"}, {"connection_string", Conn("c2.db")}}});
  nlohmann::json config = {
      {"plugin_dir", plugins_.string()},
      {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
      {"dispatch",
       {{"poll_interval", "10ms"}, {"max_poll_interval", "50ms"}, {"workers", kWorkers},
        {"batch_size", kBatch}}}};
  std::unique_ptr<Process> outboxd = Start(config);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  ASSERT_TRUE(outboxd->WaitForLog("Discovery complete", kWait)) << outboxd->StderrTail();

  auto producer_a = std::make_unique<Producer>(
      std::vector<fs::path>{dir_ / "c1.db", dir_ / "c2.db"}, std::vector<std::string>{"reload.a"});
  ASSERT_TRUE(WaitHandledBy("1.0.0", 30)) << outboxd->StderrTail();

  // Two replacements at the same path.
  Install(TestPlugin("reload_a_v2"), "reload_a.so");
  ASSERT_TRUE(outboxd->WaitForLog("replaced by 'reload_a' 2.0.0", kWait)) << outboxd->StderrTail();
  ASSERT_TRUE(WaitHandledBy("2.0.0", 30)) << outboxd->StderrTail();
  Install(TestPlugin("reload_a_v3"), "reload_a.so");
  ASSERT_TRUE(outboxd->WaitForLog("replaced by 'reload_a' 3.0.0", kWait)) << outboxd->StderrTail();
  ASSERT_TRUE(WaitHandledBy("3.0.0", 30)) << outboxd->StderrTail();

  // A second handler appears; its topic starts flowing once it is live.
  Install(TestPlugin("reload_b_v1"), "reload_b.so");
  ASSERT_TRUE(outboxd->WaitForLog("added from reload_b.so", kWait)) << outboxd->StderrTail();
  auto producer_b = std::make_unique<Producer>(
      std::vector<fs::path>{dir_ / "c1.db", dir_ / "c2.db"}, std::vector<std::string>{"reload.b"});

  // The first handler is removed: its topic is parked while messages keep arriving...
  fs::remove(plugins_ / "reload_a.so");
  ASSERT_TRUE(outboxd->WaitForLog("Topic 'reload.a' has no handler since", kWait))
      << outboxd->StderrTail();
  SqliteFile c1(dir_ / "c1.db");
  ASSERT_TRUE(Eventually(
      [&] {
        return c1.Scalar("SELECT count(*) FROM outbox WHERE topic = 'reload.a' AND status IN "
                         "(0, 1)") >= 40;
      },
      kWait, milliseconds(50)))
      << "reload.a messages should pile up, undelivered, while parked" << outboxd->StderrTail();
  EXPECT_EQ(c1.Scalar("SELECT count(*) FROM outbox WHERE topic = 'reload.a' AND attempts > 0"), 0)
      << "parking must not count attempts";
  ASSERT_TRUE(outboxd->Signal(SIGHUP));  // a refresh lists what is parked
  ASSERT_TRUE(outboxd->WaitForLog("Parked topics (no handler loaded): 'reload.a'", kWait))
      << outboxd->StderrTail();

  // ...and is restored (a newer version): the parked messages are delivered.
  Install(TestPlugin("reload_a_v4"), "reload_a.so");
  ASSERT_TRUE(outboxd->WaitForLog("Topic 'reload.a' -> plugin 'reload_a' 4.0.0 (was parked", kWait))
      << outboxd->StderrTail();
  ASSERT_TRUE(WaitHandledBy("4.0.0", 60)) << outboxd->StderrTail();

  // A broken file: rejected with one line, everything keeps flowing.
  dir_.WriteFile("plugins/.broken.so.tmp", "this is not a shared object\n");
  fs::rename(plugins_ / ".broken.so.tmp", plugins_ / "broken.so");
  ASSERT_TRUE(outboxd->WaitForLog("plugin 'broken.so' rejected", kWait)) << outboxd->StderrTail();
  const int handled_before = static_cast<int>(Records().size());
  ASSERT_TRUE(Eventually([&] { return static_cast<int>(Records().size()) >= handled_before + 40; },
                         kWait, milliseconds(50)))
      << outboxd->StderrTail();

  producer_a->Stop();
  producer_b->Stop();
  const int inserted = producer_a->inserted() + producer_b->inserted();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s1 = ctl_.Stats(Conn("c1.db"));
        auto s2 = ctl_.Stats(Conn("c2.db"));
        return s1 && s2 && s1->done + s2->done == inserted && s1->ready + s2->ready == 0 &&
               s1->in_progress + s2->in_progress == 0;
      },
      kWait, milliseconds(50)))
      << testing::Describe(ctl_.Stats(Conn("c1.db"))) << testing::Describe(ctl_.Stats(Conn("c2.db")))
      << " inserted " << inserted << outboxd->StderrTail();
  StopCleanly(outboxd.get());

  // Every message exactly once, at attempt 1, never failed, by the version its topic expects.
  std::map<std::string, std::pair<std::string, int64_t>> rows;  // message_id -> (topic, row id)
  for (const char* tenant : {"c1", "c2"}) {
    SqliteFile db(dir_ / (std::string(tenant) + ".db"));
    EXPECT_EQ(db.Scalar("SELECT count(*) FROM outbox WHERE status <> 2"), 0) << tenant;
    EXPECT_EQ(db.Scalar("SELECT count(*) FROM outbox WHERE attempts <> 0"), 0) << tenant;
    for (const auto& row : db.Rows("SELECT message_id, topic, id FROM outbox")) {
      rows[row[0]] = {row[1], std::stoll(row[2])};
    }
  }
  ASSERT_EQ(static_cast<int>(rows.size()), inserted);
  const std::vector<Record> records = Records();
  std::map<std::string, int> seen;
  std::map<std::string, int> by_version;
  for (const Record& r : records) {
    ++seen[r.message_id];
    EXPECT_EQ(r.attempt, 1) << r.message_id;
    auto row = rows.find(r.message_id);
    ASSERT_NE(row, rows.end()) << "handled an unknown message " << r.message_id;
    const bool b = row->second.first == "reload.b";
    if (b) {
      EXPECT_EQ(r.version, "1.0.0") << "reload.b is only ever served by reload_b 1.0.0";
    } else {
      ++by_version[r.version];
    }
  }
  EXPECT_EQ(records.size(), rows.size()) << "every message handled exactly once";
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  for (const char* v : {"1.0.0", "2.0.0", "3.0.0", "4.0.0"}) {
    EXPECT_GE(by_version[v], 1) << "version " << v << " handled nothing";
  }

  // Within one tenant rows are claimed oldest first, so the version that handled reload.a rows,
  // in row order, only moves forward, except across the rows that concurrent batches claimed
  // under the previous table (at most one claim per worker, each with a look-ahead).
  const std::map<std::string, int> order = {{"1.0.0", 1}, {"2.0.0", 2}, {"3.0.0", 3}, {"4.0.0", 4}};
  for (const char* tenant : {"c1", "c2"}) {
    std::map<int64_t, int> version_by_row;
    for (const Record& r : records) {
      if (r.tenant != tenant || rows[r.message_id].first != "reload.a") continue;
      version_by_row[rows[r.message_id].second] = order.at(r.version);
    }
    std::vector<int> sequence;
    for (const auto& [id, v] : version_by_row) sequence.push_back(v);
    const std::size_t window = 2 * kWorkers * kBatch;
    int high = 0;
    for (std::size_t i = 0; i < sequence.size(); ++i) {
      if (i >= window) high = std::max(high, sequence[i - window]);
      EXPECT_GE(sequence[i], high) << "tenant " << tenant << ": row " << i
                                   << " was handled by a generation retired long before its claim";
    }
  }
  EXPECT_EQ(outboxd->CountInStderr("plugin 'broken.so' rejected"), 1);
  EXPECT_EQ(outboxd->CountInStderr("No handler registered"), 0);
}

TEST_F(HotReloadTest, ReplacedDiscoveryPluginTakesEffectAtTheNextRefreshAndARemovedOneKeepsTheSet) {
  ASSERT_TRUE(ctl_.SchemaApply(Conn("t1.db")));
  ASSERT_TRUE(ctl_.SchemaApply(Conn("t2.db")));
  Install(TestPlugin("tenant_list_v1"), "tenant_list.so");
  Install(TestPlugin("reload_b_v1"), "reload_b.so");
  nlohmann::json config = {
      {"plugin_dir", plugins_.string()},
      {"discovery",
       {{"plugin", "tenant_list"},
        {"config", {{"first", Conn("t1.db")}, {"second", Conn("t2.db")}}},
        {"refresh_interval", "1h"}}},  // only SIGHUP refreshes in this test
      {"dispatch", {{"poll_interval", "10ms"}, {"max_poll_interval", "50ms"}, {"workers", 2}}}};
  std::unique_ptr<Process> outboxd = Start(config);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  ASSERT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 1 outbox databases", kWait))
      << outboxd->StderrTail();
  ASSERT_FALSE(ctl_.Enqueue(Conn("t1.db"), "reload.b", "one").empty());
  ASSERT_FALSE(ctl_.Enqueue(Conn("t2.db"), "reload.b", "two").empty());
  ASSERT_TRUE(ctl_.WaitDone(Conn("t1.db"), 1, kWait)) << outboxd->StderrTail();

  // The new discovery generation is loaded at once (inotify), used at the next refresh.
  Install(TestPlugin("tenant_list_v2"), "tenant_list.so");
  ASSERT_TRUE(outboxd->WaitForLog("Discovery plugin 'tenant_list' 2.0.0", kWait))
      << outboxd->StderrTail();
  EXPECT_EQ(outboxd->CountInStderr("Discovered new outbox database: t2"), 0);
  ASSERT_TRUE(outboxd->Signal(SIGHUP));
  ASSERT_TRUE(outboxd->WaitForLog("Discovered new outbox database: t2", kWait))
      << outboxd->StderrTail();
  EXPECT_TRUE(ctl_.WaitDone(Conn("t2.db"), 1, kWait)) << outboxd->StderrTail();

  // Removed: the tenant set stays as it is, refreshes or not.
  fs::remove(plugins_ / "tenant_list.so");
  ASSERT_TRUE(outboxd->WaitForLog("the current tenant set is kept", kWait))
      << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->Signal(SIGHUP));
  ASSERT_TRUE(outboxd->WaitForLog("Refresh requested", kWait, 2)) << outboxd->StderrTail();
  ASSERT_FALSE(ctl_.Enqueue(Conn("t2.db"), "reload.b", "three").empty());
  EXPECT_TRUE(ctl_.WaitDone(Conn("t2.db"), 2, kWait)) << outboxd->StderrTail();
  EXPECT_EQ(outboxd->CountInStderr("Outbox database removed"), 0);
  StopCleanly(outboxd.get());
}

}  // namespace
}  // namespace outboxd
