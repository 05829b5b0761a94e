// PostgresNotifyListener: turns PostgreSQL NOTIFYs from the outbox insert trigger into immediate
// wake-ups, so a new message is picked up in milliseconds while idle tenants cost no queries.
// Polling stays the source of truth: a lost notification, a listener that cannot connect, or a
// database beyond the listener budget only means pickup waits for the next poll.
//
// One thread. For every distinct PostgreSQL database among the watched stores it keeps ONE libpq
// connection that has run LISTEN on kNotifyChannel (store/postgres/postgres_dialect.h); several tenant
// tables in one database (schema per tenant) share it. A notification's payload
// "<schema>.<table>" names the table; on_notify is called with the identifier of every watched
// store on that table. After a (re)connect on_notify is called for all of the database's stores,
// since messages may have arrived while nobody listened (with probes and SetOnListening: the
// database is probed at once instead, see SetOnListening).
//
// The safety net (probe_interval > 0): each listener connection also checks its tables itself, every
// probe_interval x U[0.5, 1] (first after connecting), with ONE query per database, sent without
// blocking: for every table, "does it hold a row the claim would take now?" (the claim's own
// condition, ClaimableProbeSql). on_notify is called for the stores of every table that answers
// yes, and for all of a database's stores when the probe fails (e.g. a table not deployed yet).
// That catches what no NOTIFY announces (a due_at or retry time passing, a crashed peer's expired
// lease, a lost notification) on a connection that exists anyway: an idle listened tenant costs no
// worker visit, no pool connection and no new session.
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
#ifndef OUTBOXD_STORE_POSTGRES_POSTGRES_NOTIFY_LISTENER_H_
#define OUTBOXD_STORE_POSTGRES_POSTGRES_NOTIFY_LISTENER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "store/connection_budget.h"
#include "store/tenant_location.h"

namespace outboxd {

class PostgresNotifyListener {
 public:
  using Clock = std::chrono::steady_clock;
  using OnNotify = std::function<void(const std::string& store_identifier)>;

  // probe_interval: the safety-net probe's period (0: no probes; see above).
  PostgresNotifyListener(ConnectionBudget* budget, int max_listeners,
                         std::chrono::milliseconds probe_interval, OnNotify on_notify);
  ~PostgresNotifyListener();  // Stop()
  PostgresNotifyListener(const PostgresNotifyListener&) = delete;
  PostgresNotifyListener& operator=(const PostgresNotifyListener&) = delete;

  // Called on the listener thread for every store of a database whose listener just connected,
  // INSTEAD of on_notify, when probes are on: the database is probed at once and on_notify is
  // called only for tables holding claimable rows (a thousand databases connecting at start-up
  // do not wake a thousand idle tenants). Set before Start; must not block.
  void SetOnListening(std::function<void(const std::string& store_identifier)> on_listening) {
    on_listening_ = std::move(on_listening);
  }

  // Starts the thread (idempotent).
  void Start();
  // Stops the thread and closes every listener connection (idempotent).
  void Stop();

  // Replaces the set of watched stores (non-PostgreSQL locations are ignored). Databases no
  // longer needed are closed, new ones connected, on the listener thread.
  void Watch(const std::vector<TenantLocation>& locations);

  int listening_databases() const { return listening_.load(); }
  int unlistened_databases() const { return unlistened_.load(); }
  int64_t notifications() const { return notifications_.load(); }
  // Safety-net probes answered, and tables they found with claimable rows.
  int64_t probes() const { return probes_.load(); }
  int64_t probe_hits() const { return probe_hits_.load(); }

 private:
  struct Database;  // one listener connection (defined in the .cc)
  struct Table {
    std::vector<std::string> ids;  // the stores on this table
    std::string probe_sql;         // ClaimableProbeSql for it
  };
  // conninfo -> ("<schema>.<table>" -> table)
  using WatchSet = std::map<std::string, std::map<std::string, Table>>;

  void Loop();
  void Apply(const WatchSet& wanted);
  void Poke();
  // Backs `db` off after a failed or lost listener, logging one line per step.
  void ScheduleRetry(Database* db, const char* what, const std::string& error);
  // Closes db's connection, if any, then gives back its budget slot, if it holds one.
  void ReleaseSlot(Database* db);
  // Sends `db`'s probe if it is due (false: the connection failed and was closed).
  bool StartProbe(Database* db, Clock::time_point now);
  // Reads what arrived for a probe in flight; calls on_notify for what it found.
  void FinishProbe(Database* db);
  void QueueProbe(Database* db, Clock::time_point at);
  void SendDueProbes();
  void NotifyAll(const Database& db);
  // Connects the databases due for an attempt; recounts the gauges; sets next_connect_at_.
  void ConnectDue(bool* budget_warned);
  // Puts (or updates) db's socket in the epoll set.
  void WatchSocket(Database* db, bool want_write);
  // Closes a failed listener connection and schedules its retry.
  void Disconnect(Database* db, const char* what, const std::string& error);

  ConnectionBudget* const budget_;
  const int max_listeners_;
  const std::chrono::milliseconds probe_interval_;
  const OnNotify on_notify_;
  std::function<void(const std::string&)> on_listening_;
  int wake_fd_ = -1;  // eventfd: Watch and Stop interrupt epoll_wait()

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
  // Each wake costs O(ready sockets + due probes), not O(databases): the sockets stay in one epoll
  // set, probes wait in a min-heap (stale entries are skipped), and the connect scan runs only when
  // an attempt is due or a listener was lost.
  int epoll_fd_ = -1;
  Clock::time_point next_connect_at_{};
  bool counts_dirty_ = false;
  std::priority_queue<std::pair<Clock::time_point, std::string>,
                      std::vector<std::pair<Clock::time_point, std::string>>, std::greater<>>
      probe_queue_;

  std::atomic<int> listening_{0};
  std::atomic<int> unlistened_{0};
  std::atomic<int64_t> notifications_{0};
  std::atomic<int64_t> probes_{0};
  std::atomic<int64_t> probe_hits_{0};
};

}  // namespace outboxd

#endif  // OUTBOXD_STORE_POSTGRES_POSTGRES_NOTIFY_LISTENER_H_
