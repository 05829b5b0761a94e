// PostgresServerHealth: which PostgreSQL servers (host:port) this process failed to reach and has
// not reached since, so that a store opening a connection knows whether to probe first.
//
// Why: Poco 1.11's connector leaks its PGconn (about 35 KB) when a connect fails, so a connect
// that may fail goes through ProbePostgres (a plain libpq attempt that frees what it allocates,
// postgres_conninfo.h) first. Probing before EVERY first connect cost a second server session
// (a backend fork and authentication) per connection: on a fleet of fresh tenants that doubled
// start-up (measured: about 60 ms per session on the bench's 2-core machine, 1,000 tenants). Now a
// store probes first only when its own last attempt failed or when any store's attempt on the same
// server failed and none has succeeded since: a server going down costs at most one unprobed
// failure per store that was already connecting, not one per store per attempt.
//
// THREADING: thread-safe; one instance per process (Instance()).
#ifndef OUTBOXD_STORE_POSTGRES_POSTGRES_SERVER_HEALTH_H_
#define OUTBOXD_STORE_POSTGRES_POSTGRES_SERVER_HEALTH_H_

#include <mutex>
#include <string>
#include <unordered_set>

namespace outboxd::sql_store {

class PostgresServerHealth {
 public:
  static PostgresServerHealth& Instance();

  // A connection to `server` failed or was lost: connects to it probe first from now on.
  void Failed(const std::string& server);
  // A connection to `server` was made: it is reachable again.
  void Succeeded(const std::string& server);
  // Failed and not Succeeded since.
  bool Suspect(const std::string& server) const;

 private:
  mutable std::mutex mu_;
  std::unordered_set<std::string> suspect_;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_POSTGRES_POSTGRES_SERVER_HEALTH_H_
