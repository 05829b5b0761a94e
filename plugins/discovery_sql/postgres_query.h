// RunPostgresQuery: runs one query on a PostgreSQL database named by a libpq URI, through libpq.
//
// libpq is used directly rather than Poco's PostgreSQL connector, which (Poco 1.11) rejects URIs
// and leaks the whole PGconn on every failed connection attempt, a leak per refresh while the
// global database is down. Adds connect_timeout=10 and application_name unless the URI sets them.
// Errors come back as std::runtime_error with libpq's message on one line. Opens and closes its
// own connection; thread-compatible.
#ifndef OUTBOXD_PLUGINS_DISCOVERY_SQL_POSTGRES_QUERY_H_
#define OUTBOXD_PLUGINS_DISCOVERY_SQL_POSTGRES_QUERY_H_

#include <string>

#include "query_result.h"

namespace outboxd::discovery_sql {

QueryResult RunPostgresQuery(const std::string& uri, const std::string& query);

}  // namespace outboxd::discovery_sql

#endif  // OUTBOXD_PLUGINS_DISCOVERY_SQL_POSTGRES_QUERY_H_
