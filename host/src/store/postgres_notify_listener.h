// PostgresNotifyListener: turns PostgreSQL NOTIFYs from the outbox insert trigger into immediate
// wake-ups, so a new message is picked up in milliseconds while idle tenants cost no queries.
// Polling stays the source of truth: a lost notification, a listener that cannot connect, or a
// database beyond the listener budget only means pickup waits for the next poll.
//
// One thread. For every distinct PostgreSQL database among the watched stores it keeps ONE libpq
// connection that has run LISTEN on kNotifyChannel (store/poco/postgres_dialect.h); several tenant
// tables in one database (schema per tenant) share it. A notification's payload
// "<schema>.<table>" names the table; on_notify is called with the identifier of every watched
// store on that table. After a (re)connect on_notify is called for all of the database's stores,
// since messages may have arrived while nobody listened.
//
// Listener connections count against the ConnectionBudget (TryAcquire, never evicting) and are
// limited to `max_listeners` (negative: no limit; 0: none). A database that gets no listener is logged once. A
// connection that fails is retried with back-off (1 s doubling to 60 s), logged once per step,
// and never delays the other databases except while a round of connects runs (16 in parallel,
// each bounded by the URI's connect_timeout, 5 s by default).
//
// OWNERSHIP: borrows the budget (may be null). on_notify must stay callable until Stop returns.
// THREADING: Watch, Stop and the counters may be called from any thread; on_notify runs on the
// listener thread and must not block.
#ifndef OUTBOXD_STORE_POSTGRES_NOTIFY_LISTENER_H_
#define OUTBOXD_STORE_POSTGRES_NOTIFY_LISTENER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/connection_budget.h"
#include "store/store_location.h"

namespace outboxd {

class PostgresNotifyListener {
 public:
  using OnNotify = std::function<void(const std::string& store_identifier)>;

  PostgresNotifyListener(ConnectionBudget* budget, int max_listeners, OnNotify on_notify);
  ~PostgresNotifyListener();  // Stop()
  PostgresNotifyListener(const PostgresNotifyListener&) = delete;
  PostgresNotifyListener& operator=(const PostgresNotifyListener&) = delete;

  // Starts the thread (idempotent).
  void Start();
  // Stops the thread and closes every listener connection (idempotent).
  void Stop();

  // Replaces the set of watched stores (non-PostgreSQL locations are ignored). Databases no
  // longer needed are closed, new ones connected, on the listener thread.
  void Watch(const std::vector<StoreLocation>& locations);

  int listening_databases() const { return listening_.load(); }
  int unlistened_databases() const { return unlistened_.load(); }
  int64_t notifications() const { return notifications_.load(); }

 private:
  struct Database;  // one listener connection (defined in the .cc)
  // conninfo -> ("<schema>.<table>" -> store identifiers)
  using WatchSet = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

  void Loop();
  void Apply(const WatchSet& wanted);
  void Poke();
  // Backs `db` off after a failed or lost listener, logging one line per step.
  void ScheduleRetry(Database* db, const char* what, const std::string& error);
  void ReleaseSlot(Database* db);

  ConnectionBudget* const budget_;
  const int max_listeners_;
  const OnNotify on_notify_;
  int wake_fd_ = -1;  // eventfd: Watch and Stop interrupt poll()

  std::mutex mu_;
  WatchSet wanted_;        // GUARDED_BY(mu_)
  bool wanted_dirty_ = false;  // GUARDED_BY(mu_)
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // Listener-thread state.
  std::map<std::string, std::unique_ptr<Database>> databases_;
  std::map<std::string, std::string> descriptions_;  // conninfo -> "host:port/db" for logs
  std::map<std::string, std::string> sources_;  // conninfo -> connection string (for redaction)
  int slots_held_ = 0;  // databases holding a listener slot (connected or about to be)

  std::atomic<int> listening_{0};
  std::atomic<int> unlistened_{0};
  std::atomic<int64_t> notifications_{0};
};

}  // namespace outboxd

#endif  // OUTBOXD_STORE_POSTGRES_NOTIFY_LISTENER_H_
