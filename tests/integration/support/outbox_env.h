// Shared pieces of the outboxd end-to-end tests (header-only, see process.h):
//  - where the built binaries, plugins and fixture scripts are;
//  - outboxctl wrappers (schema apply, enqueue, stats), so tests drive tenant databases the way an
//    operator or producer does;
//  - SqliteFile: a direct Poco SQLite session for what outboxctl does not expose (a Customers
//    table in a global database, per-row checks, a producer's bulk INSERT, holding a lock);
//  - the delivery log written by fixtures/record_delivery.sh (one line per handled message).
#ifndef OUTBOXD_TESTS_INTEGRATION_SUPPORT_OUTBOX_ENV_H_
#define OUTBOXD_TESTS_INTEGRATION_SUPPORT_OUTBOX_ENV_H_

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "integration/support/process.h"
#include "store/outbox_message.h"
#include "support/temp_dir.h"

namespace outboxd::testing {

inline std::filesystem::path OutboxdBinary() { return BuildDir() / "bin" / "outboxd"; }
inline std::filesystem::path OutboxctlBinary() { return BuildDir() / "bin" / "outboxctl"; }
inline std::filesystem::path PluginDir() { return BuildDir() / "plugins"; }

// tests/integration/fixtures/<name>: under $OBX_SOURCE_DIR when that is set, else next to this
// header's source location (gtest_discover_tests currently hands only the first entry of its
// ENVIRONMENT list, OBX_BUILD_DIR, to ctest).
inline std::filesystem::path FixturePath(const std::string& name) {
  const std::filesystem::path from_env = SourceDir();
  if (!from_env.empty()) return from_env / "tests" / "integration" / "fixtures" / name;
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "fixtures" / name;
}

// Appends "$OUTBOX_TENANT $OUTBOX_MESSAGE_ID $$" to the file named by its first argument.
inline std::filesystem::path RecordDeliveryScript() { return FixturePath("record_delivery.sh"); }

// gtest ASSERT helper: every binary and plugin an end-to-end test needs is built.
inline ::testing::AssertionResult BinariesBuilt() {
  for (const std::filesystem::path& p :
       {OutboxdBinary(), OutboxctlBinary(), PluginDir() / "discovery_sql.so",
        PluginDir() / "discovery_static.so", PluginDir() / "handler_exec.so",
        PluginDir() / "handler_log.so", RecordDeliveryScript()}) {
    if (!std::filesystem::exists(p)) {
      return ::testing::AssertionFailure()
             << p
             << " is missing: build outboxd, outboxctl and the plugins before "
                "integration_tests (OBX_BUILD_DIR / OBX_SOURCE_DIR must point at the trees)";
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::string SqliteConnection(const std::filesystem::path& db) {
  return "sqlite:" + db.string();
}

// ---- outboxctl --------------------------------------------------------------------------------

class Outboxctl {
 public:
  explicit Outboxctl(std::filesystem::path scratch_dir) : scratch_(std::move(scratch_dir)) {}

  RunResult Run(const std::vector<std::string>& args) const {
    return RunProgram(OutboxctlBinary(), args, scratch_);
  }

  // Creates the database file and its outbox table.
  ::testing::AssertionResult SchemaApply(const std::string& connection) const {
    RunResult r = Run({"schema", "apply", "--connection", connection});
    if (r.exit_code != 0) {
      return ::testing::AssertionFailure() << "outboxctl schema apply " << connection << " exited "
                                           << r.exit_code << ": " << r.err;
    }
    return ::testing::AssertionSuccess();
  }

  // The new message id, or "" (with a test failure recorded) when outboxctl failed.
  std::string Enqueue(const std::string& connection, const std::string& topic,
                      const std::string& payload) const {
    RunResult r =
        Run({"enqueue", "--connection", connection, "--topic", topic, "--payload", payload});
    std::vector<std::string> lines = SplitLines(r.out);
    if (r.exit_code != 0 || lines.size() != 1 || lines[0].empty()) {
      ADD_FAILURE() << "outboxctl enqueue " << connection << " exited " << r.exit_code
                    << " stdout=" << r.out << " stderr=" << r.err;
      return "";
    }
    return lines[0];
  }

  std::vector<std::string> EnqueueMany(const std::string& connection, const std::string& topic,
                                       int n,
                                       const std::string& payload_prefix = "payload-") const {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i)
      ids.push_back(Enqueue(connection, topic, payload_prefix + std::to_string(i)));
    return ids;
  }

  // Parsed `outboxctl stats`, or nullopt when it failed (e.g. the file is missing).
  std::optional<StoreStats> Stats(const std::string& connection) const {
    RunResult r = Run({"stats", "--connection", connection});
    if (r.exit_code != 0) return std::nullopt;
    try {
      nlohmann::json j = nlohmann::json::parse(r.out);
      StoreStats s;
      s.ready = j.at("ready").get<int64_t>();
      s.in_progress = j.at("in_progress").get<int64_t>();
      s.done = j.at("done").get<int64_t>();
      s.failed = j.at("failed").get<int64_t>();
      return s;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "outboxctl stats printed unparsable output '" << r.out << "': " << e.what();
      return std::nullopt;
    }
  }

  // Polls stats until done == `done` (and nothing ready or in progress when `settled`).
  bool WaitDone(const std::string& connection, int64_t done, milliseconds timeout,
                bool settled = true) const {
    return Eventually(
        [&] {
          std::optional<StoreStats> s = Stats(connection);
          return s && s->done == done && (!settled || (s->ready == 0 && s->in_progress == 0));
        },
        timeout, milliseconds(50));
  }

 private:
  std::filesystem::path scratch_;
};

inline std::string Describe(const std::optional<StoreStats>& s) {
  if (!s) return "<stats failed>";
  return "{ready " + std::to_string(s->ready) + ", in_progress " + std::to_string(s->in_progress) +
         ", done " + std::to_string(s->done) + ", failed " + std::to_string(s->failed) + "}";
}

// ---- direct SQLite access ---------------------------------------------------------------------

// One Poco SQLite session on a file (created when missing), with a busy timeout so that the test's
// writes wait for outboxd's readers instead of failing.
class SqliteFile {
 public:
  explicit SqliteFile(const std::filesystem::path& path, int busy_timeout_ms = 5000) {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
    session_ = std::make_unique<Poco::Data::Session>("SQLite", path.string());
    Exec("PRAGMA busy_timeout = " + std::to_string(busy_timeout_ms));
  }

  void Exec(const std::string& sql) {
    Poco::Data::Statement st(*session_);
    st << sql;
    st.execute();
  }

  // Column 0 of every row, as text ("" for NULL).
  std::vector<std::string> Column(const std::string& sql) {
    Poco::Data::Statement st(*session_);
    st << sql;
    st.execute();
    std::vector<std::string> out;
    Poco::Data::RecordSet rs(st);
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      Poco::Dynamic::Var v = rs.value(0);
      out.push_back(v.isEmpty() ? std::string() : v.convert<std::string>());
    }
    return out;
  }

  // Rows as vectors of text.
  std::vector<std::vector<std::string>> Rows(const std::string& sql) {
    Poco::Data::Statement st(*session_);
    st << sql;
    st.execute();
    std::vector<std::vector<std::string>> out;
    Poco::Data::RecordSet rs(st);
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      std::vector<std::string> row;
      for (size_t c = 0; c < rs.columnCount(); ++c) {
        Poco::Dynamic::Var v = rs.value(c);
        row.push_back(v.isEmpty() ? std::string() : v.convert<std::string>());
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  int64_t Scalar(const std::string& sql) {
    std::vector<std::string> c = Column(sql);
    return c.empty() || c[0].empty() ? 0 : std::stoll(c[0]);
  }

  Poco::Data::Session& session() { return *session_; }

 private:
  std::unique_ptr<Poco::Data::Session> session_;
};

// Creates <global.db> with the seed's Customers table.
inline void CreateCustomersTable(const std::filesystem::path& global_db) {
  SqliteFile db(global_db);
  db.Exec(
      "CREATE TABLE Customers(CustomerId TEXT PRIMARY KEY, CustomerName TEXT, "
      "ConnectionString TEXT, IsActive INTEGER DEFAULT 1)");
}

inline void AddCustomer(const std::filesystem::path& global_db, const std::string& id,
                        const std::string& name, const std::string& connection) {
  SqliteFile db(global_db);
  db.Exec("INSERT INTO Customers(CustomerId, CustomerName, ConnectionString, IsActive) VALUES ('" +
          id + "', '" + name + "', '" + connection + "', 1)");
}

// ---- the delivery log of fixtures/record_delivery.sh ------------------------------------------

struct Delivery {
  std::string tenant;
  std::string message_id;
  std::string pid;  // of the shell that ran for it
};

inline std::vector<Delivery> ReadDeliveries(const std::filesystem::path& file) {
  std::vector<Delivery> out;
  for (const std::string& line : SplitLines(ReadText(file))) {
    std::istringstream in(line);
    Delivery d;
    in >> d.tenant >> d.message_id >> d.pid;
    out.push_back(d);
  }
  return out;
}

// Every message of `expected` (message id -> tenant that must deliver it) in `delivered` exactly
// once, from its own tenant, and nothing else.
inline void ExpectEachDeliveredOnceByItsTenant(const std::vector<Delivery>& delivered,
                                               const std::map<std::string, std::string>& expected) {
  std::map<std::string, int> times;
  for (const Delivery& d : delivered) {
    ++times[d.message_id];
    auto it = expected.find(d.message_id);
    if (it == expected.end()) {
      ADD_FAILURE() << "unexpected delivery of " << d.message_id << " for " << d.tenant;
    } else {
      EXPECT_EQ(d.tenant, it->second) << d.message_id;
    }
  }
  EXPECT_EQ(delivered.size(), expected.size());
  for (const auto& [id, tenant] : expected) {
    EXPECT_EQ(times[id], 1) << "message " << id << " of " << tenant;
  }
}

// The exec handler entry that runs record_delivery.sh for `topics`, appending to `out_file`.
inline nlohmann::json RecordingExecHandler(const std::vector<std::string>& topics,
                                           const std::filesystem::path& out_file) {
  return {{"plugin", "exec"},
          {"topics", topics},
          {"config",
           {{"command", {"/bin/sh", RecordDeliveryScript().string(), out_file.string()}},
            {"timeout", "30s"}}}};
}

// Writes `config` as <dir>/<name> and returns the path.
inline std::filesystem::path WriteConfig(const TempDir& dir, const nlohmann::json& config,
                                         const std::string& name = "outboxd.json") {
  return dir.WriteFile(name, config.dump(2));
}

// Starts `outboxd --config <config> [--drain]`, logs in <dir>/<name>.err.
inline std::unique_ptr<Process> StartOutboxd(const TempDir& dir,
                                             const std::filesystem::path& config,
                                             const std::string& name = "outboxd",
                                             bool drain = false) {
  Process::Options options;
  options.args = {"--config", config.string()};
  if (drain) options.args.push_back("--drain");
  options.log_dir = dir.path();
  options.name = name;
  return Process::Start(OutboxdBinary(), options);
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_INTEGRATION_SUPPORT_OUTBOX_ENV_H_
