#include "store/postgres/postgres_notify_listener.h"

#include <libpq-fe.h>
#include <sys/epoll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <random>
#include <utility>

#include "common/exponential_backoff.h"
#include "store/postgres/libpq_notices.h"
#include "store/postgres/postgres_conninfo.h"
#include "store/postgres/postgres_dialect.h"

namespace outboxd {

namespace {

using Clock = PostgresNotifyListener::Clock;
constexpr std::chrono::milliseconds kMinBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{60000};

bool IsPostgres(const std::string& connection) {
  std::string head = connection.substr(0, 13);
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.rfind("postgresql://", 0) == 0 || head.rfind("postgres://", 0) == 0;
}

constexpr size_t kParallelConnects = 16;

struct Connected {
  PGconn* conn = nullptr;  // owned by the caller when error is empty
  std::string error;
};

// Opens a connection to `conninfo` and runs LISTEN on it (blocking, bounded by connect_timeout).
Connected ConnectAndListen(const std::string& conninfo) {
  Connected out;
  PGconn* conn = PQconnectdb(conninfo.c_str());
  RouteNoticesToLog(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    out.error = sql_store::OneLineLibpqMessage(PQerrorMessage(conn));
  } else {
    PGresult* res =
        PQexec(conn, (std::string("LISTEN ") + sql_store::kNotifyChannel).c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      out.error = sql_store::OneLineLibpqMessage(PQerrorMessage(conn));
    }
    PQclear(res);
    if (out.error.empty() && PQsetnonblocking(conn, 1) != 0) out.error = "cannot set non-blocking";
  }
  if (out.error.empty()) {
    out.conn = conn;
  } else {
    PQfinish(conn);
  }
  return out;
}

// `period` x U[0.5, 1]: a thousand databases connected at once do not probe in phase.
std::chrono::milliseconds Jittered(std::chrono::milliseconds period) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_real_distribution<double> half_to_one(0.5, 1.0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(period.count()) * half_to_one(generator)));
}

}  // namespace

struct PostgresNotifyListener::Database {
  std::string conninfo;
  std::string description;
  std::string source;  // the connection string as written, for redaction only
  std::map<std::string, Table> tables;  // "<schema>.<table>" -> its stores
  std::string probe_sql;      // every table's ClaimableProbeSql, UNION ALL
  PGconn* conn = nullptr;     // listening when non-null
  int watched_fd = -1;           // conn's socket while it is in the epoll set
  bool want_write = false;       // watched for EPOLLOUT too (a probe still being sent)
  Clock::time_point probe_at{};  // the next probe (while connected)
  bool probing = false;          // a probe is in flight on conn
  bool has_slot = false;      // holds a ConnectionBudget slot
  int failures = 0;
  Clock::time_point retry_at{};

  ~Database() {
    if (conn != nullptr) PQfinish(conn);
  }
};

PostgresNotifyListener::PostgresNotifyListener(ConnectionBudget* budget, int max_listeners,
                                               std::chrono::milliseconds probe_interval,
                                               OnNotify on_notify)
    : budget_(budget),
      max_listeners_(max_listeners),
      probe_interval_(probe_interval),
      on_notify_(std::move(on_notify)) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

PostgresNotifyListener::~PostgresNotifyListener() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void PostgresNotifyListener::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void PostgresNotifyListener::Stop() {
  stopping_ = true;
  Poke();
  if (thread_.joinable()) thread_.join();
}

void PostgresNotifyListener::Poke() {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  ssize_t written = write(wake_fd_, &one, sizeof(one));
  (void)written;  // EAGAIN: a wake-up is already pending
}

void PostgresNotifyListener::Watch(const std::vector<TenantLocation>& locations) {
  WatchSet wanted;
  for (const TenantLocation& location : locations) {
    if (!IsPostgres(location.connection_string)) continue;
    sql_store::PostgresTarget target;
    if (!sql_store::ParsePostgresConnection(location.connection_string, &target).ok()) continue;
    const std::string key = location.schema_name + "." + location.table_name;
    Table& table = wanted[target.conninfo][key];
    table.ids.push_back(location.identifier);
    if (table.probe_sql.empty()) {
      table.probe_sql =
          sql_store::ClaimableProbeSql(location.schema_name, location.table_name, key);
    }
    std::lock_guard<std::mutex> lock(mu_);
    descriptions_[target.conninfo] = target.description;
    sources_[target.conninfo] = target.source;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    wanted_ = std::move(wanted);
    wanted_dirty_ = true;
  }
  Poke();
}

void PostgresNotifyListener::Apply(const WatchSet& wanted) {
  // Close what is no longer wanted.
  for (auto it = databases_.begin(); it != databases_.end();) {
    if (wanted.count(it->first) == 0) {
      ReleaseSlot(it->second.get());
      it = databases_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [conninfo, tables] : wanted) {
    std::unique_ptr<Database>& db = databases_[conninfo];
    if (db == nullptr) {
      db = std::make_unique<Database>();
      db->conninfo = conninfo;
      std::lock_guard<std::mutex> lock(mu_);
      db->description = descriptions_[conninfo];
      db->source = sources_[conninfo];
    }
    db->tables = tables;
    db->probe_sql.clear();
    for (const auto& [key, table] : tables) {
      db->probe_sql += (db->probe_sql.empty() ? "" : " UNION ALL ") + table.probe_sql;
    }
  }
}

void PostgresNotifyListener::ScheduleRetry(Database* db, const char* what,
                                           const std::string& error) {
  const auto delay = ExponentialDelay(kMinBackoff, kMaxBackoff, db->failures);
  ++db->failures;
  db->retry_at = Clock::now() + delay;
  sql_store::PostgresTarget target;
  target.conninfo = db->conninfo;
  target.source = db->source;
  spdlog::warn("{}", sql_store::RedactFor(
                         target, fmt::format("{} {}: {}; polling only, retrying in {} ms", what,
                                             db->description, error, delay.count())));
}

void PostgresNotifyListener::NotifyAll(const Database& db) {
  for (const auto& [key, table] : db.tables) {
    for (const std::string& id : table.ids) on_notify_(id);
  }
}

bool PostgresNotifyListener::StartProbe(Database* db, Clock::time_point now) {
  if (probe_interval_.count() <= 0 || db->conn == nullptr || db->probing || now < db->probe_at ||
      db->probe_sql.empty()) {
    return true;
  }
  // Non-blocking connection: the query is small, so PQflush hands it to the kernel at once; a
  // partial write (1) is finished by later PQconsumeInput/PQflush calls in FinishProbe.
  int flushed = 0;
  if (PQsendQuery(db->conn, db->probe_sql.c_str()) == 0 || (flushed = PQflush(db->conn)) < 0) {
    Disconnect(db, "Lost the NOTIFY listener on",
               sql_store::OneLineLibpqMessage(PQerrorMessage(db->conn)));
    return false;
  }
  db->probing = true;
  if (flushed == 1) WatchSocket(db, /*want_write=*/true);
  return true;
}

void PostgresNotifyListener::FinishProbe(Database* db) {
  if (PQflush(db->conn) != 0) return;  // still sending (or failed: the next read says so)
  if (db->want_write) WatchSocket(db, /*want_write=*/false);
  bool failed = false;
  std::vector<std::string> hits;
  while (PQisBusy(db->conn) == 0) {
    PGresult* res = PQgetResult(db->conn);
    if (res == nullptr) {  // the probe is complete
      db->probing = false;
      QueueProbe(db, Clock::now() + Jittered(probe_interval_));
      ++probes_;
      if (failed) {
        NotifyAll(*db);  // the stores' own visits find out what is wrong (or deploy the table)
        return;
      }
      for (const std::string& key : hits) {
        auto table = db->tables.find(key);
        if (table == db->tables.end()) continue;
        ++probe_hits_;
        for (const std::string& id : table->second.ids) on_notify_(id);
      }
      return;
    }
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
      for (int row = 0; row < PQntuples(res); ++row) hits.emplace_back(PQgetvalue(res, row, 0));
    } else {
      failed = true;
      spdlog::debug("NOTIFY listener probe on {} failed: {}", db->description,
                    sql_store::OneLineLibpqMessage(PQresultErrorMessage(res)));
    }
    PQclear(res);
  }
}

void PostgresNotifyListener::ReleaseSlot(Database* db) {
  // The connection closes before its slot goes back (else another could open in between: one
  // over stores.max_connections).
  if (db->conn != nullptr) {
    PQfinish(db->conn);  // closing the socket also takes it out of the epoll set
    db->conn = nullptr;
    db->watched_fd = -1;
    db->probing = false;
  }
  if (!db->has_slot) return;
  db->has_slot = false;
  --slots_held_;
  if (budget_ != nullptr) budget_->Release();
}

void PostgresNotifyListener::WatchSocket(Database* db, bool want_write) {
  epoll_event event{};
  event.events = want_write ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  event.data.ptr = db;
  const int op = db->watched_fd == PQsocket(db->conn) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  db->watched_fd = PQsocket(db->conn);
  db->want_write = want_write;
  epoll_ctl(epoll_fd_, op, db->watched_fd, &event);
}

void PostgresNotifyListener::Disconnect(Database* db, const char* what, const std::string& error) {
  PQfinish(db->conn);  // closing the socket also takes it out of the epoll set
  db->conn = nullptr;
  db->watched_fd = -1;
  db->probing = false;
  ScheduleRetry(db, what, error);
  next_connect_at_ = Clock::now();
  counts_dirty_ = true;
}

void PostgresNotifyListener::ConnectDue(bool* budget_warned) {
  // Connect databases that have no listener and are due for an attempt, kParallelConnects at a
  // time (a thousand databases at start-up must not take a thousand serial round trips).
  const Clock::time_point now = Clock::now();
  std::vector<Database*> due;
  for (auto& [conninfo, db] : databases_) {
    if (db->conn != nullptr || now < db->retry_at) continue;
    if (!db->has_slot) {
      db->has_slot = (max_listeners_ < 0 || slots_held_ < max_listeners_) &&
                     (budget_ == nullptr || budget_->TryAcquire());
      if (db->has_slot) ++slots_held_;
    }
    if (db->has_slot) due.push_back(db.get());
  }
  for (size_t first = 0; first < due.size() && !stopping_; first += kParallelConnects) {
    const size_t last = std::min(due.size(), first + kParallelConnects);
    std::vector<std::future<Connected>> connecting;
    for (size_t i = first; i < last; ++i) {
      connecting.push_back(std::async(std::launch::async, ConnectAndListen, due[i]->conninfo));
    }
    for (size_t i = first; i < last; ++i) {
      Database* db = due[i];
      Connected result = connecting[i - first].get();
      if (!result.error.empty()) {
        ScheduleRetry(db, "Cannot listen for new outbox messages on", result.error);
        continue;
      }
      db->conn = result.conn;
      db->watched_fd = -1;
      WatchSocket(db, /*want_write=*/false);
      db->probing = false;
      if (db->failures > 0) {
        spdlog::info("Listening for new outbox messages on {} again", db->description);
      }
      db->failures = 0;
      if (probe_interval_.count() > 0 && on_listening_) {
        // Catch up on what arrived while nobody listened by probing at once.
        for (const auto& [key, table] : db->tables) {
          for (const std::string& id : table.ids) on_listening_(id);
        }
        QueueProbe(db, Clock::now());
      } else {
        NotifyAll(*db);  // catch up on what we missed
        QueueProbe(db, Clock::now() + Jittered(probe_interval_));
      }
    }
  }
  // The next time a connect may be due; counts for the gauges and the budget warning.
  int listening = 0;
  int unlistened = 0;
  for (auto& [conninfo, db] : databases_) {
    if (db->conn != nullptr) {
      ++listening;
    } else if (!db->has_slot) {
      ++unlistened;
    }
  }
  Clock::time_point next = Clock::time_point::max();
  for (auto& [conninfo, db] : databases_) {
    if (db->conn == nullptr && (db->has_slot || unlistened == 0)) next = std::min(next, db->retry_at);
  }
  if (unlistened > 0) next = std::min(next, Clock::now() + std::chrono::seconds(5));
  next_connect_at_ = next;
  if (unlistened > 0 && !*budget_warned) {
    spdlog::warn("{} PostgreSQL databases have no NOTIFY listener (stores.max_connections leaves "
                 "room for {}); their new messages are picked up by polling",
                 unlistened, listening);
    *budget_warned = true;
  }
  listening_ = listening;
  unlistened_ = unlistened;
  counts_dirty_ = false;
}

void PostgresNotifyListener::QueueProbe(Database* db, Clock::time_point at) {
  if (probe_interval_.count() <= 0) return;
  db->probe_at = at;
  probe_queue_.emplace(at, db->conninfo);
}

void PostgresNotifyListener::SendDueProbes() {
  const Clock::time_point now = Clock::now();
  while (!probe_queue_.empty() && probe_queue_.top().first <= now) {
    const auto [at, conninfo] = probe_queue_.top();
    probe_queue_.pop();
    auto it = databases_.find(conninfo);
    if (it == databases_.end()) continue;
    Database* db = it->second.get();
    // Stale entries (reconnected, rescheduled, or a probe in flight) are skipped.
    if (db->conn == nullptr || db->probing || db->probe_at != at) continue;
    StartProbe(db, now);
  }
}

void PostgresNotifyListener::Loop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  }
  bool budget_warned = false;
  next_connect_at_ = Clock::now();
  std::vector<epoll_event> events(256);
  while (!stopping_) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (wanted_dirty_) {
        WatchSet wanted = wanted_;
        wanted_dirty_ = false;
        lock.unlock();
        Apply(wanted);
        next_connect_at_ = Clock::now();
      }
    }
    if (Clock::now() >= next_connect_at_ || counts_dirty_) ConnectDue(&budget_warned);
    SendDueProbes();

    // Wait for notifications, probe answers, a Watch/Stop, the next connect attempt or probe.
    Clock::time_point wake_at = std::min(next_connect_at_, Clock::now() + std::chrono::seconds(60));
    if (!probe_queue_.empty()) wake_at = std::min(wake_at, probe_queue_.top().first);
    const auto timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - Clock::now()).count() + 1;
    const int ready = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                 static_cast<int>(std::clamp<int64_t>(timeout, 0, 60000)));
    for (int i = 0; i < ready; ++i) {
      auto* db = static_cast<Database*>(events[i].data.ptr);
      if (db == nullptr) {
        uint64_t count = 0;
        ssize_t got = read(wake_fd_, &count, sizeof(count));
        (void)got;
        continue;
      }
      if (db->conn == nullptr) continue;  // lost earlier in this batch
      if (PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK) {
        Disconnect(db, "Lost the NOTIFY listener on",
                   sql_store::OneLineLibpqMessage(PQerrorMessage(db->conn)));
        continue;
      }
      if (db->probing) FinishProbe(db);
      while (PGnotify* note = PQnotifies(db->conn)) {
        ++notifications_;
        auto table = db->tables.find(note->extra != nullptr ? note->extra : "");
        if (table != db->tables.end()) {
          for (const std::string& id : table->second.ids) on_notify_(id);
        }
        PQfreemem(note);
      }
    }
  }
  for (auto& [conninfo, db] : databases_) ReleaseSlot(db.get());
  databases_.clear();
  listening_ = 0;
  close(epoll_fd_);
  epoll_fd_ = -1;
}

}  // namespace outboxd
