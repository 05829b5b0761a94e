// WriteGate: lets one worker of a store write at a time, on engines with one writer per database
// (SQLite: SqliteWriteGate). SqlOutboxStore holds a store's gate, when its dialect makes one
// (SqlDialect::NewWriteGate), around every write transaction.
//
// THREADING: implementations are thread-safe.
#ifndef OUTBOXD_STORE_SQL_WRITE_GATE_H_
#define OUTBOXD_STORE_SQL_WRITE_GATE_H_

namespace outboxd::sql_store {

class WriteGate {
 public:
  virtual ~WriteGate() = default;

  // Waits for the gate. False (gate not taken) when the worker holding it waits for a lock held
  // by another process: the caller reports the store Unavailable.
  virtual bool Enter() = 0;
  // REQUIRES: the caller's Enter returned true.
  virtual void Leave() = 0;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_WRITE_GATE_H_
