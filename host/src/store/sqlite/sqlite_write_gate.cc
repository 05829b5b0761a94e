#include "store/sqlite/sqlite_write_gate.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace outboxd::sql_store {

namespace {

// SQLite's own busy_timeout steps (sqliteDefaultBusyCallback), in ms.
constexpr int kDelays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
// A wait this long is a lock held, not two writers crossing: the gate is marked from then on.
constexpr int64_t kMarkAfterMs = 50;

}  // namespace

SqliteWriteGate::SqliteWriteGate(std::chrono::milliseconds busy_timeout)
    : busy_timeout_(busy_timeout) {}

void SqliteWriteGate::Install(sqlite3* db) { sqlite3_busy_handler(db, &SqliteWriteGate::OnBusy, this); }

bool SqliteWriteGate::Enter() {
  MutexLock lock(&mu_);
  changed_.Wait(&mu_, [this]() REQUIRES(mu_) {
    return !held_ || holder_waits_for_other_process_;
  });
  if (held_) return false;
  held_ = true;
  holder_ = std::this_thread::get_id();
  return true;
}

void SqliteWriteGate::Leave() {
  {
    MutexLock lock(&mu_);
    held_ = false;
    holder_waits_for_other_process_ = false;
  }
  changed_.NotifyAll();
}

int SqliteWriteGate::OnBusy(void* arg, int attempts) {
  auto* gate = static_cast<SqliteWriteGate*>(arg);
  const int64_t timeout = gate->busy_timeout_.count();
  constexpr int kSteps = static_cast<int>(std::size(kDelays));
  int64_t waited = 0;
  int delay = 0;
  if (attempts < kSteps) {
    for (int i = 0; i < attempts; ++i) waited += kDelays[i];
    delay = kDelays[attempts];
  } else {
    for (int d : kDelays) waited += d;
    delay = kDelays[kSteps - 1];
    waited += static_cast<int64_t>(delay) * (attempts - kSteps);
  }
  if (waited >= std::min(kMarkAfterMs, timeout)) {
    bool marked = false;
    {
      MutexLock lock(&gate->mu_);
      if (gate->held_ && gate->holder_ == std::this_thread::get_id() &&
          !gate->holder_waits_for_other_process_) {
        gate->holder_waits_for_other_process_ = true;
        marked = true;
      }
    }
    if (marked) gate->changed_.NotifyAll();
  }
  if (waited >= timeout) return 0;  // give up: the statement fails with SQLITE_BUSY
  delay = static_cast<int>(std::min<int64_t>(delay, timeout - waited));
  sqlite3_sleep(delay);
  return 1;
}

}  // namespace outboxd::sql_store
