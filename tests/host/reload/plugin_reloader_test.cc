// PluginReloader on real fixture plugins in a private folder: replacing a file at the same path
// runs the new code, a generation in use is never destroyed while a call holds it, a touch reloads
// nothing, bad files are rejected while the previous generation keeps serving, removed handlers
// park their topics, insecure files and files outside the allow-list are refused, and the
// discovery plugin follows its file.
#include "reload/plugin_reloader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "host/plugin/plugin_test_support.h"
#include "plugin/plugin_file_policy.h"
#include "support/log_capture.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using plugin_testing::CopyFixture;
using plugin_testing::FixturePath;
using testing::LogCapture;
using testing::TempDir;

class PluginReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugins_ = dir_ / "plugins";
    fs::create_directories(plugins_);
    fs::permissions(plugins_, fs::perms::owner_all, fs::perm_options::replace);  // 0700
    CopyFixture(plugins_, "good_handler");
    CopyFixture(plugins_, "tenant_list_v1", "tenant_list.so");
    options_.plugin_dir = plugins_;
    options_.load.staging_dir = dir_ / "staging";
    options_.settle = std::chrono::milliseconds(0);
    options_.discovery_plugin = "tenant_list";
    options_.discovery_config_json = R"({"first": "sqlite:/x/1.db", "second": "sqlite:/x/2.db"})";
  }

  void Start() {
    reloader_ = std::make_unique<PluginReloader>(options_, &routing_, &discovery_, &reaper_);
    ASSERT_TRUE(reloader_->LoadInitial().ok());
  }

  // What an operator does: write beside (a dot-file), then rename over the plugin.
  void Replace(const std::string& fixture, const std::string& file_name,
               fs::perms perms = fs::perms::owner_read | fs::perms::owner_write |
                                 fs::perms::group_read | fs::perms::others_read) {
    const fs::path temp = plugins_ / ("." + file_name + ".tmp");
    fs::copy_file(FixturePath(fixture), temp, fs::copy_options::overwrite_existing);
    fs::permissions(temp, perms, fs::perm_options::replace);
    fs::rename(temp, plugins_ / file_name);
  }

  void Rescan() { reloader_->Rescan(std::chrono::steady_clock::now()); }

  // The version of the generation serving `topic` (the fixtures answer "version" with it).
  std::string Version(const std::string& topic = "fixture.good") {
    const MessageHandler* handler = routing_.Current()->Find(topic);
    if (handler == nullptr) return "<none>";
    return Ask(*handler);
  }
  static std::string Ask(const MessageHandler& handler) {
    OutboxMessage m;
    m.id = 1;
    m.message_id = "m-1";
    m.topic = "fixture.good";
    m.payload = "version";
    return handler.Handle(m, "t", std::chrono::steady_clock::time_point::max()).error;
  }

  TempDir dir_;
  fs::path plugins_;
  PluginReloaderOptions options_;
  GenerationReaper reaper_;  // outlives routing_ and reloader_
  RoutingState routing_;
  SwitchableDiscoverySource discovery_;
  std::unique_ptr<PluginReloader> reloader_;
};

TEST_F(PluginReloaderTest, SamePathReloadedAfterReplaceRunsTheNewCode) {
  LogCapture log;
  Start();
  EXPECT_EQ(Version(), "1.0.0");
  const uint64_t first = reloader_->LiveFromFile("good_handler.so")->generation();

  Replace("good_handler_v2", "good_handler.so");
  Rescan();
  EXPECT_EQ(Version(), "2.0.0");
  EXPECT_EQ(Version("fixture.other"), "2.0.0");
  EXPECT_GT(reloader_->LiveFromFile("good_handler.so")->generation(), first);
  EXPECT_EQ(log.Count("replaced by 'good_handler' 2.0.0"), 1);

  // And back. The first generation is not destroyed yet (no Reap since), so glibc would hand back
  // that very object: it is put back into service instead of running its entry point again.
  Replace("good_handler", "good_handler.so");
  Rescan();
  EXPECT_EQ(Version(), "1.0.0");
  EXPECT_EQ(reloader_->LiveFromFile("good_handler.so")->generation(), first);
  EXPECT_EQ(log.Count("putting that generation back into service"), 1);
  reloader_->Reap();

  // Once it is drained and destroyed, the same content loads as a new generation.
  Replace("good_handler_v2", "good_handler.so");
  Rescan();
  EXPECT_EQ(reloader_->Reap(), 0u);
  Replace("good_handler", "good_handler.so");
  Rescan();
  EXPECT_EQ(Version(), "1.0.0");
  EXPECT_GT(reloader_->LiveFromFile("good_handler.so")->generation(), first);
  reloader_->Reap();
}

TEST_F(PluginReloaderTest, GenerationInUseIsNeverDestroyedWhileACallHoldsIt) {
  LogCapture log;
  Start();
  std::weak_ptr<LoadedPlugin> v1 = reloader_->LiveFromFile("good_handler.so");
  std::shared_ptr<const HandlerTable> held = routing_.Current();  // a batch in flight

  Replace("good_handler_v2", "good_handler.so");
  Rescan();
  EXPECT_EQ(reloader_->Reap(), 1u) << "retired but still held: draining";
  ASSERT_FALSE(v1.expired());
  EXPECT_EQ(Ask(*held->Find("fixture.good")), "1.0.0") << "the old generation still runs";
  EXPECT_EQ(Version(), "2.0.0");

  // Workers keep taking snapshots and calling while the control thread swaps generations.
  std::atomic<bool> done{false};
  std::atomic<int> calls{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&] {
      while (!done.load()) {
        std::shared_ptr<const HandlerTable> table = routing_.Current();
        const std::string v = Ask(*table->Find("fixture.good"));
        if (v != "1.0.0" && v != "2.0.0") ADD_FAILURE() << "unexpected answer " << v;
        calls.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 6; ++i) {
    const int before = calls.load();
    Replace(i % 2 == 0 ? "good_handler" : "good_handler_v2", "good_handler.so");
    Rescan();
    reloader_->Reap();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (calls.load() < before + 20 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  done.store(true);
  for (std::thread& t : workers) t.join();
  EXPECT_FALSE(v1.expired()) << "the held table still pins the first generation";
  EXPECT_EQ(Ask(*held->Find("fixture.good")), "1.0.0");

  held.reset();
  EXPECT_EQ(reloader_->Reap(), 0u);
  EXPECT_TRUE(v1.expired()) << "released by the last holder, destroyed by the reaper";
  EXPECT_GE(log.Count("drained"), 1);
}

TEST_F(PluginReloaderTest, TouchReloadsNothing) {
  LogCapture log;
  Start();
  const uint64_t generation = reloader_->LiveFromFile("good_handler.so")->generation();
  const fs::path file = plugins_ / "good_handler.so";
  fs::last_write_time(file, fs::last_write_time(file) + std::chrono::seconds(5));
  Rescan();
  EXPECT_EQ(reloader_->LiveFromFile("good_handler.so")->generation(), generation);
  EXPECT_FALSE(log.Contains("replaced by"));
  EXPECT_FALSE(log.Contains("plugin 'good_handler.so' rejected"));
}

TEST_F(PluginReloaderTest, BrokenReplacementIsRejectedOnceAndThePreviousGenerationKeepsServing) {
  LogCapture log;
  Start();
  dir_.WriteFile("plugins/.good_handler.so.tmp", "not a shared object\n");
  fs::rename(plugins_ / ".good_handler.so.tmp", plugins_ / "good_handler.so");
  Rescan();
  Rescan();
  EXPECT_EQ(Version(), "1.0.0");
  EXPECT_EQ(log.Count("plugin 'good_handler.so' rejected"), 1);
  EXPECT_EQ(log.Count("'good_handler' 1.0.0 (generation"), 1) << "the rejection names who serves";

  // A plugin whose entry point throws, dropped in as a new file, is refused the same way.
  Replace("throwing_entry", "throwing_entry.so");
  Rescan();
  EXPECT_EQ(log.Count("plugin 'throwing_entry.so' rejected"), 1);
  // Two files with one topic: the newcomer is refused, the first keeps it.
  Replace("good_handler_v2", "copy_of_good.so");
  Rescan();
  EXPECT_EQ(log.Count("plugin 'copy_of_good.so' rejected: duplicate plugin name 'good_handler'"),
            1);
  EXPECT_EQ(Version(), "1.0.0");
}

TEST_F(PluginReloaderTest, NewPluginClaimingALiveTopicIsRejectedAndTheOwnerKeepsIt) {
  fs::remove(plugins_ / "good_handler.so");
  CopyFixture(plugins_, "good_c_handler");
  HandlerConfig c_handler;
  c_handler.plugin = "good_c_handler";
  c_handler.topics = {"fixture.good"};
  options_.handlers = {c_handler};
  LogCapture log;
  Start();
  const MessageHandler* owner = routing_.Current()->Find("fixture.good");
  ASSERT_NE(owner, nullptr);
  EXPECT_NE(owner->Describe().find("good_c_handler"), std::string::npos);

  Replace("good_handler", "good_handler.so");  // declares fixture.good too
  Rescan();
  EXPECT_EQ(log.Count("plugin 'good_handler.so' rejected: handlers: topic 'fixture.good' is "
                      "claimed by both"),
            1);
  EXPECT_EQ(routing_.Current()->Find("fixture.good"), owner);
  EXPECT_EQ(routing_.Current()->Find("fixture.other"), nullptr) << "all or nothing per file";

  // Once the owner goes, the waiting file is wired at the next scan, without a new log storm.
  fs::remove(plugins_ / "good_c_handler.so");
  Rescan();
  EXPECT_EQ(Version(), "1.0.0");
  EXPECT_EQ(log.Count("plugin 'good_handler.so' rejected"), 1);
  reloader_->Reap();
}

TEST_F(PluginReloaderTest, RemovedHandlerParksItsTopicsUntilAHandlerReturns) {
  LogCapture log;
  Start();
  fs::remove(plugins_ / "good_handler.so");
  Rescan();
  std::shared_ptr<const HandlerTable> table = routing_.Current();
  EXPECT_EQ(table->Find("fixture.good"), nullptr);
  EXPECT_TRUE(table->IsParked("fixture.good"));
  EXPECT_TRUE(table->IsParked("FIXTURE.OTHER"));
  EXPECT_EQ(log.Count("Topic 'fixture.good' has no handler since"), 1);
  EXPECT_FALSE(table->IsParked("never.seen"));

  Replace("good_handler_v2", "good_handler.so");
  Rescan();
  EXPECT_EQ(Version(), "2.0.0");
  EXPECT_FALSE(routing_.Current()->IsParked("fixture.good"));
  EXPECT_TRUE(log.Contains("(was parked: its messages are delivered again)"));
}

TEST_F(PluginReloaderTest, InsecureFileIsRefusedUntilItsModeIsFixed) {
  LogCapture log;
  Start();
  Replace("good_handler_v2", "good_handler.so",
          fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
              fs::perms::group_write | fs::perms::others_read);  // 0664
  Rescan();
  EXPECT_EQ(Version(), "1.0.0");
  EXPECT_EQ(log.Count("is writable by group or others (mode 0664)"), 1);
  fs::permissions(plugins_ / "good_handler.so", fs::perms::group_write, fs::perm_options::remove);
  Rescan();
  EXPECT_EQ(Version(), "2.0.0");
}

TEST_F(PluginReloaderTest, InsecureFolderIsRefusedAtStartUnlessAllowed) {
  fs::permissions(plugins_, fs::perms::others_write, fs::perm_options::add);  // 0702
  PluginReloader strict(options_, &routing_, &discovery_, &reaper_);
  Status s = strict.LoadInitial();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("is writable by group or others"), std::string::npos) << s.message();

  LogCapture log;
  options_.allow_insecure = true;
  Start();
  EXPECT_EQ(Version(), "1.0.0");
  EXPECT_TRUE(log.Contains("allow_insecure_plugin_dir is set"));
}

TEST_F(PluginReloaderTest, AllowListRefusesOtherContent) {
  std::string v1_sha;
  ASSERT_TRUE(Sha256OfFile(FixturePath("good_handler"), &v1_sha).ok());
  std::string discovery_sha;
  ASSERT_TRUE(Sha256OfFile(FixturePath("tenant_list_v1"), &discovery_sha).ok());
  options_.load.sha256_allowlist = {v1_sha, discovery_sha};
  LogCapture log;
  Start();
  Replace("good_handler_v2", "good_handler.so");
  Rescan();
  EXPECT_EQ(Version(), "1.0.0");
  EXPECT_EQ(log.Count("is not in plugin_sha256_allowlist"), 1);
}

TEST_F(PluginReloaderTest, FileStillChangingWaitsForTheSettleWindow) {
  options_.settle = std::chrono::hours(1);
  Start();
  Replace("good_handler_v2", "good_handler.so");
  Rescan();
  EXPECT_EQ(Version(), "1.0.0");
  ASSERT_TRUE(reloader_->recheck_at().has_value());
  reloader_->Rescan(*reloader_->recheck_at());
  EXPECT_EQ(Version(), "2.0.0");
}

TEST_F(PluginReloaderTest, DiscoveryFollowsItsFileAndARemovedOneKeepsNoTarget) {
  LogCapture log;
  Start();
  std::vector<TenantLocation> listed;
  ASSERT_TRUE(discovery_.Discover(&listed).ok());
  EXPECT_EQ(listed.size(), 1u);

  Replace("tenant_list_v2", "tenant_list.so");
  Rescan();
  ASSERT_TRUE(discovery_.Discover(&listed).ok());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].identifier, "t2");
  EXPECT_TRUE(log.Contains("Discovery plugin 'tenant_list' 2.0.0"));

  fs::remove(plugins_ / "tenant_list.so");
  Rescan();
  EXPECT_FALSE(discovery_.has_target());
  EXPECT_TRUE(log.Contains("the current tenant set is kept"));
  EXPECT_EQ(Version(), "1.0.0") << "handlers are unaffected";
}

}  // namespace
}  // namespace outboxd

namespace outboxd {
namespace {

TEST_F(PluginReloaderTest, NoPluginNamedListsTheLoadedPluginsOfThatKind) {
  options_.discovery_plugin = "no_such_discovery";
  PluginReloader first(options_, &routing_, &discovery_, &reaper_);
  Status s = first.LoadInitial();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no plugin named 'no_such_discovery'"), std::string::npos);
  EXPECT_NE(s.message().find("(discovery plugins loaded: 'tenant_list')"), std::string::npos)
      << s.message();

  options_.discovery_plugin = "tenant_list";
  HandlerConfig missing;
  missing.plugin = "no_such_handler";
  missing.topics = {"t"};
  options_.handlers = {missing};
  PluginReloader second(options_, &routing_, &discovery_, &reaper_);
  s = second.LoadInitial();
  EXPECT_NE(s.message().find("handlers[0].plugin: no plugin named 'no_such_handler'"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("(handler plugins loaded: 'good_handler')"), std::string::npos)
      << s.message();
}

TEST_F(PluginReloaderTest, ConfigTopicsReplacingDeclaredOnesAreLoggedOnceAtStart) {
  HandlerConfig entry;
  entry.plugin = "good_handler";
  entry.topics = {"custom.topic"};
  options_.handlers = {entry};
  LogCapture log;
  Start();
  EXPECT_EQ(log.Count("handlers[0].topics replaces the topics plugin 'good_handler' declares "
                      "('fixture.good', 'fixture.other'): it receives 'custom.topic'"),
            1);
  EXPECT_NE(routing_.Current()->Find("custom.topic"), nullptr);
  EXPECT_EQ(routing_.Current()->Find("fixture.good"), nullptr);
  Rescan();
  EXPECT_EQ(log.Count("replaces the topics plugin"), 1);
}

TEST_F(PluginReloaderTest, NoHandlerTopicIsRefusedUnderFailUnlessAllowedOrParked) {
  fs::remove(plugins_ / "good_handler.so");
  PluginReloader strict(options_, &routing_, &discovery_, &reaper_);
  Status s = strict.LoadInitial();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("handlers: no handler topic is configured", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("--allow-no-handlers"), std::string::npos) << s.message();

  options_.allow_no_handlers = true;
  PluginReloader allowed(options_, &routing_, &discovery_, &reaper_);
  EXPECT_TRUE(allowed.LoadInitial().ok());
  EXPECT_FALSE(routing_.Current()->IsParked("any.topic"));

  options_.allow_no_handlers = false;
  options_.park_unknown_topics = true;
  PluginReloader parking(options_, &routing_, &discovery_, &reaper_);
  EXPECT_TRUE(parking.LoadInitial().ok());
  EXPECT_TRUE(routing_.Current()->IsParked("any.topic"));
}

TEST_F(PluginReloaderTest, DiscoveryOnlyWiresNoHandler) {
  HandlerConfig missing;
  missing.plugin = "no_such_handler";
  missing.topics = {"t"};
  options_.handlers = {missing};
  options_.discovery_only = true;
  Start();
  EXPECT_EQ(routing_.Current()->size(), 0u);
  std::vector<TenantLocation> found;
  ASSERT_TRUE(discovery_.Discover(&found).ok());
  ASSERT_EQ(found.size(), 1u);  // tenant_list_v1 lists its "first" tenant only
  EXPECT_EQ(found[0].connection_string, "sqlite:/x/1.db");
}

}  // namespace
}  // namespace outboxd
