// outboxd with bad input, end to end with the real binaries: broken configuration files, a plugin
// folder with junk in it, a tenant database that is missing or locked, a discovery query that
// starts failing, malformed outbox rows, and a connection string with a password. In each case
// outboxd must say what is wrong in one place and keep serving everything that is not affected.
#include <Poco/Exception.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/hostile_connections.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::Eventually;
using testing::Outboxctl;
using testing::Process;
using testing::RunResult;
using testing::SplitLines;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr milliseconds kWait{15000};

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::BinariesBuilt()); }

  std::string Conn(const std::string& file) const { return SqliteConnection(dir_ / file); }

  // A tenant database with `n` email.send messages.
  void CreateTenant(const std::string& file, int n) {
    ASSERT_TRUE(ctl_.SchemaApply(Conn(file)));
    for (const std::string& id : ctl_.EnqueueMany(Conn(file), "email.send", n)) {
      ASSERT_FALSE(id.empty());
    }
  }

  static nlohmann::json StaticDatabases(
      const std::vector<std::pair<std::string, std::string>>& tenants) {
    nlohmann::json databases = nlohmann::json::array();
    for (const auto& [id, connection] : tenants)
      databases.push_back({{"identifier", id}, {"connection_string", connection}});
    return {{"plugin", "static"}, {"config", {{"databases", databases}}}};
  }

  // A config that routes email.send to the log handler, with quick polling.
  nlohmann::json BaseConfig(nlohmann::json discovery) const {
    return {
        {"plugin_dir", testing::PluginDir().string()},
        {"discovery", std::move(discovery)},
        {"dispatch", {{"poll_interval", "20ms"}, {"max_poll_interval", "100ms"}, {"workers", 2}}},
        {"handlers", {{{"plugin", "log"}, {"topics", {"email.send"}}}}}};
  }

  // Runs outboxd with `config_text` as the file content, to completion.
  RunResult RunWithConfigText(const std::string& config_text) {
    fs::path config = dir_.WriteFile("config.json", config_text);
    return testing::RunProgram(testing::OutboxdBinary(), {"--config", config.string()},
                               dir_.path());
  }

  std::unique_ptr<Process> Start(const nlohmann::json& config, bool drain = false) {
    return testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config), "outboxd", drain);
  }

  // SIGTERM, then expect a clean exit.
  static void StopCleanly(Process* p) {
    ASSERT_TRUE(p->Signal(SIGTERM));
    std::optional<int> code = p->WaitExit(kWait);
    ASSERT_TRUE(code.has_value()) << "still running after SIGTERM" << p->StderrTail();
    EXPECT_EQ(*code, 0) << p->StderrTail();
  }

  bool WaitDone(const std::string& file, int64_t done) const {
    return ctl_.WaitDone(Conn(file), done, kWait);
  }
  std::string StatsOf(const std::string& file) const {
    return testing::Describe(ctl_.Stats(Conn(file)));
  }

  TempDir dir_;
  Outboxctl ctl_{dir_.path()};
};

// ---- (a) configuration and wiring errors: exit 2, one line naming the problem ------------------

TEST_F(BadInputTest, MalformedConfigJsonExits2WithLineAndColumn) {
  RunResult r =
      RunWithConfigText("{\"plugin_dir\": \"plugins\",\n  \"discovery\" {\"plugin\": \"static\"}}");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("config.json"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("line 2, column"), std::string::npos) << lines[0];
  EXPECT_EQ(r.out, "");
}

TEST_F(BadInputTest, UnknownConfigKeyExits2NamingTheKey) {
  RunResult r = RunWithConfigText(
      R"({"plugin_dir": "plugins", "discovery": {"plugin": "static", "refrsh_interval": "1s"}})");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("discovery.refrsh_interval"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("unknown key"), std::string::npos) << lines[0];
}

TEST_F(BadInputTest, UnknownDiscoveryPluginExits2NamingIt) {
  nlohmann::json config = BaseConfig({{"plugin", "no_such_discovery"}});
  RunResult r = RunWithConfigText(config.dump());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  // Plugin loading logs come first; the error is the last line, alone.
  EXPECT_EQ(testing::CountOccurrences(r.err, "no_such_discovery"), 1) << r.err;
  EXPECT_NE(lines.back().find("discovery.plugin"), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("'no_such_discovery'"), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("(discovery plugins loaded: 'sql', 'static')"), std::string::npos)
      << lines.back();
}

TEST_F(BadInputTest, MissingPluginDirExits2NamingIt) {
  nlohmann::json config = BaseConfig(StaticDatabases({}));
  config["plugin_dir"] = (dir_ / "no-such-plugins").string();
  RunResult r = RunWithConfigText(config.dump());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("outboxd: plugin_dir: ", 0), 0u) << lines.back();
  EXPECT_NE(lines.back().find("no-such-plugins"), std::string::npos) << lines.back();
}

TEST_F(BadInputTest, StagingDirThatCannotBeCreatedExits2NamingIt) {
  nlohmann::json config = BaseConfig(StaticDatabases({}));
  dir_.WriteFile("a-file", "x");
  config["staging_dir"] = (dir_ / "a-file" / "staging").string();  // parent is a file
  RunResult r = RunWithConfigText(config.dump());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("outboxd: staging_dir '", 0), 0u) << lines.back();
}

TEST_F(BadInputTest, OutboxctlConfigErrorsExit2NamingTheKey) {
  nlohmann::json config = BaseConfig({{"plugin", "no_such_discovery"}});
  fs::path file = testing::WriteConfig(dir_, config);
  RunResult r = ctl_.Run({"stats", "--config", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("outboxctl: discovery.plugin: no plugin named 'no_such_discovery'",
                               0),
            0u)
      << r.err;
  r = ctl_.Run({"stats", "--config", (dir_ / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("outboxctl: config: ", 0), 0u) << r.err;
}

TEST_F(BadInputTest, UnknownHandlerPluginExits2NamingIt) {
  nlohmann::json config = BaseConfig(StaticDatabases({}));
  config["handlers"].push_back({{"plugin", "no_such_handler"}, {"topics", {"sms.send"}}});
  RunResult r = RunWithConfigText(config.dump());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("handlers[1].plugin"), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("'no_such_handler'"), std::string::npos) << lines.back();
}

// ---- (b) junk in the plugin folder is rejected file by file; the rest works -------------------

TEST_F(BadInputTest, GarbagePluginFilesAreRejectedOneLineEachAndDeliveryContinues) {
  const fs::path plugins = dir_ / "plugins";
  fs::create_directories(plugins);
  for (const char* name :
       {"discovery_sql.so", "discovery_static.so", "handler_exec.so", "handler_log.so"})
    fs::copy_file(testing::PluginDir() / name, plugins / name);
  dir_.WriteFile("plugins/garbage.so", "this is not a shared object\n");
  dir_.WriteFile("plugins/empty.so", "");
  dir_.WriteFile("plugins/.hidden.so", "a dot-file: never even looked at\n");
  dir_.WriteFile("plugins/README.txt", "not a plugin name\n");
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 3));

  nlohmann::json config = BaseConfig(StaticDatabases({{"customer-001", Conn("c1.db")}}));
  config["plugin_dir"] = plugins.string();
  std::unique_ptr<Process> outboxd = Start(config, /*drain=*/true);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
  EXPECT_EQ(*code, 0) << outboxd->StderrTail();

  const std::string err = outboxd->Stderr();
  EXPECT_EQ(testing::CountOccurrences(err, "garbage.so"), 1) << err;
  EXPECT_EQ(testing::CountOccurrences(err, "plugin 'garbage.so' rejected"), 1) << err;
  EXPECT_EQ(testing::CountOccurrences(err, "empty.so"), 1) << err;
  EXPECT_EQ(testing::CountOccurrences(err, "plugin 'empty.so' rejected"), 1) << err;
  EXPECT_EQ(testing::CountOccurrences(err, ".hidden.so"), 0) << err;
  EXPECT_EQ(testing::CountOccurrences(err, "README.txt"), 0) << err;
  EXPECT_EQ(testing::CountOccurrences(err, ": 4 loaded, 2 rejected"), 1) << err;
  EXPECT_EQ(testing::CountOccurrences(err, "message tenant=customer-001 topic=email.send"), 3)
      << err;
  std::optional<StoreStats> s = ctl_.Stats(Conn("c1.db"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->done, 3) << testing::Describe(s);
}

// ---- (c) a tenant whose database file does not exist (yet) ------------------------------------

TEST_F(BadInputTest, MissingTenantDatabaseIsReportedAndPickedUpOnceItExists) {
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 3));
  nlohmann::json config = BaseConfig(
      StaticDatabases({{"customer-001", Conn("c1.db")}, {"customer-002", Conn("c2.db")}}));
  std::unique_ptr<Process> outboxd = Start(config);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();

  EXPECT_TRUE(WaitDone("c1.db", 3)) << StatsOf("c1.db") << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->WaitForLog("Outbox database 'customer-002' unavailable", kWait))
      << outboxd->StderrTail();
  EXPECT_FALSE(fs::exists(dir_ / "c2.db")) << "outboxd must not create a tenant database";

  // The tenant's database appears later: no restart needed (the store is retried with back-off).
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c2.db", 2));
  EXPECT_TRUE(WaitDone("c2.db", 2)) << StatsOf("c2.db") << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("Outbox database 'customer-002' is available again", kWait))
      << outboxd->StderrTail();
  StopCleanly(outboxd.get());
}

// ---- (d) a tenant locked by another writer ----------------------------------------------------

TEST_F(BadInputTest, LockedTenantDoesNotBlockOthersAndIsServedOnceReleased) {
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 3));
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c2.db", 2));
  auto lock = std::make_unique<SqliteFile>(dir_ / "c2.db");
  lock->Exec("BEGIN EXCLUSIVE");

  nlohmann::json config = BaseConfig(
      StaticDatabases({{"customer-001", Conn("c1.db")}, {"customer-002", Conn("c2.db")}}));
  config["stores"] = {{"busy_timeout", "100ms"}};
  std::unique_ptr<Process> outboxd = Start(config);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();

  EXPECT_TRUE(WaitDone("c1.db", 3)) << StatsOf("c1.db") << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->WaitForLog("Outbox database 'customer-002' unavailable", kWait))
      << outboxd->StderrTail();
  {
    // Still untouched while the lock is held (WAL: reading it is fine).
    std::optional<StoreStats> s = ctl_.Stats(Conn("c2.db"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->ready, 2) << testing::Describe(s);
    EXPECT_EQ(s->done, 0) << testing::Describe(s);
  }

  lock->Exec("ROLLBACK");
  lock.reset();
  EXPECT_TRUE(WaitDone("c2.db", 2)) << StatsOf("c2.db") << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("Outbox database 'customer-002' is available again", kWait))
      << outboxd->StderrTail();
  StopCleanly(outboxd.get());
}

// Tenant paths that are a directory, or whose file another process holds locked for good
// (issue 14, findings 2 and 11): each is reported unavailable, while the healthy tenant keeps
// delivering a stream of messages enqueued after start, with two workers; SIGTERM still exits 0.
// `outboxctl stats` on the directory answers at once with an error naming the path.
TEST_F(BadInputTest, BrokenAndLockedTenantPathsDoNotStallTheOthers) {
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 2));
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c3.db", 2));
  fs::create_directory(dir_ / "c2.db");
  auto lock = std::make_unique<SqliteFile>(dir_ / "c3.db");
  lock->Exec("BEGIN EXCLUSIVE");

  nlohmann::json config = BaseConfig(StaticDatabases({{"customer-001", Conn("c1.db")},
                                                      {"customer-002", Conn("c2.db")},
                                                      {"customer-003", Conn("c3.db")}}));
  config["stores"] = {{"busy_timeout", "2s"}};
  std::unique_ptr<Process> outboxd = Start(config);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();

  EXPECT_TRUE(WaitDone("c1.db", 2)) << StatsOf("c1.db") << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->WaitForLog("Outbox database 'customer-002' unavailable", kWait))
      << outboxd->StderrTail();
  EXPECT_TRUE(outboxd->WaitForLog("is a directory", kWait)) << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->WaitForLog("Outbox database 'customer-003' unavailable", kWait))
      << outboxd->StderrTail();
  // Messages enqueued now keep flowing while both broken tenants are retried.
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(ctl_.Enqueue(Conn("c1.db"), "email.send", "later-" + std::to_string(i)).empty());
    EXPECT_TRUE(WaitDone("c1.db", 3 + i)) << StatsOf("c1.db") << outboxd->StderrTail();
  }

  RunResult stats = ctl_.Run({"stats", "--connection", Conn("c2.db")});
  EXPECT_NE(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.err.find((dir_ / "c2.db").string()), std::string::npos) << stats.err;
  EXPECT_NE(stats.err.find("is a directory"), std::string::npos) << stats.err;

  lock->Exec("ROLLBACK");
  lock.reset();
  EXPECT_TRUE(WaitDone("c3.db", 2)) << StatsOf("c3.db") << outboxd->StderrTail();
  StopCleanly(outboxd.get());
}

// `outboxd --drain` promises to exit once no tenant has a message due now or in progress. A tenant
// that is only briefly locked still has ready messages, so draining must not end before they are
// delivered.
TEST_F(BadInputTest, DrainDoesNotEndWhileALockedTenantHasReadyMessages) {
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 1));
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c2.db", 1));
  auto lock = std::make_unique<SqliteFile>(dir_ / "c2.db");
  lock->Exec("BEGIN EXCLUSIVE");
  nlohmann::json config = BaseConfig(
      StaticDatabases({{"customer-001", Conn("c1.db")}, {"customer-002", Conn("c2.db")}}));
  config["stores"] = {{"busy_timeout", "100ms"}};
  std::unique_ptr<Process> outboxd = Start(config, /*drain=*/true);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  EXPECT_TRUE(WaitDone("c1.db", 1)) << StatsOf("c1.db") << outboxd->StderrTail();
  ASSERT_TRUE(outboxd->WaitForLog("Outbox database 'customer-002' unavailable", kWait))
      << outboxd->StderrTail();
  EXPECT_FALSE(outboxd->Exited()) << "drained with a ready message left in customer-002"
                                  << outboxd->StderrTail();
  lock->Exec("ROLLBACK");
  lock.reset();
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
  EXPECT_EQ(*code, 0) << outboxd->StderrTail();
  std::optional<StoreStats> s = ctl_.Stats(Conn("c2.db"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->done, 1) << testing::Describe(s);
}

// ---- (e) a discovery query that starts failing: the current tenant set is kept -----------------

TEST_F(BadInputTest, FailingDiscoveryQueryKeepsTheCurrentTenants) {
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 2));
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c2.db", 2));
  const fs::path global_db = dir_ / "global.db";
  {
    SqliteFile global(global_db);
    global.Exec("CREATE TABLE Tenants(id TEXT PRIMARY KEY, dsn TEXT NOT NULL)");
    global.Exec("INSERT INTO Tenants VALUES ('customer-001', '" + Conn("c1.db") +
                "'), ('customer-002', '" + Conn("c2.db") + "')");
  }
  nlohmann::json config =
      BaseConfig({{"plugin", "sql"},
                  {"config",
                   {{"connection", SqliteConnection(global_db)},
                    {"query", "SELECT id AS identifier, dsn AS connection_string FROM Tenants"}}},
                  {"refresh_interval", "200ms"}});
  std::unique_ptr<Process> outboxd = Start(config);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  EXPECT_TRUE(WaitDone("c1.db", 2)) << StatsOf("c1.db") << outboxd->StderrTail();
  EXPECT_TRUE(WaitDone("c2.db", 2)) << StatsOf("c2.db") << outboxd->StderrTail();

  // The table the query reads goes away while outboxd runs.
  SqliteFile(global_db).Exec("ALTER TABLE Tenants RENAME TO TenantsMoved");
  ASSERT_TRUE(outboxd->WaitForLog("continuing with the current 2 outbox databases", kWait, 2))
      << outboxd->StderrTail();
  const int failed_lines = outboxd->CountInStderr("Discovery through");
  for (const std::string& line : SplitLines(outboxd->Stderr())) {
    if (line.find("Discovery through") == std::string::npos) continue;
    EXPECT_NE(line.find("[error]"), std::string::npos) << line;
    EXPECT_NE(line.find("failed"), std::string::npos) << line;
  }
  EXPECT_GE(failed_lines, 2);

  // Both tenants are still served.
  ASSERT_FALSE(ctl_.Enqueue(Conn("c1.db"), "email.send", "after the failure").empty());
  ASSERT_FALSE(ctl_.Enqueue(Conn("c2.db"), "email.send", "after the failure").empty());
  EXPECT_TRUE(WaitDone("c1.db", 3)) << StatsOf("c1.db") << outboxd->StderrTail();
  EXPECT_TRUE(WaitDone("c2.db", 3)) << StatsOf("c2.db") << outboxd->StderrTail();
  EXPECT_EQ(outboxd->CountInStderr("Outbox database removed"), 0) << outboxd->StderrTail();

  // And discovery recovers once the table is back.
  const int rounds = outboxd->CountInStderr("Discovery complete.");
  SqliteFile(global_db).Exec("ALTER TABLE TenantsMoved RENAME TO Tenants");
  EXPECT_TRUE(
      outboxd->WaitForLog("Discovery complete. Managing 2 outbox databases", kWait, rounds + 1))
      << outboxd->StderrTail();
  StopCleanly(outboxd.get());
}

// ---- (f) malformed rows ------------------------------------------------------------------------

TEST_F(BadInputTest, MalformedRowsAreRejectedByTheTableOrFailedWithAReason) {
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 2));
  {
    // A producer writing due_at as text: the CHECK constraint rejects the INSERT, and a transaction
    // holding it can only be rolled back, so nothing is half-written.
    SqliteFile producer(dir_ / "c1.db");
    const int64_t before = producer.Scalar("SELECT COUNT(*) FROM outbox");
    EXPECT_THROW(producer.Exec("INSERT INTO outbox (topic, payload, due_at) "
                               "VALUES ('email.send', 'bad', 'tomorrow')"),
                 Poco::Exception);
    producer.Exec("BEGIN");
    producer.Exec(
        "INSERT INTO outbox (topic, payload) VALUES ('email.send', 'good, same transaction')");
    EXPECT_THROW(producer.Exec("INSERT INTO outbox (topic, payload, due_at) "
                               "VALUES ('email.send', 'bad', 'tomorrow')"),
                 Poco::Exception);
    producer.Exec("ROLLBACK");
    EXPECT_EQ(producer.Scalar("SELECT COUNT(*) FROM outbox"), before);
    EXPECT_EQ(producer.Scalar(
                  "SELECT COUNT(*) FROM outbox WHERE payload IN ('bad', 'good, same transaction')"),
              0);
  }
  const std::string orphan = ctl_.Enqueue(Conn("c1.db"), "no.such.topic", "nobody listens");
  ASSERT_FALSE(orphan.empty());
  ASSERT_FALSE(ctl_.Enqueue(Conn("c1.db"), "email.send", "after the orphan").empty());

  nlohmann::json config = BaseConfig(StaticDatabases({{"customer-001", Conn("c1.db")}}));
  std::unique_ptr<Process> outboxd = Start(config, /*drain=*/true);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
  EXPECT_EQ(*code, 0) << outboxd->StderrTail();

  std::optional<StoreStats> s = ctl_.Stats(Conn("c1.db"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->done, 3) << testing::Describe(s);
  EXPECT_EQ(s->failed, 1) << testing::Describe(s);
  EXPECT_EQ(s->ready + s->in_progress, 0) << testing::Describe(s);
  SqliteFile db(dir_ / "c1.db");
  auto rows =
      db.Rows("SELECT status, last_error, topic FROM outbox WHERE message_id = '" + orphan + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "3");
  EXPECT_EQ(rows[0][1], "No handler registered for topic 'no.such.topic'");
  EXPECT_EQ(
      outboxd->CountInStderr("No handler registered for topic 'no.such.topic' (message " + orphan),
      1)
      << outboxd->StderrTail();
}

// ---- (g) passwords in connection strings are never logged -------------------------------------
// Every hostile shape of tests/support/hostile_connections.h, through every path the binaries
// have: a tenant's store, the sql discovery's global database, outboxctl, and a handler's error
// text stored in last_error.

void ExpectNoSecretIn(const Process& p, const testing::HostileConnection& c,
                      const std::string& where) {
  testing::ExpectNoSecret(p.Stderr(), c, where + " stderr");
  testing::ExpectNoSecret(p.Stdout(), c, where + " stdout");
}

TEST_F(BadInputTest, PasswordsOfTenantConnectionsAreNeverLogged) {
  ASSERT_NO_FATAL_FAILURE(CreateTenant("c1.db", 2));
  std::vector<std::pair<std::string, std::string>> tenants = {{"customer-001", Conn("c1.db")}};
  const auto& hostile = testing::HostileConnections();
  for (size_t i = 0; i < hostile.size(); ++i) {
    tenants.emplace_back("hostile-" + std::to_string(i), hostile[i].connection);
  }
  nlohmann::json config = BaseConfig(StaticDatabases(tenants));
  config["discovery"]["refresh_interval"] = "200ms";
  config["log_level"] = "debug";
  std::unique_ptr<Process> outboxd = Start(config);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  EXPECT_TRUE(WaitDone("c1.db", 2)) << StatsOf("c1.db") << outboxd->StderrTail();
  // Each bad tenant is named (at least twice: the first discovery and a refresh), without secret.
  for (size_t i = 0; i < hostile.size(); ++i) {
    EXPECT_TRUE(outboxd->WaitForLog("'hostile-" + std::to_string(i) + "'", kWait, 2))
        << hostile[i].name << outboxd->StderrTail();
  }
  StopCleanly(outboxd.get());
  for (const auto& c : hostile) ExpectNoSecretIn(*outboxd, c, "outboxd (tenant)");
}

TEST_F(BadInputTest, PasswordsOfTheDiscoveryConnectionAreNeverLogged) {
  for (const auto& c : testing::HostileConnections()) {
    if (!c.is_uri) continue;  // the sql plugin takes sqlite: or a PostgreSQL URI
    nlohmann::json config = BaseConfig({{"plugin", "sql"},
                                        {"config", {{"connection", c.connection}}},
                                        {"refresh_interval", "200ms"}});
    config["log_level"] = "debug";
    std::unique_ptr<Process> outboxd = Start(config);
    ASSERT_TRUE(outboxd->ok()) << outboxd->error();
    // Either the discovery fails at every refresh (logged, outboxd keeps running) or the plugin
    // refuses the config at startup (exit 2): the password must appear in neither.
    EXPECT_TRUE(Eventually(
        [&] { return outboxd->CountInStderr("Discovery through") >= 2 || outboxd->Exited(); },
        kWait))
        << c.name << outboxd->StderrTail();
    if (!outboxd->Exited()) StopCleanly(outboxd.get());
    EXPECT_NE(outboxd->Stderr().find("sql"), std::string::npos) << c.name << outboxd->Stderr();
    ExpectNoSecretIn(*outboxd, c, "outboxd (sql discovery)");
  }
}

TEST_F(BadInputTest, OutboxctlNeverPrintsAPassword) {
  for (const auto& c : testing::HostileConnections()) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"stats", "--connection", c.connection},
             {"schema", "apply", "--connection", c.connection},
             {"enqueue", "--connection", c.connection, "--topic", "t", "--payload", "p"},
             {"stats", "--connection", c.connection, "--bogus-flag"}}) {
      RunResult r = ctl_.Run(args);
      EXPECT_NE(r.exit_code, 0) << c.name << " " << args[0] << ": " << r.out;
      EXPECT_FALSE(r.err.empty()) << c.name << " " << args[0];
      testing::ExpectNoSecret(r.err, c, "outboxctl " + args[0] + " stderr");
      testing::ExpectNoSecret(r.out, c, "outboxctl " + args[0] + " stdout");
    }
  }
}

TEST_F(BadInputTest, ConnectionStringsInHandlerErrorsAreRedactedInLastError) {
  ASSERT_TRUE(ctl_.SchemaApply(Conn("c1.db")));
  const auto& hostile = testing::HostileConnections();
  for (const auto& c : hostile) {
    ASSERT_FALSE(ctl_.Enqueue(Conn("c1.db"), "report.fail",
                              "cannot connect to \"" + c.connection + "\": connection refused")
                     .empty());
  }
  // A handler that fails for good with its payload on stderr: the error text quotes it.
  nlohmann::json config = BaseConfig(StaticDatabases({{"customer-001", Conn("c1.db")}}));
  config["handlers"].push_back(
      {{"plugin", "exec"},
       {"topics", {"report.fail"}},
       {"config", {{"command", {"/bin/sh", "-c", "cat >&2; exit 65"}}}}});
  std::unique_ptr<Process> outboxd = Start(config, /*drain=*/true);
  ASSERT_TRUE(outboxd->ok()) << outboxd->error();
  std::optional<int> code = outboxd->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << outboxd->StderrTail();
  EXPECT_EQ(*code, 0) << outboxd->StderrTail();

  SqliteFile db(dir_ / "c1.db");
  const auto rows = db.Rows("SELECT status, coalesce(last_error, '') FROM outbox");
  ASSERT_EQ(rows.size(), hostile.size());
  for (const auto& row : rows) {
    EXPECT_EQ(row[0], "3") << row[1];
    EXPECT_NE(row[1].find("exit code 65"), std::string::npos) << row[1];
    for (const auto& c : hostile) testing::ExpectNoSecret(row[1], c, "last_error");
  }
  for (const auto& c : hostile) ExpectNoSecretIn(*outboxd, c, "outboxd (handler)");
}

}  // namespace
}  // namespace outboxd
