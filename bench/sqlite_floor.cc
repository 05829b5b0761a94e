// sqlite_floor: the SQLite database floor for outboxd's burn-down. The same two-phase loop outboxd
// runs per batch, with nothing else around it, through the sqlite3 C API:
//   1. claim: one UPDATE ... WHERE id IN (SELECT id ... ORDER BY created_at, id LIMIT 50)
//      RETURNING ... (status 1, owner token, lease), reading every returned column;
//   2. complete: BEGIN IMMEDIATE; UPDATE ... SET status = 2 ... WHERE id IN (json_each(?)) AND
//      owner_token = ? AND status = 1 RETURNING id; COMMIT.
// The table and its claim index are the product's own: PATH must hold an empty outbox table made by
// `outboxctl schema apply --connection sqlite:PATH` (bench/run does that). Same claimable predicate
// and pragmas (WAL, synchronous NORMAL) as host/src/store/sqlite/sqlite_dialect.cc. Statements are
// prepared once.
//
// Usage: sqlite_floor --db PATH [--rows N=100000] [--batch 50] [--threads 1]
// Prints one JSON object: {"rows":..,"batch":..,"threads":..,"seconds":..,"msgs_per_s":..}
// (seconds: from the first claim to the last completion; table set-up excluded).
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* kNow = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";

[[noreturn]] void Die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "sqlite_floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite_floor: %s\n  in: %.200s\n", err ? err : "?", sql.c_str());
    std::exit(1);
  }
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

sqlite3* Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die(db, "open");
  Exec(db, "PRAGMA busy_timeout = 5000");
  Exec(db, "PRAGMA journal_mode = WAL");
  Exec(db, "PRAGMA synchronous = NORMAL");
  return db;
}

sqlite3_stmt* Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
    Die(db, "prepare");
  }
  return st;
}

// One worker: claim/complete until a claim returns nothing. Returns rows completed.
long Worker(const std::string& path, int batch, int worker_no) {
  sqlite3* db = Open(path);
  const std::string claimable =
      "status IN (0, 1) AND ((status = 0 AND (due_at IS NULL OR due_at <= {now}) AND "
      "(next_attempt_at IS NULL OR next_attempt_at <= {now})) OR (status = 1 AND locked_until <= {now}))";
  std::string claim =
      "UPDATE outbox SET attempts = CASE WHEN status = 1 THEN attempts + 1 ELSE attempts END, "
      "last_error = CASE WHEN status = 1 THEN 'lease expired: owner ' || owner_token || "
      "' did not complete the message before its lease ran out' ELSE last_error END, "
      "status = 1, owner_token = ?1, locked_until = {now} + ?2 "
      "WHERE id IN (SELECT id FROM outbox WHERE " + claimable +
      " ORDER BY created_at, id LIMIT ?3) "
      "RETURNING id, message_id, topic, payload, correlation_id, created_at, due_at, attempts, last_error";
  std::string done =
      "UPDATE outbox SET status = 2, processed_at = {now}, processed_by = ?1, owner_token = NULL, "
      "locked_until = NULL WHERE id IN (SELECT value FROM json_each(?2)) AND owner_token = ?3 "
      "AND status = 1 RETURNING id";
  sqlite3_stmt* st_claim = Prepare(db, Replace(claim, "{now}", kNow));
  sqlite3_stmt* st_done = Prepare(db, Replace(done, "{now}", kNow));
  sqlite3_stmt* st_begin = Prepare(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* st_commit = Prepare(db, "COMMIT");
  const std::string worker = "floor-" + std::to_string(worker_no);
  long total = 0;
  for (long round = 0;; ++round) {
    const std::string owner = worker + "-" + std::to_string(round);
    sqlite3_bind_text(st_claim, 1, owner.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st_claim, 2, 30000);
    sqlite3_bind_int(st_claim, 3, batch);
    std::string ids = "[";
    int n = 0, rc;
    while ((rc = sqlite3_step(st_claim)) == SQLITE_ROW) {
      // Read every column, as a store materialising OutboxMessage would.
      for (int c = 0; c < 9; ++c) {
        if (sqlite3_column_type(st_claim, c) == SQLITE_TEXT) {
          volatile const unsigned char* t = sqlite3_column_text(st_claim, c);
          (void)t;
        }
      }
      if (n++) ids += ',';
      ids += std::to_string(sqlite3_column_int64(st_claim, 0));
    }
    if (rc != SQLITE_DONE) Die(db, "claim");
    sqlite3_reset(st_claim);
    if (n == 0) break;
    ids += ']';
    if (sqlite3_step(st_begin) != SQLITE_DONE) Die(db, "begin");
    sqlite3_reset(st_begin);
    sqlite3_bind_text(st_done, 1, worker.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st_done, 2, ids.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st_done, 3, owner.c_str(), -1, SQLITE_TRANSIENT);
    int completed = 0;
    while ((rc = sqlite3_step(st_done)) == SQLITE_ROW) ++completed;
    if (rc != SQLITE_DONE) Die(db, "complete");
    sqlite3_reset(st_done);
    if (sqlite3_step(st_commit) != SQLITE_DONE) Die(db, "commit");
    sqlite3_reset(st_commit);
    total += completed;
  }
  for (sqlite3_stmt* s : {st_claim, st_done, st_begin, st_commit}) sqlite3_finalize(s);
  sqlite3_close(db);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  long rows = 100000;
  int batch = 50, threads = 1;
  std::string path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--db")) path = argv[i + 1];
    else { std::fprintf(stderr, "usage: sqlite_floor --db PATH [--rows N] [--batch B] [--threads T]\n"); return 2; }
  }
  if (path.empty()) {
    std::fprintf(stderr, "sqlite_floor: --db PATH is required (see the usage at the top)\n");
    return 2;
  }

  sqlite3* db = Open(path);
  // The product's table, as `outboxctl schema apply` created it: no copy of the DDL here.
  sqlite3_stmt* probe = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM outbox", -1, &probe, nullptr) != SQLITE_OK ||
      sqlite3_step(probe) != SQLITE_ROW) {
    std::fprintf(stderr,
                 "sqlite_floor: %s has no outbox table (%s); create it first with\n"
                 "  outboxctl schema apply --connection sqlite:%s\n",
                 path.c_str(), sqlite3_errmsg(db), path.c_str());
    return 2;
  }
  const long existing = sqlite3_column_int64(probe, 0);
  sqlite3_finalize(probe);
  if (existing != 0) {
    std::fprintf(stderr, "sqlite_floor: %s already holds %ld rows; give it an empty outbox\n",
                 path.c_str(), existing);
    return 2;
  }
  Exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
               std::to_string(rows) +
               ") INSERT INTO outbox (topic, payload) SELECT 'email.send', "
               "'{\"to\":\"user' || i || '@example.com\"}' FROM n");
  Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(db);

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::atomic<long> done{0};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] { done += Worker(path, batch, t); });
  }
  for (auto& th : pool) th.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (done.load() != rows) {
    std::fprintf(stderr, "sqlite_floor: completed %ld of %ld rows\n", done.load(), rows);
    return 1;
  }
  std::printf("{\"rows\":%ld,\"batch\":%d,\"threads\":%d,\"seconds\":%.4f,\"msgs_per_s\":%.1f}\n",
              rows, batch, threads, secs, rows / secs);
  return 0;
}
