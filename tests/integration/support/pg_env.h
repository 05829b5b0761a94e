// PostgreSQL pieces of the outboxd end-to-end tests (header-only, like outbox_env.h):
//  - PgSession: one libpq connection for the test's own SQL (create and drop databases, seed rows,
//    read rows back); every failure is a test failure naming the statement;
//  - WithDatabase / WithPassword: libpq URIs derived from OBX_TEST_PG_URL;
//  - PgDatabases: databases with unique names (several ctest processes share one server) that are
//    dropped WITH (FORCE) when the object goes away;
//  - PgPrivateCluster: a throwaway cluster of the test's own (initdb, a free loopback port, a private
//    socket folder; as root the server runs as the `postgres` user, as in packaging/pg-cluster.sh),
//    for tests that stop the server, count every connection, or need more connections than the
//    shared server allows;
//  - the outbox rows of a PostgreSQL tenant, read directly (StatusCounts).
// The server itself is found through tests/support/postgres_test_server.h (OBX_TEST_PG_URL;
// skip, or fail under OBX_REQUIRE_PG=1).
//
// THREADING: every object here is used from one test thread.
#ifndef OUTBOXD_TESTS_INTEGRATION_SUPPORT_PG_ENV_H_
#define OUTBOXD_TESTS_INTEGRATION_SUPPORT_PG_ENV_H_

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "integration/support/process.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd::testing {

// `url` (a libpq URI) with its database replaced by `database`; query parameters are kept.
inline std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t scheme = url.find("://");
  const size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t query = url.find('?', authority);
  const size_t slash = url.find('/', authority);
  const std::string params = query == std::string::npos ? "" : url.substr(query);
  const size_t end_of_authority =
      slash != std::string::npos && (query == std::string::npos || slash < query)
          ? slash
          : (query == std::string::npos ? url.size() : query);
  return url.substr(0, end_of_authority) + "/" + database + params;
}

// `url` with `password` for its user ("postgresql://user@host" -> "postgresql://user:pw@host").
inline std::string WithPassword(const std::string& url, const std::string& password) {
  const size_t scheme = url.find("://");
  const size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t at = url.find('@', authority);
  if (at == std::string::npos) return url;
  const size_t colon = url.find(':', authority);
  const size_t user_end = colon != std::string::npos && colon < at ? colon : at;
  return url.substr(0, user_end) + ":" + password + url.substr(at);
}

// A name no other test process picks: <prefix>_<pid>_<random>, lower case (unquoted identifiers).
inline std::string UniqueDbName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 100000) + "_" +
         std::to_string(counter++);
}

class PgSession {
 public:
  explicit PgSession(const std::string& url) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      error_ = PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
    } else {
      PQclear(PQexec(conn_, "SET client_min_messages TO warning"));
    }
  }
  ~PgSession() {
    if (conn_ != nullptr) PQfinish(conn_);
  }
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  bool ok() const { return conn_ != nullptr; }
  const std::string& error() const { return error_; }

  // Runs `sql` (one or more statements); false with a test failure when it fails.
  bool Exec(const std::string& sql) {
    if (conn_ == nullptr) {
      ADD_FAILURE() << "no PostgreSQL connection (" << error_ << ") for: " << sql;
      return false;
    }
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    const bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!good) ADD_FAILURE() << "PostgreSQL: " << PQerrorMessage(conn_) << " in: " << sql;
    PQclear(r);
    return good;
  }

  // Runs `sql`, ignoring the outcome (clean-up paths); true when it succeeded.
  bool ExecQuiet(const std::string& sql) {
    if (conn_ == nullptr) return false;
    PGresult* r = PQexec(conn_, sql.c_str());
    const bool good = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return good;
  }

  // Rows as text ("" for NULL); empty with a test failure when the query fails.
  std::vector<std::vector<std::string>> Rows(const std::string& sql) {
    std::vector<std::vector<std::string>> out;
    if (conn_ == nullptr) {
      ADD_FAILURE() << "no PostgreSQL connection (" << error_ << ") for: " << sql;
      return out;
    }
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      ADD_FAILURE() << "PostgreSQL: " << PQerrorMessage(conn_) << " in: " << sql;
    } else {
      for (int i = 0; i < PQntuples(r); ++i) {
        std::vector<std::string> row;
        for (int c = 0; c < PQnfields(r); ++c)
          row.push_back(PQgetisnull(r, i, c) ? std::string() : std::string(PQgetvalue(r, i, c)));
        out.push_back(std::move(row));
      }
    }
    PQclear(r);
    return out;
  }

  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    for (auto& row : Rows(sql)) out.push_back(row.empty() ? std::string() : row[0]);
    return out;
  }

  int64_t Scalar(const std::string& sql) {
    std::vector<std::string> c = Column(sql);
    return c.empty() || c[0].empty() ? 0 : std::stoll(c[0]);
  }

 private:
  PGconn* conn_ = nullptr;
  std::string error_;
};

// Row counts per status of one PostgreSQL outbox table (infra.outbox by default).
struct PgOutboxCounts {
  int64_t ready = 0, in_progress = 0, done = 0, failed = 0;
  int64_t total() const { return ready + in_progress + done + failed; }
};

inline std::optional<PgOutboxCounts> CountOutbox(const std::string& url,
                                                 const std::string& table = "infra.outbox") {
  PgSession s(url);
  if (!s.ok()) return std::nullopt;
  PgOutboxCounts c;
  for (const auto& row : s.Rows("SELECT status, count(*) FROM " + table + " GROUP BY status")) {
    const int64_t n = std::stoll(row[1]);
    switch (std::stoi(row[0])) {
      case 0: c.ready = n; break;
      case 1: c.in_progress = n; break;
      case 2: c.done = n; break;
      case 3: c.failed = n; break;
      default: break;
    }
  }
  return c;
}

inline std::string Describe(const std::optional<PgOutboxCounts>& c) {
  if (!c) return "<unreachable>";
  return "{ready " + std::to_string(c->ready) + ", in_progress " + std::to_string(c->in_progress) +
         ", done " + std::to_string(c->done) + ", failed " + std::to_string(c->failed) + "}";
}

// The outbox table outboxd creates for a PostgreSQL tenant (see
// host/src/store/postgres/postgres_dialect.cc), for tests that seed rows before outboxd first
// connects. outboxd's own schema deploy is idempotent (CREATE ... IF NOT EXISTS) and finds this
// table complete.
inline constexpr const char* kPgOutboxDdl =
    "CREATE SCHEMA IF NOT EXISTS infra; "
    "CREATE TABLE IF NOT EXISTS infra.outbox ("
    " id bigserial PRIMARY KEY,"
    " message_id text NOT NULL DEFAULT gen_random_uuid()::text CHECK (length(message_id) > 0),"
    " topic text NOT NULL CHECK (length(topic) > 0),"
    " payload text NOT NULL,"
    " correlation_id text,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " due_at timestamptz,"
    " status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2, 3)),"
    " attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
    " next_attempt_at timestamptz,"
    " locked_until timestamptz,"
    " owner_token text,"
    " processed_at timestamptz,"
    " processed_by text,"
    " last_error text,"
    " CHECK (status <> 1 OR (owner_token IS NOT NULL AND locked_until IS NOT NULL)));"
    "CREATE INDEX IF NOT EXISTS ix_outbox_claim ON infra.outbox (created_at, id) "
    "WHERE status IN (0, 1);";

// Databases created on the server of `admin_url` under unique names; all dropped (WITH (FORCE):
// a still-running outboxd cannot keep them) when this object goes away.
class PgDatabases {
 public:
  explicit PgDatabases(std::string admin_url) : admin_url_(std::move(admin_url)) {}
  ~PgDatabases() {
    if (names_.empty()) return;
    PgSession admin(admin_url_);
    if (!admin.ok()) return;
    for (const std::string& name : names_)
      admin.ExecQuiet("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }
  PgDatabases(const PgDatabases&) = delete;
  PgDatabases& operator=(const PgDatabases&) = delete;

  // Creates a database named UniqueDbName(prefix) (optionally from `template_db`) and returns its
  // URI, or "" with a test failure.
  std::string Create(const std::string& prefix, const std::string& template_db = "") {
    if (!admin_) admin_ = std::make_unique<PgSession>(admin_url_);
    const std::string name = UniqueDbName(prefix);
    std::string sql = "CREATE DATABASE " + name;
    if (!template_db.empty()) sql += " TEMPLATE " + template_db;
    if (!admin_->Exec(sql)) return "";
    names_.push_back(name);
    return WithDatabase(admin_url_, name);
  }

  // Drops one of ours now (e.g. to simulate a tenant that goes away).
  bool Drop(const std::string& url) {
    for (auto it = names_.begin(); it != names_.end(); ++it) {
      if (WithDatabase(admin_url_, *it) != url) continue;
      if (!admin_) admin_ = std::make_unique<PgSession>(admin_url_);
      bool good = admin_->Exec("DROP DATABASE IF EXISTS " + *it + " WITH (FORCE)");
      names_.erase(it);
      return good;
    }
    ADD_FAILURE() << "not one of this test's databases: " << url;
    return false;
  }

  const std::string& admin_url() const { return admin_url_; }

 private:
  std::string admin_url_;
  std::unique_ptr<PgSession> admin_;
  std::vector<std::string> names_;
};


// A throwaway PostgreSQL cluster owned by one test (as packaging/pg-cluster.sh does it: initdb into
// a private folder as the `postgres` user when running as root, a free loopback port, -k a private
// socket folder, trust authentication, fsync off). Stop() / Start() take the server down and bring
// it back on the same port; the destructor stops it and removes the folder.
class PgPrivateCluster {
 public:
  // `server_options`: extra postgres options ("-c max_connections=700").
  explicit PgPrivateCluster(std::string server_options = "")
      : options_(std::move(server_options)) {
    const char* pg_bin = std::getenv("PG_BIN");
    bin_ = pg_bin != nullptr && *pg_bin != '\0' ? pg_bin : "/usr/lib/postgresql/15/bin";
    std::string pattern = "/tmp/obx-itest-pg-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    RunResult r = Script(
        "chmod 755 \"$D\" && mkdir -p \"$D/data\" \"$D/sock\" && "
        "if [ \"$(id -u)\" -eq 0 ]; then chown -R postgres:postgres \"$D\"; fi && "
        "as_owner \"$B/initdb\" -D \"$D/data\" -U postgres -A trust --no-sync");
    if (r.exit_code != 0) {
      error_ = "initdb failed: " + r.out + r.err;
      return;
    }
    std::random_device rd;
    for (int tries = 0; tries < 8; ++tries) {
      port_ = 20000 + static_cast<int>(rd() % 40000);
      if (Start()) return;
    }
    error_ = "could not start a private PostgreSQL cluster: " + last_start_error_;
    port_ = 0;
  }
  ~PgPrivateCluster() {
    if (dir_.empty()) return;
    if (port_ != 0) Script("as_owner \"$B/pg_ctl\" -D \"$D/data\" -m immediate -w stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PgPrivateCluster(const PgPrivateCluster&) = delete;
  PgPrivateCluster& operator=(const PgPrivateCluster&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::filesystem::path DataDir() const { return dir_ / "data"; }

  // postgresql://postgres[:password]@127.0.0.1:<port>/<database>
  std::string Url(const std::string& database = "postgres", const std::string& password = "") const {
    return "postgresql://postgres" + (password.empty() ? "" : ":" + password) + "@127.0.0.1:" +
           std::to_string(port_) + "/" + database;
  }

  // Starts the server (again) on port(); false with the reason kept for error().
  bool Start() {
    RunResult r = Script("as_owner \"$B/pg_ctl\" -D \"$D/data\" -l \"$D/server.log\" -w -t 60 -o \"-p " +
                         std::to_string(port_) +
                         " -k $D/sock -c listen_addresses=127.0.0.1 -c fsync=off " + options_ +
                         "\" start");
    if (r.exit_code != 0) last_start_error_ = r.out + r.err + ReadText(dir_ / "server.log");
    return r.exit_code == 0;
  }

  // Stops the server (fast shutdown: sessions are terminated); true when it stopped.
  bool Stop() {
    return Script("as_owner \"$B/pg_ctl\" -D \"$D/data\" -m fast -w -t 60 stop").exit_code == 0;
  }

 private:
  RunResult Script(const std::string& body) const {
    const std::string prelude =
        "set -e; D=\"$1\"; B=\"$2\"; "
        "as_owner() { if [ \"$(id -u)\" -eq 0 ]; then runuser -u postgres -- \"$@\"; "
        "else \"$@\"; fi; }; ";
    return RunProgram("/bin/bash", {"-c", prelude + body, "bash", dir_.string(), bin_},
                      std::filesystem::temp_directory_path(), milliseconds(120000));
  }

  std::string options_;
  std::string bin_;
  std::filesystem::path dir_;
  int port_ = 0;
  std::string error_;
  std::string last_start_error_;
};

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_INTEGRATION_SUPPORT_PG_ENV_H_
