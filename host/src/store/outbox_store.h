// OutboxStore: one tenant's outbox table. The dispatcher, outboxctl and the tests see only this
// interface; Poco Data stays behind it (host/src/store/sql/, sqlite/, postgres/).
//
// Semantics (database clock everywhere; see docs/semantics.md):
//  - ClaimDue claims, in ONE statement, up to `limit` rows that are either
//      ready   (status 0, due_at null or <= now, next_attempt_at null or <= now), or
//      expired (status 1 and locked_until <= now: the previous owner lost its lease; attempts + 1,
//               last_error notes the expiry),
//    oldest created_at first, setting status 1, owner_token and locked_until = now + lease, and
//    returns the whole rows.
//  - Complete applies outcomes only to rows still in progress under `owner_token`; the rest are
//    reported as lease_lost and left untouched. Done (2) and Failed (3) are terminal.
//  - RenewLease pushes locked_until = now + lease for every row still held by `owner_token`.
//
// THREADING: implementations are thread-safe; calls may come from any number of worker threads at
// once. A store reuses its connections (a small pool) and prepared statements; it never holds a lock
// of its own while a database call runs.
// ERRORS: Status::Unavailable for transient failures (missing file, locked, server down): the caller
// backs the store off and retries. Messages are never lost by a failed call.
#ifndef OUTBOXD_STORE_OUTBOX_STORE_H_
#define OUTBOXD_STORE_OUTBOX_STORE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/connection_budget.h"
#include "store/outbox_message.h"
#include "store/tenant_location.h"

namespace outboxd {

// Knobs for opening a store; defaults are for production.
struct StoreOptions {
  std::string worker_id = "outboxd";  // written to processed_by (host:pid by default in outboxd)
  std::chrono::milliseconds busy_timeout{5000};  // SQLite: how long a writer waits for the lock
  int max_connections = 4;  // per store; connections are opened lazily and reused
  bool create_schema = true;  // create table and index on first use (idempotent)
  bool create_database = false;  // SQLite: create a missing database file (outboxctl does)
  // PostgreSQL: the schema installs an AFTER INSERT trigger that NOTIFYs listeners (see
  // store/postgres_listener.h); false drops that trigger if present.
  bool notify_trigger = false;
  // Process-wide cap on open connections shared by every store (null: none). See
  // store/connection_budget.h.
  std::shared_ptr<ConnectionBudget> connection_budget;
  // A claimed row whose payload is larger than this many bytes is returned without its payload
  // (OutboxMessage::payload_withheld): the claim statement measures it (PostgreSQL: from the
  // TOAST header, without reading it; SQLite 3.40: reads it inside SQLite to measure it, then
  // drops it) and never copies it out. 0: no cap.
  int64_t max_payload_bytes = 0;
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  virtual const TenantLocation& location() const = 0;

  // Creates the table and its indexes if missing, or upgrades an older table in place to
  // kOutboxSchemaVersion (idempotent; memoised after the first success). A table of a newer version
  // than this binary is refused with InvalidArgument naming the table and both versions, and is
  // never altered. See docs/store.md, "Schema versions".
  virtual Status EnsureSchema() = 0;

  // REQUIRES: limit > 0, lease > 0, owner_token non-empty. Appends claimed rows to *out.
  virtual Status ClaimDue(int limit, std::chrono::milliseconds lease,
                          const std::string& owner_token, std::vector<OutboxMessage>* out) = 0;

  // Applies `completions` (all claimed under owner_token) in one transaction. Ids that are not held
  // any more go to report->lease_lost. On error nothing is applied.
  virtual Status Complete(const std::string& owner_token,
                          const std::vector<Completion>& completions, CompletionReport* report) = 0;

  // Extends the lease of every row held by owner_token; *renewed = rows extended.
  virtual Status RenewLease(const std::string& owner_token, std::chrono::milliseconds lease,
                            int64_t* renewed) = 0;

  // Inserts one message in its own transaction; *message_id = the stored logical id.
  virtual Status Enqueue(const NewMessage& message, std::string* message_id) = 0;

  virtual Status GetStats(StoreStats* stats) = 0;

  // Replaces *counts with the number of ready rows (status 0, due or not) per topic, in one
  // statement over the claim index; topics without ready rows are absent. outboxctl stats uses it
  // to count the messages parked under dispatch.unknown_topic "park".
  virtual Status CountReadyByTopic(std::map<std::string, int64_t>* counts) = 0;

  // The backlog gauges in one or two cheap indexed statements (the claim index and the partial
  // index on failed rows): outboxd's metrics refresh them every http.backlog_interval.
  virtual Status GetBacklog(StoreBacklog* backlog) = 0;

  // True when some row is due now (ready) or in progress: `outboxd --drain` waits for false.
  virtual Status HasPendingWork(bool* pending) = 0;

  // Database connections this store holds open right now (metrics: outboxd_connections{engine}).
  // Cheap, never touches the database. Default 0 for stores without connections.
  virtual int open_connections() const { return 0; }

  // True when the store runs one write at a time however many callers it has (SQLite: one writer
  // per file). The schedule then sends a second worker to this tenant only when handlers, not
  // store calls, take a visit's time (dispatch/tenant_schedule.h). Default false.
  virtual bool serializes_writes() const { return false; }

  // Deletes done rows processed longer than `retention` ago; *deleted = rows removed.
  virtual Status Cleanup(std::chrono::milliseconds retention, int64_t* deleted) = 0;

  // --- Operator views and actions (issue 11). Signatures at a glance:
  //   Status ListFailed(const FailedQuery& query, std::vector<FailedMessage>* out);
  //   Status FindByMessageId(const std::string& message_id, std::vector<StoredMessage>* out);
  //   Status ReplayFailed(const ReplaySelection& selection, bool dry_run, int64_t* count);
  //   Status PurgeFailed(const PurgeSelection& selection, bool dry_run, int64_t* count);
  //   Status GetSchemaStatus(SchemaStatus* status);
  // All are safe while outboxd runs on the same table. The ones that read or write the v2 replay
  // columns (FindByMessageId, ReplayFailed) need the table at version 2: they run EnsureSchema first
  // when StoreOptions::create_schema is set, like every other operation.

  // Appends the failed rows (status 3) matching `query` to *out, newest failure first.
  // InvalidArgument when query.limit is outside 1..100000.
  virtual Status ListFailed(const FailedQuery& query, std::vector<FailedMessage>* out) = 0;

  // Appends every row whose message_id equals `message_id` (any status; message_id is not unique in
  // the schema, usually there is one), oldest first. Nothing appended when there is none.
  virtual Status FindByMessageId(const std::string& message_id,
                                 std::vector<StoredMessage>* out) = 0;

  // Moves the selected failed rows back to ready so that they run again as a first attempt:
  // status 0, attempts 0, next_attempt_at/locked_until/owner_token/processed_at/processed_by NULL,
  // last_error kept as history, replay_count + 1, replayed_at = database now. One statement (atomic).
  // *count = rows replayed; with dry_run, rows that would be, and nothing changes.
  // InvalidArgument unless exactly one selector of `selection` is set.
  virtual Status ReplayFailed(const ReplaySelection& selection, bool dry_run, int64_t* count) = 0;

  // Deletes the selected failed rows in batches of selection.batch_size, one transaction each
  // (a failure midway leaves earlier batches deleted; *count says how many). *count = rows deleted;
  // with dry_run, rows that would be, and nothing changes. InvalidArgument for a batch_size outside
  // 1..100000 or a negative older_than.
  virtual Status PurgeFailed(const PurgeSelection& selection, bool dry_run, int64_t* count) = 0;

  // The table's schema version (0 when the table does not exist) and this binary's. Reads only:
  // never creates or upgrades anything, whatever StoreOptions::create_schema says.
  virtual Status GetSchemaStatus(SchemaStatus* status) = 0;
};

// The outbox table schema version this binary creates and upgrades to. 1 = outboxd 0.1.0's table;
// 2 adds replay_count, replayed_at and the failed-rows index (docs/store.md, "Schema versions").
inline constexpr int kOutboxSchemaVersion = 2;

// Opens a store for `location` by connection scheme: "sqlite:<path>", or a PostgreSQL URI
// ("postgresql://..." or "postgres://...", anything libpq accepts). Does not touch the database: connections open lazily, so an unreachable database shows
// up as Unavailable on first use, not here. InvalidArgument for a malformed connection string.
Status OpenOutboxStore(const TenantLocation& location, const StoreOptions& options,
                       std::unique_ptr<OutboxStore>* store);

}  // namespace outboxd

#endif  // OUTBOXD_STORE_OUTBOX_STORE_H_
