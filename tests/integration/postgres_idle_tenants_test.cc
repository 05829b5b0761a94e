// 500 idle PostgreSQL tenant databases: outboxd (static discovery listing all 500) must never hold
// more connections than stores.max_connections, must keep sweeping every tenant under that cap, and
// must still deliver a message inserted into a random tenant. The test also PRINTS (does not
// assert) what idling costs: outboxd's CPU as % of one core over a 10 s idle window (utime + stime
// from /proc/<pid>/stat), its RSS, the CPU of the PostgreSQL server processes over the same window,
// and the pickup latency of one new message -- once with polling only (max_connections 40), once
// with stores.notify (LISTEN/NOTIFY) and max_connections large enough for one listener per
// database.
//
// The databases live in a private cluster of this test (PgPrivateCluster: max_connections 700 for
// the notify run, connection counts not mixed up with other tests' relays, and removing the
// cluster is cheaper than dropping 500 databases). Connections are counted twice, sampled every
// 100 ms for the whole run: on the client side (outboxd's TCP sockets to the server, from
// /proc/<pid>/fd and /proc/net/tcp: exact) and on the server side (pg_stat_activity rows with
// application_name 'outboxd').
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/pg_env.h"
#include "integration/support/process.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::PgPrivateCluster;
using testing::PgSession;
using testing::Process;
using testing::SteadyClock;
using testing::TempDir;

constexpr int kTenants = 500;
constexpr int kMaxConnections = 40;
constexpr milliseconds kWait{60000};
constexpr int kIdleWindowSeconds = 10;

std::string TenantDb(int i) {
  char name[32];
  std::snprintf(name, sizeof(name), "idle_%03d", i);
  return name;
}

// utime + stime of `pid` in clock ticks, or -1.
int64_t CpuTicks(int pid) {
  std::string stat = testing::ReadText("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  // Fields after the command: state(3) ppid(4) ... utime(14) stime(15).
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return utime + stime;
}

int PpidOf(int pid) {
  std::string stat = testing::ReadText("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  std::string state;
  int ppid = -1;
  in >> state >> ppid;
  return ppid;
}

// CPU ticks of the postmaster `pm` and all its children (the backends, checkpointer, ...).
int64_t ClusterCpuTicks(int pm) {
  int64_t total = std::max<int64_t>(0, CpuTicks(pm));
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const int pid = std::stoi(name);
    if (PpidOf(pid) == pm) total += std::max<int64_t>(0, CpuTicks(pid));
  }
  return total;
}

int64_t RssKb(int pid) {
  for (const std::string& line :
       testing::SplitLines(testing::ReadText("/proc/" + std::to_string(pid) + "/status"))) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// Inodes of the ESTABLISHED TCP connections to 127.0.0.1:<port> in /proc/<pid>/net/tcp.
std::set<std::string> EstablishedInodes(int pid, int port) {
  char port_hex[8];
  std::snprintf(port_hex, sizeof(port_hex), "%04X", port);
  std::set<std::string> inodes;
  for (const std::string& line : testing::SplitLines(
           testing::ReadText("/proc/" + std::to_string(pid) + "/net/tcp"))) {
    std::istringstream in(line);
    std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
    if (!(in >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode))
      continue;
    if (state != "01") continue;  // ESTABLISHED
    if (remote.size() < 5 || remote.substr(remote.size() - 4) != port_hex) continue;
    inodes.insert(inode);
  }
  return inodes;
}

// outboxd's established TCP connections to 127.0.0.1:<port>: its socket inodes (/proc/<pid>/fd)
// that /proc/<pid>/net/tcp lists as established both before and after the fd listing. Listing
// /proc/<pid>/fd is not atomic: under connection churn it can see a socket that closes and another
// that opens during the listing; a socket established in both tcp snapshots was open the whole
// time, so the count never exceeds what was open at one instant.
int ClientConnections(int pid, int port) {
  const std::set<std::string> before = EstablishedInodes(pid, port);
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code rec;
    const std::string target = std::filesystem::read_symlink(e.path(), rec).string();
    if (!rec && target.rfind("socket:[", 0) == 0)
      inodes.insert(target.substr(8, target.size() - 9));
  }
  const std::set<std::string> after = EstablishedInodes(pid, port);
  int n = 0;
  for (const std::string& inode : after) {
    if (before.count(inode) != 0 && inodes.count(inode) != 0) ++n;
  }
  return n;
}

// Samples both connection counts every 100 ms on its own thread until Stop().
class ConnectionSampler {
 public:
  ConnectionSampler(int pid, int port, std::string admin_url)
      : pid_(pid), port_(port), admin_url_(std::move(admin_url)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~ConnectionSampler() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int max_client() const { return max_client_; }
  int max_server() const { return max_server_; }
  int samples() const { return samples_; }

 private:
  void Run() {
    PgSession admin(admin_url_);
    while (!stop_) {
      max_client_ = std::max(max_client_.load(), ClientConnections(pid_, port_));
      if (admin.ok()) {
        max_server_ = std::max<int>(
            max_server_.load(),
            static_cast<int>(admin.Scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'outboxd'")));
      }
      ++samples_;
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  const int pid_;
  const int port_;
  const std::string admin_url_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_client_{0};
  std::atomic<int> max_server_{0};
  std::atomic<int> samples_{0};
  std::thread thread_;
};

class PostgresIdleTenantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    std::string url;
    OBX_REQUIRE_TEST_POSTGRES(&url);  // the PostgreSQL binaries are there when a server is
    cluster_ = std::make_unique<PgPrivateCluster>("-c max_connections=700");
    ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    const std::string pid_line =
        testing::SplitLines(testing::ReadText(cluster_->DataDir() / "postmaster.pid")).at(0);
    postmaster_ = std::stoi(pid_line);
  }

  // Commits recorded by the server per tenant database (each claim is one transaction).
  std::map<std::string, int64_t> Commits(PgSession& admin) {
    std::map<std::string, int64_t> out;
    for (const auto& row : admin.Rows("SELECT datname, xact_commit FROM pg_stat_database WHERE "
                                      "datname ~ '^idle_[0-9]+$'"))
      out[row[0]] = std::stoll(row[1]);
    return out;
  }

  // Tenants whose commit count grew by at least `n` since `base`: a lower bound of the sweeps
  // that reached every tenant.
  int SweptAtLeast(PgSession& admin, const std::map<std::string, int64_t>& base, int64_t n) {
    int swept = 0;
    for (const auto& [db, commits] : Commits(admin)) {
      auto it = base.find(db);
      if (commits >= (it == base.end() ? 0 : it->second) + n) ++swept;
    }
    return swept;
  }

  // A listener connection's last statement is its LISTEN or its safety-net probe
  // (sql_store::ClaimableProbeSql: "SELECT '<schema>.<table>'::text WHERE EXISTS ...").
  static constexpr const char* kListenerQuery =
      "(query ILIKE 'LISTEN%' OR query LIKE 'SELECT ''%''::text WHERE EXISTS (SELECT 1 FROM %')";

  struct Run {
    double cpu_percent = 0;
    double server_cpu_percent = 0;
    int64_t rss_kb = 0;
    int max_client = 0;
    int max_server = 0;
    int samples = 0;
    int64_t pickup_ms = 0;
  };

  // Runs outboxd over all tenants with `stores`, waits for sweeps, measures an idle window,
  // delivers one message to a random tenant, stops it with SIGTERM.
  void RunOnce(const std::string& label, const nlohmann::json& stores, int max_connections,
               bool notify, Run* out) {
    nlohmann::json databases = nlohmann::json::array();
    for (int i = 0; i < kTenants; ++i)
      databases.push_back(
          {{"identifier", TenantDb(i)}, {"connection_string", cluster_->Url(TenantDb(i))}});
    nlohmann::json config = {
        {"plugin_dir", testing::PluginDir().string()},
        {"worker_id", label},
        {"discovery", {{"plugin", "static"}, {"config", {{"databases", databases}}}}},
        {"stores", stores},
        // With NOTIFY, polling is only the safety net: the documented setting.
        {"dispatch", {{"max_poll_interval", notify ? "30s" : "2s"}}},
        {"handlers", {{{"plugin", "log"}, {"topics", {"idle.ping"}}}}}};
    std::unique_ptr<Process> outboxd =
        testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config, label + ".json"), label);
    ASSERT_TRUE(outboxd->ok()) << outboxd->error();
    ConnectionSampler sampler(outboxd->pid(), cluster_->port(), cluster_->Url());
    // Discovery only creates the stores; each deploys its schema on first use by a worker.
    ASSERT_TRUE(outboxd->WaitForLog("Discovery complete. Managing 500 outbox databases",
                                    milliseconds(240000)))
        << outboxd->StderrTail();

    PgSession admin(cluster_->Url());
    ASSERT_TRUE(admin.ok()) << admin.error();
    if (notify) {
      // One LISTEN connection per database before the idle window.
      EXPECT_TRUE(Eventually(
          [&] {
            return admin.Scalar(std::string("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                "'outboxd' AND ") + kListenerQuery) >= kTenants;
          },
          kWait, milliseconds(200)))
          << admin.Scalar(std::string("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                          "'outboxd' AND ") + kListenerQuery)
          << " listeners" << outboxd->StderrTail();
    }
    // Sweeps: every tenant polled a few times since this run started (the counters carry over
    // from the previous run, so compare with where they stood).
    const std::map<std::string, int64_t> base = Commits(admin);
    EXPECT_TRUE(Eventually([&] { return SweptAtLeast(admin, base, 3) == kTenants; },
                           milliseconds(120000), milliseconds(500)))
        << SweptAtLeast(admin, base, 3) << " of " << kTenants << " tenants swept 3 times"
        << outboxd->StderrTail();

    // The idle window.
    const long ticks_per_second = sysconf(_SC_CLK_TCK);
    const int64_t cpu0 = CpuTicks(outboxd->pid());
    const int64_t server0 = ClusterCpuTicks(postmaster_);
    const auto t0 = SteadyClock::now();
    std::this_thread::sleep_for(std::chrono::seconds(kIdleWindowSeconds));  // the measured window
    const int64_t cpu1 = CpuTicks(outboxd->pid());
    const int64_t server1 = ClusterCpuTicks(postmaster_);
    const double seconds =
        std::chrono::duration<double>(SteadyClock::now() - t0).count();
    out->cpu_percent = 100.0 * static_cast<double>(cpu1 - cpu0) /
                       static_cast<double>(ticks_per_second) / seconds;
    out->server_cpu_percent = 100.0 * static_cast<double>(server1 - server0) /
                              static_cast<double>(ticks_per_second) / seconds;
    out->rss_kb = RssKb(outboxd->pid());

    // A message in a random tenant is still delivered.
    std::random_device rd;
    const std::string db = TenantDb(static_cast<int>(rd() % kTenants));
    PgSession tenant(cluster_->Url(db));
    ASSERT_TRUE(tenant.ok()) << tenant.error();
    const auto inserted = SteadyClock::now();
    ASSERT_TRUE(tenant.Exec("INSERT INTO infra.outbox (topic, payload) VALUES ('idle.ping', '" +
                            label + "')"));
    EXPECT_TRUE(Eventually(
        [&] {
          return tenant.Scalar("SELECT count(*) FROM infra.outbox WHERE payload = '" + label +
                               "' AND status = 2") == 1;
        },
        kWait, milliseconds(10)))
        << db << " message not delivered" << outboxd->StderrTail();
    out->pickup_ms =
        std::chrono::duration_cast<milliseconds>(SteadyClock::now() - inserted).count();

    ASSERT_TRUE(outboxd->Signal(SIGTERM));
    std::optional<int> code = outboxd->WaitExit(kWait);
    ASSERT_TRUE(code.has_value()) << "outboxd did not stop" << outboxd->StderrTail();
    EXPECT_EQ(*code, 0) << outboxd->StderrTail();
    sampler.Stop();
    out->max_client = sampler.max_client();
    out->max_server = sampler.max_server();
    out->samples = sampler.samples();
    EXPECT_GT(out->samples, 10);
    EXPECT_GT(out->max_client, 0) << "the sampler never saw a connection";
    EXPECT_LE(out->max_client, max_connections)
        << label << ": outboxd held more connections than stores.max_connections";
    // Server side: a connection outboxd just closed to make room (eviction) stays listed until
    // its backend has exited, so a sample may see one or two more than the client holds.
    EXPECT_LE(out->max_server, max_connections + 2)
        << label << ": pg_stat_activity showed more outboxd connections than max_connections";
    std::printf(
        "[ idle 500 ] %s: outboxd CPU %.2f%% of one core over %.1f s idle, RSS %lld kB; "
        "PostgreSQL server CPU %.2f%%; connections max %d (client sockets) / %d "
        "(pg_stat_activity) of max_connections %d over %d samples; new message picked up in "
        "%lld ms\n",
        label.c_str(), out->cpu_percent, seconds, static_cast<long long>(out->rss_kb),
        out->server_cpu_percent, out->max_client, out->max_server, max_connections, out->samples,
        static_cast<long long>(out->pickup_ms));
    std::fflush(stdout);
  }

  TempDir dir_;
  std::unique_ptr<PgPrivateCluster> cluster_;
  int postmaster_ = 0;


  // 500 databases from a template that already holds the outbox table.
  void CreateTenants() {
    const auto created = SteadyClock::now();
    PgSession admin(cluster_->Url());
    ASSERT_TRUE(admin.ok()) << admin.error();
    ASSERT_TRUE(admin.Exec("CREATE DATABASE idle_template"));
    {
      PgSession t(cluster_->Url("idle_template"));
      ASSERT_TRUE(t.Exec(testing::kPgOutboxDdl));
    }
    for (int i = 0; i < kTenants; ++i)
      ASSERT_TRUE(admin.Exec("CREATE DATABASE " + TenantDb(i) + " TEMPLATE idle_template"));
    std::printf("[ idle 500 ] created %d databases in %lld ms\n", kTenants,
                static_cast<long long>(
                    std::chrono::duration_cast<milliseconds>(SteadyClock::now() - created).count()));
  }
};

// One set of 500 databases (creating them is most of the test's time), two runs: polling within a
// small cap, then NOTIFY with one listener per database plus workers + 2 for claims.
TEST_F(PostgresIdleTenantsTest, IdleTenantsStayWithinMaxConnectionsPollingAndWithNotify) {
  ASSERT_NO_FATAL_FAILURE(CreateTenants());
  Run polling;
  ASSERT_NO_FATAL_FAILURE(RunOnce("polling", {{"max_connections", kMaxConnections}},
                                  kMaxConnections, /*notify=*/false, &polling));
  const int notify_cap = kTenants + 60;
  Run notify;
  ASSERT_NO_FATAL_FAILURE(RunOnce("notify", {{"max_connections", notify_cap}, {"notify", true}},
                                  notify_cap, /*notify=*/true, &notify));
}

}  // namespace
}  // namespace outboxd
