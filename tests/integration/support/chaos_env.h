// The rig of the chaos suite (tests/integration/chaos/, issue 14 item 4; header-only like the other
// integration support headers). Every scenario runs against the real outboxd binary on a private
// PostgreSQL cluster of its own (PgPrivateCluster: restarting or exhausting it never disturbs the
// shared server of the other tests), under a steady stream of messages, with a per-message ledger:
//
//  - ChaosRig::Init: a cluster, a non-superuser role `relay` that outboxd connects as (so that the
//    server's superuser_reserved_connections stay for the test's own sessions when a scenario
//    exhausts the connections), and `tenants` databases owned by `relay` with their outbox table;
//  - StartRelay: an outboxd (static discovery of those databases, the recording_handler fixture as
//    the ledger: one O_APPEND line per delivery "<tenant> <message id> <pid> <realtime ms>
//    <attempt>", tests/fixtures/recording_handler.cc);
//  - SteadyProducer: one thread per tenant inserting a message every `produce_every` (as the
//    superuser, application_name=chaos-producer), with message ids of its own
//    ("<tenant>-<seq>"), reconnecting after any failure; an insert whose commit was acknowledged is
//    "acked" (it must exist and be delivered), one whose outcome is unknown is only looked up;
//  - recovery measurements: FirstDeliveryAfter (ledger), WaitBacklogDone (rows created before a
//    moment all done; realtime of the first poll that saw it);
//  - Finish: stops the stream, waits (deadline, no fixed sleep) until every row is done, stops the
//    relays with SIGTERM (exit 0), checks the ledger against the rows and prints the scenario's one
//    summary line:
//      * every acked insert is a row; every row is done (nothing failed, nothing left) and was
//        delivered at least once, for its own tenant; nothing unknown was delivered;
//      * a message delivered more than once was first delivered by a process the test SIGKILLed
//        (ChaosRig::Kill), and redelivered with attempt >= 2; at most workers x batch_size such
//        duplicates per kill (the messages one process can hold under lease at once);
//      * any other duplicate must be one outboxd itself announced ("Could not record the outcomes
//        of N messages ...; they will be delivered again after their lease expires"), and their
//        number is printed: `strict_duplicates` makes any of them a failure.
//
// THREADING: a ChaosRig and its relays belong to the test thread; each SteadyProducer runs one
// thread of its own and is read through its accessors (mutex-guarded).
#ifndef OUTBOXD_TESTS_INTEGRATION_SUPPORT_CHAOS_ENV_H_
#define OUTBOXD_TESTS_INTEGRATION_SUPPORT_CHAOS_ENV_H_

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "integration/support/outbox_env.h"
#include "integration/support/pg_env.h"
#include "integration/support/process.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd::testing {

// CLOCK_REALTIME in ms: the clock of the ledger lines (and of PostgreSQL's now()).
inline int64_t RealtimeMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// One libpq connection of the test that survives the chaos: reconnects on the next call after any
// failure and never records a test failure (a scenario checks the results itself).
class PgProbe {
 public:
  explicit PgProbe(std::string url) : url_(std::move(url)) {}
  ~PgProbe() { Close(); }
  PgProbe(const PgProbe&) = delete;
  PgProbe& operator=(const PgProbe&) = delete;

  // True when `sql` succeeded.
  bool Exec(const std::string& sql) {
    PGresult* r = Run(sql);
    if (r == nullptr) return false;
    const ExecStatusType st = PQresultStatus(r);
    const bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    last_error_ = good ? "" : PQresultErrorMessage(r);
    PQclear(r);
    if (!good && PQstatus(conn_) != CONNECTION_OK) Close();
    return good;
  }

  // Rows as text, or nullopt when the query failed.
  std::optional<std::vector<std::vector<std::string>>> Rows(const std::string& sql) {
    PGresult* r = Run(sql);
    if (r == nullptr) return std::nullopt;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      last_error_ = PQresultErrorMessage(r);
      PQclear(r);
      if (PQstatus(conn_) != CONNECTION_OK) Close();
      return std::nullopt;
    }
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(r); ++c)
        row.push_back(PQgetisnull(r, i, c) ? std::string() : std::string(PQgetvalue(r, i, c)));
      out.push_back(std::move(row));
    }
    PQclear(r);
    return out;
  }

  std::optional<int64_t> Scalar(const std::string& sql) {
    auto rows = Rows(sql);
    if (!rows || rows->empty() || rows->at(0).empty() || rows->at(0)[0].empty()) return std::nullopt;
    return std::stoll(rows->at(0)[0]);
  }

  const std::string& last_error() const { return last_error_; }

  void Close() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

 private:
  PGresult* Run(const std::string& sql) {
    if (conn_ == nullptr) {
      conn_ = PQconnectdb(url_.c_str());
      if (PQstatus(conn_) != CONNECTION_OK) {
        last_error_ = PQerrorMessage(conn_);
        Close();
        return nullptr;
      }
    }
    PGresult* r = PQexec(conn_, sql.c_str());
    if (r == nullptr) {
      last_error_ = PQerrorMessage(conn_);
      Close();
    }
    return r;
  }

  std::string url_;
  PGconn* conn_ = nullptr;
  std::string last_error_;
};

// One ledger line of the recording_handler fixture.
struct LedgerLine {
  std::string tenant;
  std::string message_id;
  int pid = 0;
  int64_t at_ms = 0;
  int attempt = 0;
};

inline std::vector<LedgerLine> ReadLedger(const std::filesystem::path& file) {
  std::vector<LedgerLine> out;
  for (const std::string& line : SplitLines(ReadText(file))) {
    std::istringstream in(line);
    LedgerLine d;
    if (in >> d.tenant >> d.message_id >> d.pid >> d.at_ms >> d.attempt) out.push_back(d);
  }
  return out;
}

// A producer thread for one tenant database: one INSERT per `every`, message id "<tenant>-<seq>".
class SteadyProducer {
 public:
  SteadyProducer(std::string url, std::string tenant, milliseconds every)
      : url_(std::move(url)), tenant_(std::move(tenant)), every_(every) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SteadyProducer() { Stop(); }
  SteadyProducer(const SteadyProducer&) = delete;
  SteadyProducer& operator=(const SteadyProducer&) = delete;

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::vector<std::string> Acked() {
    MutexLock lock(&mu_);
    return acked_;
  }
  int64_t acked_count() {
    MutexLock lock(&mu_);
    return static_cast<int64_t>(acked_.size());
  }
  int64_t failed_count() {
    MutexLock lock(&mu_);
    return failed_;
  }
  const std::string& tenant() const { return tenant_; }

 private:
  void Run() {
    PgProbe db(url_);
    int64_t seq = 0;
    auto next = SteadyClock::now();
    while (!stop_) {
      const std::string id = tenant_ + "-" + std::to_string(++seq);
      const bool ok = db.Exec(
          "INSERT INTO infra.outbox (message_id, topic, payload) VALUES ('" + id +
          "', 'fixture.record', 'chaos " + id + "')");
      {
        MutexLock lock(&mu_);
        if (ok) {
          acked_.push_back(id);
        } else {
          ++failed_;  // not acknowledged: it may or may not exist; Finish looks the rows up
        }
      }
      next += every_;
      const auto now = SteadyClock::now();
      if (next < now) next = now;  // after a blocked insert: no burst to catch up
      std::this_thread::sleep_until(next);
    }
  }

  const std::string url_;
  const std::string tenant_;
  const milliseconds every_;
  std::atomic<bool> stop_{false};
  Mutex mu_;
  std::vector<std::string> acked_ GUARDED_BY(mu_);
  int64_t failed_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// "[ chaos ] " + printf; flushed at once (ctest shows it with --output-on-failure or -V).
template <typename... Args>
void ChaosPrint(const char* format, Args... args) {
  std::printf("[ chaos ] ");
  std::printf(format, args...);
  std::printf("\n");
  std::fflush(stdout);
}

class ChaosRig {
 public:
  struct Options {
    int tenants = 2;
    std::string server_options;  // extra postgres options for the private cluster
    // Kill scenarios: short, so that a killed process's messages come back soon. Others: longer
    // than any disruption, so that no lease runs out while the relays are cut off.
    std::string lease = "2s";
    int workers = 2;
    int batch_size = 10;
    int handler_delay_us = 10000;          // per delivery: keeps batches in flight
    milliseconds produce_every{20};        // per tenant
    bool strict_duplicates = true;  // any duplicate not from a SIGKILL fails the test
  };

  ChaosRig(std::string scenario, Options options)
      : scenario_(std::move(scenario)), options_(std::move(options)) {}
  ~ChaosRig() { StopProducers(); }
  ChaosRig(const ChaosRig&) = delete;
  ChaosRig& operator=(const ChaosRig&) = delete;

  // For a scenario whose premise ("the disruption is shorter than the lease") did not hold on this
  // run: duplicates are then allowed as long as outboxd announced each of them as unrecorded.
  void AllowAnnouncedDuplicates() { options_.strict_duplicates = false; }

  // Everything the scenario needs; a failure names what could not be set up (the tests check
  // OBX_REQUIRE_TEST_POSTGRES first, like every PostgreSQL test).
  ::testing::AssertionResult Init() {
    if (!BinariesBuilt()) return BinariesBuilt();
    for (const char* name : {"discovery_static.so", "recording_handler.so"}) {
      const std::filesystem::path from = std::string(name) == "recording_handler.so"
                                             ? BuildDir() / "test-plugins" / name
                                             : PluginDir() / name;
      if (!std::filesystem::exists(from))
        return ::testing::AssertionFailure() << from << " is not built";
      std::filesystem::create_directories(plugins_);
      std::filesystem::copy_file(from, plugins_ / name,
                                 std::filesystem::copy_options::overwrite_existing);
    }
    cluster_ = std::make_unique<PgPrivateCluster>(options_.server_options);
    if (!cluster_->ok()) return ::testing::AssertionFailure() << cluster_->error();
    PgProbe admin(cluster_->Url());
    if (!admin.Exec("CREATE ROLE relay LOGIN"))
      return ::testing::AssertionFailure() << "CREATE ROLE relay: " << admin.last_error();
    for (int i = 0; i < options_.tenants; ++i) {
      const std::string db = "tenant" + std::to_string(i);
      if (!admin.Exec("CREATE DATABASE " + db + " OWNER relay"))
        return ::testing::AssertionFailure() << "CREATE DATABASE " << db << ": " << admin.last_error();
      PgProbe owner(RelayUrl(i));
      if (!owner.Exec(kPgOutboxDdl))
        return ::testing::AssertionFailure() << "outbox table in " << db << ": " << owner.last_error();
      tenant_names_.push_back("tenant-" + std::to_string(i));
    }
    return ::testing::AssertionSuccess();
  }

  PgPrivateCluster& cluster() { return *cluster_; }
  const Options& options() const { return options_; }
  int tenants() const { return options_.tenants; }
  const std::string& tenant_name(int i) const { return tenant_names_.at(i); }
  std::string TenantDb(int i) const { return "tenant" + std::to_string(i); }
  // outboxd's URI of tenant i (role relay, not a superuser).
  std::string RelayUrl(int i) const {
    return "postgresql://relay@127.0.0.1:" + std::to_string(cluster_->port()) + "/" + TenantDb(i);
  }
  // The test's own URI of tenant i (the superuser: it may use the reserved connection slots).
  std::string AdminUrl(int i, const std::string& application_name = "chaos-test") const {
    return cluster_->Url(TenantDb(i)) + "?application_name=" + application_name +
           "&connect_timeout=2";
  }
  std::string ServerAdminUrl() const {
    return cluster_->Url() + "?application_name=chaos-test&connect_timeout=2";
  }
  const std::filesystem::path& ledger() const { return ledger_; }
  const std::string& burst_prefix() const { return last_burst_prefix_; }

  // Starts an outboxd with worker id `worker_id` and waits until it manages every tenant. Its log
  // is <dir>/outboxd-<worker_id>-<n>.err (n counts the starts of that worker id).
  std::unique_ptr<Process> StartRelay(const std::string& worker_id) {
    nlohmann::json databases = nlohmann::json::array();
    for (int i = 0; i < options_.tenants; ++i)
      databases.push_back({{"identifier", tenant_names_[i]}, {"connection_string", RelayUrl(i)}});
    const nlohmann::json config = {
        {"plugin_dir", plugins_.string()},
        {"worker_id", worker_id},
        {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
        {"dispatch",
         {{"poll_interval", "20ms"},
          {"max_poll_interval", "200ms"},
          {"workers", options_.workers},
          {"batch_size", options_.batch_size},
          {"lease", options_.lease},
          {"shutdown_grace", "10s"}}},
        {"handlers",
         {{{"plugin", "recording_handler"},
           {"config", {{"file", ledger_.string()}, {"delay_us", options_.handler_delay_us}}}}}}};
    const std::string name =
        "outboxd-" + worker_id + "-" + std::to_string(++starts_[worker_id]);
    std::unique_ptr<Process> p =
        StartOutboxd(dir_, WriteConfig(dir_, config, name + ".json"), name);
    logs_.push_back(p->stderr_path());
    if (!p->ok()) {
      ADD_FAILURE() << p->error();
      return p;
    }
    EXPECT_TRUE(p->WaitForLog("Discovery complete. Managing " + std::to_string(options_.tenants) +
                                  " outbox databases",
                              milliseconds(30000)))
        << p->StderrTail();
    return p;
  }

  void StartProducers() {
    for (int i = 0; i < options_.tenants; ++i) {
      producers_.push_back(std::make_unique<SteadyProducer>(
          AdminUrl(i, "chaos-producer"), tenant_names_[i], options_.produce_every));
    }
  }
  void StopProducers() {
    for (auto& p : producers_) p->Stop();
  }
  int64_t Acked() {
    int64_t n = 0;
    for (auto& p : producers_) n += p->acked_count();
    return n;
  }

  // Inserts `n` messages into tenant i in one statement (a burst: full batches), ids
  // "<tenant>-burst<k>-<j>" (burst_prefix() is the last one's "<tenant>-burst<k>-"), due at
  // `due_sql` (an SQL expression; NULL: at once); false when the insert failed.
  bool InsertBurst(int i, int n, const std::string& due_sql = "NULL") {
    const std::string prefix = tenant_names_[i] + "-burst" + std::to_string(++bursts_) + "-";
    last_burst_prefix_ = prefix;
    PgProbe db(AdminUrl(i));
    if (!db.Exec("INSERT INTO infra.outbox (message_id, topic, payload, due_at) SELECT '" + prefix +
                 "' || g, 'fixture.record', 'burst', " + due_sql + " FROM generate_series(1, " +
                 std::to_string(n) + ") AS g")) {
      ADD_FAILURE() << "burst insert into " << TenantDb(i) << ": " << db.last_error();
      return false;
    }
    for (int j = 1; j <= n; ++j) extra_acked_[prefix + std::to_string(j)] = tenant_names_[i];
    return true;
  }

  // Waits (polling the ledger every 5 ms) until `p` (any relay when null) delivers a message of
  // the last burst: it is then in the middle of a full batch.
  bool WaitMidBatch(Process* p, milliseconds timeout = milliseconds(30000)) {
    return Eventually(
        [&] {
          for (const LedgerLine& d : Ledger())
            if ((p == nullptr || d.pid == p->pid()) &&
                d.message_id.find("-burst" + std::to_string(bursts_) + "-") !=
                                         std::string::npos)
              return true;
          return false;
        },
        timeout, milliseconds(5));
  }

  // The test SIGKILLs `p` (its whole process group) now; its leases are the only allowed source of
  // duplicates.
  void Kill(Process* p) {
    killed_[p->pid()] = RealtimeMs();
    p->Kill();
  }

  std::vector<LedgerLine> Ledger() const { return ReadLedger(ledger_); }

  // Ledger lines from process `pid` (0: any).
  size_t DeliveriesBy(int pid = 0) const {
    size_t n = 0;
    for (const LedgerLine& d : Ledger()) n += pid == 0 || d.pid == pid ? 1 : 0;
    return n;
  }

  // Waits until the ledger has `n` more lines than now, and every relay in `relays` has delivered
  // something (the stream is flowing through all of them).
  bool WaitForFlow(size_t n, const std::vector<Process*>& relays,
                   milliseconds timeout = milliseconds(60000)) {
    const size_t base = DeliveriesBy();
    return Eventually(
        [&] {
          const std::vector<LedgerLine> l = Ledger();
          if (l.size() < base + n) return false;
          for (Process* p : relays) {
            if (std::none_of(l.begin(), l.end(), [&](const LedgerLine& d) { return d.pid == p->pid(); }))
              return false;
          }
          return true;
        },
        timeout, milliseconds(20));
  }

  // Ledger lines in [from_ms, to_ms) whose message id starts with `id_prefix` ("" : any).
  size_t DeliveriesBetween(int64_t from_ms, int64_t to_ms, const std::string& id_prefix = "") const {
    size_t n = 0;
    for (const LedgerLine& d : Ledger())
      n += d.at_ms >= from_ms && d.at_ms < to_ms && d.message_id.rfind(id_prefix, 0) == 0 ? 1 : 0;
    return n;
  }

  // Realtime ms of the first delivery at or after `ms` (of a message id starting with `id_prefix`
  // when not empty, e.g. "tenant-0-"; attempt >= 2 only when `reclaimed_only`), waiting up to
  // `timeout`; nullopt when none came.
  std::optional<int64_t> FirstDeliveryAfter(int64_t ms, milliseconds timeout,
                                            const std::string& id_prefix = "",
                                            bool reclaimed_only = false) const {
    std::optional<int64_t> first;
    Eventually(
        [&] {
          for (const LedgerLine& d : Ledger()) {
            if (d.at_ms < ms || d.message_id.rfind(id_prefix, 0) != 0) continue;
            if (reclaimed_only && d.attempt < 2) continue;
            if (!first || d.at_ms < *first) first = d.at_ms;
          }
          return first.has_value();
        },
        timeout, milliseconds(10));
    return first;
  }

  // Rows not done yet that were created before realtime `before_ms`, over all tenants; nullopt
  // when a tenant cannot be read right now.
  std::optional<int64_t> NotDoneBefore(int64_t before_ms) {
    if (probes_.empty()) {
      for (int i = 0; i < options_.tenants; ++i)
        probes_.push_back(std::make_unique<PgProbe>(AdminUrl(i)));
    }
    int64_t n = 0;
    for (auto& probe : probes_) {
      std::optional<int64_t> c = probe->Scalar(
          "SELECT count(*) FROM infra.outbox WHERE status <> 2 AND created_at < to_timestamp(" +
          std::to_string(before_ms) + " / 1000.0)");
      if (!c) return std::nullopt;
      n += *c;
    }
    return n;
  }

  // Waits until every row created before `before_ms` is done; the realtime ms at which that was
  // first seen, or nullopt at the deadline.
  std::optional<int64_t> WaitBacklogDone(int64_t before_ms,
                                         milliseconds timeout = milliseconds(90000)) {
    std::optional<int64_t> at;
    Eventually(
        [&] {
          std::optional<int64_t> n = NotDoneBefore(before_ms);
          if (n && *n == 0) at = RealtimeMs();
          return at.has_value();
        },
        timeout, milliseconds(20));
    return at;
  }

  // Waits until at least `n` acked messages have been produced since now.
  bool WaitProduced(int64_t n, milliseconds timeout = milliseconds(30000)) {
    const int64_t base = Acked();
    return Eventually([&] { return Acked() >= base + n; }, timeout, milliseconds(10));
  }

  // Stops the stream, waits for every row to be done, stops `relays` (the live ones) with SIGTERM,
  // checks the ledger (see the file comment) and prints "[ chaos ] <scenario>: <recovery>; ...".
  void Finish(const std::vector<Process*>& relays, const std::string& recovery) {
    StopProducers();
    std::map<std::string, std::string> tenant_of;  // acked message id -> tenant
    int64_t unacked = 0;
    for (auto& p : producers_) {
      for (const std::string& id : p->Acked()) tenant_of[id] = p->tenant();
      unacked += p->failed_count();
    }
    tenant_of.insert(extra_acked_.begin(), extra_acked_.end());
    const int64_t end_ms = RealtimeMs() + 1000;
    std::optional<int64_t> done_at = WaitBacklogDone(end_ms, milliseconds(120000));
    EXPECT_TRUE(done_at.has_value())
        << "rows still not done 120 s after the stream stopped: " << NotDoneBefore(end_ms).value_or(-1)
        << LogTails(relays);
    for (Process* p : relays) {
      if (p->Exited()) {
        ADD_FAILURE() << p->name() << " died on its own" << p->StderrTail();
        continue;
      }
      EXPECT_TRUE(p->Signal(SIGTERM));
      std::optional<int> code = p->WaitExit(milliseconds(30000));
      EXPECT_TRUE(code.has_value()) << p->name() << " still running 30 s after SIGTERM"
                                    << p->StderrTail();
      if (code) {
        EXPECT_EQ(*code, 0) << p->name() << p->StderrTail();
      }
    }

    // ---- rows: every acked insert is a row, every row done ----
    std::map<std::string, std::string> row_tenant;  // message id -> tenant, over every row
    int64_t failed = 0, left = 0;
    for (int i = 0; i < options_.tenants; ++i) {
      PgProbe db(AdminUrl(i));
      auto rows = db.Rows("SELECT message_id, status, attempts, coalesce(last_error, '') FROM infra.outbox");
      if (!rows) {
        ADD_FAILURE() << "cannot read " << TenantDb(i) << ": " << db.last_error();
        continue;
      }
      for (const auto& row : *rows) {
        row_tenant[row[0]] = tenant_names_[i];
        if (row[1] == "3") {
          ++failed;
          ADD_FAILURE() << "message " << row[0] << " failed after " << row[2]
                        << " attempts: " << row[3];
        } else if (row[1] != "2") {
          ++left;
          ADD_FAILURE() << "message " << row[0] << " left with status " << row[1];
        }
      }
    }
    for (const auto& [id, tenant] : tenant_of) {
      auto it = row_tenant.find(id);
      if (it == row_tenant.end()) ADD_FAILURE() << "acked insert " << id << " has no row";
    }

    // ---- ledger: at least once, duplicates only where allowed ----
    const std::vector<LedgerLine> ledger = Ledger();
    std::map<std::string, std::vector<LedgerLine>> by_message;
    for (const LedgerLine& d : ledger) {
      auto it = row_tenant.find(d.message_id);
      if (it == row_tenant.end()) {
        ADD_FAILURE() << "delivered a message that is not a row: " << d.message_id;
        continue;
      }
      EXPECT_EQ(d.tenant, it->second) << d.message_id << " delivered for the wrong tenant";
      by_message[d.message_id].push_back(d);
    }
    int64_t never = 0;
    for (const auto& [id, tenant] : row_tenant) {
      if (by_message.count(id) == 0) {
        ++never;
        if (never <= 20) ADD_FAILURE() << "message " << id << " of " << tenant << " never delivered";
      }
    }
    EXPECT_EQ(never, 0) << "messages never delivered";
    std::map<int, int64_t> dup_by_killed;  // killed pid -> redeliveries of what it had delivered
    int64_t duplicates = 0, unexplained = 0;
    for (auto& [id, ds] : by_message) {
      std::sort(ds.begin(), ds.end(),
                [](const LedgerLine& a, const LedgerLine& b) { return a.at_ms < b.at_ms; });
      for (size_t k = 1; k < ds.size(); ++k) {
        ++duplicates;
        EXPECT_GE(ds[k].attempt, 2) << id << ": redelivered without the lost attempt counted";
        int killed_pid = 0;
        for (size_t j = 0; j < k; ++j) {
          auto kill = killed_.find(ds[j].pid);
          if (kill != killed_.end() && ds[j].at_ms <= kill->second + 1000 &&
              ds[k].at_ms >= kill->second - 1000) {
            killed_pid = ds[j].pid;
          }
        }
        if (killed_pid != 0) {
          ++dup_by_killed[killed_pid];
        } else {
          ++unexplained;
          if (unexplained <= 10) {
            std::string history;
            for (const LedgerLine& d : ds)
              history += " [pid " + std::to_string(d.pid) + " at " + std::to_string(d.at_ms) +
                         " attempt " + std::to_string(d.attempt) + "]";
            unexplained_examples_ += "\n  " + id + ":" + history;
          }
        }
      }
    }
    const int64_t held_bound = static_cast<int64_t>(options_.workers) * options_.batch_size;
    for (const auto& [pid, n] : dup_by_killed) {
      EXPECT_LE(n, held_bound) << "process " << pid
                               << " (SIGKILLed) left more duplicates than it can hold under lease "
                                  "(workers x batch_size)";
    }
    const int64_t unrecorded = AnnouncedUnrecorded();
    if (options_.strict_duplicates) {
      EXPECT_EQ(unexplained, 0) << "duplicates not from a SIGKILLed process's leases (outboxd "
                                   "announced "
                                << unrecorded << " unrecorded outcomes):" << unexplained_examples_
                                << "\nrelay log lines about recording:"
                                << LogLines(" outcomes ", 12);
    } else {
      EXPECT_LE(unexplained, unrecorded)
          << "duplicates neither from a SIGKILLed process's leases nor announced as unrecorded "
             "outcomes:"
          << unexplained_examples_;
    }
    int64_t from_killed = 0;
    for (const auto& [pid, n] : dup_by_killed) from_killed += n;
    ChaosPrint(
        "%s: %s; ledger: %zu messages (%zu acked inserts, %lld unacknowledged), %zu deliveries, "
        "%lld duplicates (%lld from %zu SIGKILLed processes' leases, bound %lld per kill; %lld "
        "others, outboxd announced %lld unrecorded outcomes), %lld failed, %lld left, %lld never "
        "delivered",
        scenario_.c_str(), recovery.c_str(), row_tenant.size(), tenant_of.size(),
        static_cast<long long>(unacked), ledger.size(), static_cast<long long>(duplicates),
        static_cast<long long>(from_killed), killed_.size(), static_cast<long long>(held_bound),
        static_cast<long long>(unexplained), static_cast<long long>(unrecorded),
        static_cast<long long>(failed), static_cast<long long>(left), static_cast<long long>(never));
  }

  // Occurrences of `needle` in every relay log of this scenario (killed ones included).
  int CountInLogs(const std::string& needle) const {
    int n = 0;
    for (const std::filesystem::path& log : logs_) n += CountOccurrences(ReadText(log), needle);
    return n;
  }

  // The first `max` lines containing `needle` in the relay logs (for failure messages).
  std::string LogLines(const std::string& needle, size_t max) const {
    std::string out;
    size_t n = 0;
    for (const std::filesystem::path& log : logs_) {
      for (const std::string& line : SplitLines(ReadText(log))) {
        if (line.find(needle) == std::string::npos || n >= max) continue;
        out += "\n  " + log.filename().string() + ": " + line.substr(0, 300);
        ++n;
      }
    }
    return out;
  }

  // Sum of N over "Could not record the outcomes of N messages" in every relay log.
  int64_t AnnouncedUnrecorded() const {
    static const std::regex re("Could not record the outcomes of ([0-9]+) messages");
    int64_t n = 0;
    for (const std::filesystem::path& log : logs_) {
      const std::string text = ReadText(log);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
           it != std::sregex_iterator(); ++it)
        n += std::stoll((*it)[1]);
    }
    return n;
  }

  static std::string LogTails(const std::vector<Process*>& relays) {
    std::string out;
    for (Process* p : relays) out += p->StderrTail(15);
    return out;
  }

 private:
  std::string scenario_;
  Options options_;
  TempDir dir_;
  std::filesystem::path plugins_ = dir_ / "plugins";
  std::filesystem::path ledger_ = dir_ / "ledger.txt";
  std::unique_ptr<PgPrivateCluster> cluster_;
  std::vector<std::string> tenant_names_;
  std::vector<std::unique_ptr<SteadyProducer>> producers_;
  std::vector<std::unique_ptr<PgProbe>> probes_;
  std::map<std::string, int> starts_;
  std::vector<std::filesystem::path> logs_;
  std::map<int, int64_t> killed_;  // pid -> realtime ms of the SIGKILL
  std::map<std::string, std::string> extra_acked_;  // burst message id -> tenant
  int bursts_ = 0;
  std::string last_burst_prefix_;
  std::string unexplained_examples_;
};

// Milliseconds from `from` to `to` as text ("n/a" when either is missing).
inline std::string MsBetween(std::optional<int64_t> from, std::optional<int64_t> to) {
  if (!from || !to) return "n/a";
  return std::to_string(*to - *from) + " ms";
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_INTEGRATION_SUPPORT_CHAOS_ENV_H_
