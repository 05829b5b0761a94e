// ConnectionTarget: the global database the `sql` discovery queries, parsed from "connection".
//
//   "sqlite:<path>" (also "sqlite://<path>"): a SQLite file that must already exist; it is opened
//       read-only, so a wrong path is an error instead of a new empty database;
//   "postgresql://..." or "postgres://...": a libpq URI, checked with libpq's parser.
// ParseConnectionTarget throws std::invalid_argument naming "connection"; the whole message, libpq's
// reason included, passes through obx::RedactConnectionSecrets (obx/cpp/redact.hpp).
#ifndef OUTBOXD_PLUGINS_DISCOVERY_SQL_CONNECTION_TARGET_H_
#define OUTBOXD_PLUGINS_DISCOVERY_SQL_CONNECTION_TARGET_H_

#include <string>

namespace outboxd::discovery_sql {

struct ConnectionTarget {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string sqlite_path;   // kSqlite: the file path
  std::string postgres_uri;  // kPostgres: the URI as configured
  std::string connection;    // as configured: only for Redact below
  std::string redacted;      // the configured string, password replaced, for messages

  // A finished message with every secret of `connection` hidden (apply it last).
  std::string Redact(const std::string& message) const;
};

ConnectionTarget ParseConnectionTarget(const std::string& connection);

// "file:<path>?mode=ro" with the path percent-encoded as SQLite URIs require.
std::string SqliteReadOnlyUri(const std::string& path);

}  // namespace outboxd::discovery_sql

#endif  // OUTBOXD_PLUGINS_DISCOVERY_SQL_CONNECTION_TARGET_H_
