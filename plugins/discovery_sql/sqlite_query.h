// RunSqliteQuery: runs one query on an existing SQLite file through SQLite's C API, opened
// read-only. Values are read with their length, so a text holding a NUL byte is returned whole.
//
// A missing file is an error (std::runtime_error "database file not found: <path>"); the file is
// never created. Driver errors come back as std::runtime_error with SQLite's text on one line.
// Opens and closes its own session; safe to call from any one thread at a time per path.
#ifndef OUTBOXD_PLUGINS_DISCOVERY_SQL_SQLITE_QUERY_H_
#define OUTBOXD_PLUGINS_DISCOVERY_SQL_SQLITE_QUERY_H_

#include <string>

#include "query_result.h"

namespace outboxd::discovery_sql {

QueryResult RunSqliteQuery(const std::string& path, const std::string& query);

}  // namespace outboxd::discovery_sql

#endif  // OUTBOXD_PLUGINS_DISCOVERY_SQL_SQLITE_QUERY_H_
