// SqliteWriteGate: lets one worker of an SQLite store write at a time, and tells the others at once
// when that worker is waiting for a lock held by another process.
//
// SQLite has one writer per file. The store's workers take turns through the gate (without it they
// would collide in BEGIN IMMEDIATE and sleep in SQLite's busy handler while the file sits idle).
// The gate also replaces SQLite's busy_timeout handler on each connection (Install) with one that
// waits the same way (same steps, same total: busy_timeout) but, once the holder has waited 50 ms
// (a lock held, not two writers crossing), marks the gate: the holder waits for another process. Workers queued at the gate, and those arriving while the mark is
// set, get false from Enter at once instead of each waiting up to busy_timeout in turn (issue 14
// finding 11: a tenant locked by another process must not hold every worker).
//
// OWNERSHIP: owned by its store; must outlive every connection it was installed on.
// THREADING: thread-safe. The busy handler runs on the thread of the statement that waits; it
// takes the gate's mutex only to set the mark, never while sleeping.
#ifndef OUTBOXD_STORE_SQLITE_SQLITE_WRITE_GATE_H_
#define OUTBOXD_STORE_SQLITE_SQLITE_WRITE_GATE_H_

#include <chrono>
#include <thread>

#include "common/mutex.h"
#include "store/sql/write_gate.h"

struct sqlite3;

namespace outboxd::sql_store {

class SqliteWriteGate final : public WriteGate {
 public:
  explicit SqliteWriteGate(std::chrono::milliseconds busy_timeout);
  SqliteWriteGate(const SqliteWriteGate&) = delete;
  SqliteWriteGate& operator=(const SqliteWriteGate&) = delete;

  // Sets this gate's busy handler on `db` (replacing PRAGMA busy_timeout's).
  void Install(sqlite3* db);

  // WriteGate (see there).
  bool Enter() override EXCLUDES(mu_);
  void Leave() override EXCLUDES(mu_);

 private:
  static int OnBusy(void* gate, int attempts);

  const std::chrono::milliseconds busy_timeout_;
  Mutex mu_;
  CondVar changed_;
  bool held_ GUARDED_BY(mu_) = false;
  std::thread::id holder_ GUARDED_BY(mu_);
  bool holder_waits_for_other_process_ GUARDED_BY(mu_) = false;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQLITE_SQLITE_WRITE_GATE_H_
