#include "store/postgres_notify_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

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

}  // namespace

struct PostgresNotifyListener::Database {
  std::string conninfo;
  std::string description;
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
      if (it->second->has_slot && budget_ != nullptr) budget_->Release();
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
    }
    db->tables = tables;
  }
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
    // Connect databases that have no listener and are due for an attempt.
    const Clock::time_point now = Clock::now();
    int listening = 0;
    int unlistened = 0;
    for (auto& [conninfo, db] : databases_) {
      if (stopping_) break;
      if (db->conn == nullptr && now >= db->retry_at) {
        if (!db->has_slot) {
          int holding = 0;
          for (const auto& entry : databases_) holding += entry.second->has_slot ? 1 : 0;
          db->has_slot = (max_listeners_ < 0 || holding < max_listeners_) &&
                         (budget_ == nullptr || budget_->TryAcquire());
        }
        if (db->has_slot) {
          PGconn* conn = PQconnectdb(conninfo.c_str());
          std::string error;
          if (PQstatus(conn) != CONNECTION_OK) {
            error = poco_store::OneLineLibpqMessage(PQerrorMessage(conn));
          } else {
            PGresult* res = PQexec(conn, (std::string("LISTEN ") + poco_store::kNotifyChannel).c_str());
            if (PQresultStatus(res) != PGRES_COMMAND_OK) error = poco_store::OneLineLibpqMessage(PQerrorMessage(conn));
            PQclear(res);
            if (error.empty() && PQsetnonblocking(conn, 1) != 0) error = "cannot set non-blocking";
          }
          if (error.empty()) {
            db->conn = conn;
            if (db->failures > 0) {
              spdlog::info("Listening for new outbox messages on {} again", db->description);
            }
            db->failures = 0;
            for (const auto& [table, ids] : db->tables) {
              for (const std::string& id : ids) on_notify_(id);  // catch up on what we missed
            }
          } else {
            PQfinish(conn);
            const int step = std::min(db->failures, 6);
            const auto delay = std::min(kMaxBackoff, kMinBackoff * (1 << step));
            ++db->failures;
            db->retry_at = Clock::now() + delay;
            spdlog::warn("Cannot listen for new outbox messages on {}: {}; polling only, retrying "
                         "in {} ms", db->description, error, delay.count());
          }
        }
      }
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
        const int step = std::min(db->failures, 6);
        const auto delay = std::min(kMaxBackoff, kMinBackoff * (1 << step));
        ++db->failures;
        db->retry_at = Clock::now() + delay;
        spdlog::warn("Lost the NOTIFY listener on {}: {}; polling only, retrying in {} ms",
                     db->description, error, delay.count());
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
  for (auto& [conninfo, db] : databases_) {
    if (db->has_slot && budget_ != nullptr) budget_->Release();
  }
  databases_.clear();
  listening_ = 0;
}

}  // namespace outboxd
