// PostgresConninfo: a tenant's "postgresql://" URI (or libpq keyword string) turned into the
// libpq keyword form that Poco's PostgreSQL connector passes to PQconnectdb, using libpq's own
// parser (PQconninfoParse) so every URI libpq accepts is accepted here, with the same meaning.
//
// Defaults the URI may override: connect_timeout=5 (an unreachable server must not stall a worker
// for libpq's default of "forever") and application_name=outboxd (visible in pg_stat_activity).
// Limitation of Poco 1.11 (it splits the keyword string at spaces): no value may contain white
// space; such a string is rejected with a message naming the keyword (never the value).
//
// Also: ProbePostgres, a plain libpq connection attempt that always frees what it allocates. The
// store calls it before handing a connection string to Poco after a failed attempt, because
// Poco 1.11's connector leaks its PGconn when a connection fails (about 35 KB each time).
//
// THREADING: free functions without shared state; safe from any thread.
#ifndef OUTBOXD_STORE_POSTGRES_POSTGRES_CONNINFO_H_
#define OUTBOXD_STORE_POSTGRES_POSTGRES_CONNINFO_H_

#include <string>

#include "common/status.h"

namespace outboxd::sql_store {

struct PostgresTarget {
  std::string conninfo;     // keyword form, values quoted: "host='h' port='5432' dbname='d' ..."
  std::string description;  // "host:port/dbname", no user and no password: safe for logs
  std::string server;       // "host:port": the stores of one server share its health
  std::string source;       // the connection string as written: only for RedactFor
};

// `text` with every secret of `target` hidden, as written and as libpq parsed it (an unescaped '/'
// or '@' in a URI password makes libpq read pieces of it as host, port or database name).
std::string RedactFor(const PostgresTarget& target, const std::string& text);

// InvalidArgument (libpq's reason, redacted with RedactConnectionSecrets) for a string libpq cannot
// parse.
Status ParsePostgresConnection(const std::string& connection, PostgresTarget* target);

// A libpq message (which ends with a newline and may span lines) as one line, for logs.
std::string OneLineLibpqMessage(const char* text);

// OK when a connection can be made and authenticated right now; Unavailable with libpq's reason
// (one line) otherwise. Opens and closes one connection.
Status ProbePostgres(const std::string& conninfo);

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_POSTGRES_POSTGRES_CONNINFO_H_
