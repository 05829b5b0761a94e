#include "store/postgres_notify_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <utility>

#include "common/exponential_backoff.h"
#include "store/libpq_notices.h"
#include "store/poco/postgres_conninfo.h"
#include "store/poco/postgres_dialect.h"

namespace outboxd {

namespace {

using Clock = std::chrono::steady_clock;
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
    out.error = poco_store::OneLineLibpqMessage(PQerrorMessage(conn));
  } else {
    PGresult* res =
        PQexec(conn, (std::string("LISTEN ") + poco_store::kNotifyChannel).c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      out.error = poco_store::OneLineLibpqMessage(PQerrorMessage(conn));
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

}  // namespace

struct PostgresNotifyListener::Database {
  std::string conninfo;
  std::string description;
  std::string source;  // the connection string as written, for redaction only
  std::map<std::string, std::vector<std::string>> tables;  // "<schema>.<table>" -> identifiers
  PGconn* conn = nullptr;     // listening when non-null
  bool has_slot = false;      // holds a ConnectionBudget slot
  int failures = 0;
  Clock::time_point retry_at{};

  ~Database() {
    if (conn != nullptr) PQfinish(conn);
  }
};

PostgresNotifyListener::PostgresNotifyListener(ConnectionBudget* budget, int max_listeners,
                                               OnNotify on_notify)
    : budget_(budget), max_listeners_(max_listeners), on_notify_(std::move(on_notify)) {
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

void PostgresNotifyListener::Watch(const std::vector<StoreLocation>& locations) {
  WatchSet wanted;
  for (const StoreLocation& location : locations) {
    if (!IsPostgres(location.connection_string)) continue;
    poco_store::PostgresTarget target;
    if (!poco_store::ParsePostgresConnection(location.connection_string, &target).ok()) continue;
    wanted[target.conninfo][location.schema_name + "." + location.table_name].push_back(
        location.identifier);
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
  }
}

void PostgresNotifyListener::ScheduleRetry(Database* db, const char* what,
                                           const std::string& error) {
  const auto delay = ExponentialDelay(kMinBackoff, kMaxBackoff, db->failures);
  ++db->failures;
  db->retry_at = Clock::now() + delay;
  poco_store::PostgresTarget target;
  target.conninfo = db->conninfo;
  target.source = db->source;
  spdlog::warn("{}", poco_store::RedactFor(
                         target, fmt::format("{} {}: {}; polling only, retrying in {} ms", what,
                                             db->description, error, delay.count())));
}

void PostgresNotifyListener::ReleaseSlot(Database* db) {
  if (!db->has_slot) return;
  db->has_slot = false;
  --slots_held_;
  if (budget_ != nullptr) budget_->Release();
}

void PostgresNotifyListener::Loop() {
  bool budget_warned = false;
  while (!stopping_) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (wanted_dirty_) {
        WatchSet wanted = wanted_;
        wanted_dirty_ = false;
        lock.unlock();
        Apply(wanted);
      }
    }
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
        if (result.error.empty()) {
          db->conn = result.conn;
          if (db->failures > 0) {
            spdlog::info("Listening for new outbox messages on {} again", db->description);
          }
          db->failures = 0;
          for (const auto& [table, ids] : db->tables) {
            for (const std::string& id : ids) on_notify_(id);  // catch up on what we missed
          }
        } else {
          ScheduleRetry(db, "Cannot listen for new outbox messages on", result.error);
        }
      }
    }
    int listening = 0;
    int unlistened = 0;
    for (auto& [conninfo, db] : databases_) {
      if (db->conn != nullptr) {
        ++listening;
      } else if (!db->has_slot) {
        ++unlistened;
      }
    }
    if (unlistened > 0 && !budget_warned) {
      spdlog::warn("{} PostgreSQL databases have no NOTIFY listener (stores.max_connections leaves "
                   "room for {}); their new messages are picked up by polling",
                   unlistened, listening);
      budget_warned = true;
    }
    listening_ = listening;
    unlistened_ = unlistened;

    // Wait for notifications, a Watch/Stop, or the next retry.
    std::vector<pollfd> fds;
    std::vector<Database*> owners;
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    owners.push_back(nullptr);
    Clock::time_point next_retry = Clock::now() + std::chrono::seconds(60);
    for (auto& [conninfo, db] : databases_) {
      if (db->conn != nullptr) {
        fds.push_back(pollfd{PQsocket(db->conn), POLLIN, 0});
        owners.push_back(db.get());
      } else if (db->has_slot || unlistened == 0) {
        next_retry = std::min(next_retry, db->retry_at);
      }
    }
    if (unlistened > 0) next_retry = std::min(next_retry, Clock::now() + std::chrono::seconds(5));
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next_retry -
                                                                              Clock::now());
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, timeout.count())));
    if (ready <= 0) continue;
    if (fds[0].revents != 0) {
      uint64_t count = 0;
      ssize_t got = read(wake_fd_, &count, sizeof(count));
      (void)got;
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Database* db = owners[i];
      if (PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK) {
        std::string error = poco_store::OneLineLibpqMessage(PQerrorMessage(db->conn));
        PQfinish(db->conn);
        db->conn = nullptr;
        ScheduleRetry(db, "Lost the NOTIFY listener on", error);
        continue;
      }
      while (PGnotify* note = PQnotifies(db->conn)) {
        ++notifications_;
        auto table = db->tables.find(note->extra != nullptr ? note->extra : "");
        if (table != db->tables.end()) {
          for (const std::string& id : table->second) on_notify_(id);
        }
        PQfreemem(note);
      }
    }
  }
  for (auto& [conninfo, db] : databases_) ReleaseSlot(db.get());
  databases_.clear();
  listening_ = 0;
}

}  // namespace outboxd
