// RunPostgresQuery: PQconnectdbParams (URI expanded, our defaults overridable) + PQexec.
#include "postgres_query.h"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>

#include "one_line.h"

namespace outboxd::discovery_sql {

QueryResult RunPostgresQuery(const std::string& uri, const std::string& query) {
  // Keywords are applied in order and the expanded URI comes last, so the URI's own
  // connect_timeout / application_name win over these defaults.
  const char* const keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* const values[] = {"10", "outboxd-discovery-sql", uri.c_str(), nullptr};
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(
      PQconnectdbParams(keywords, values, /*expand_dbname=*/1), &PQfinish);
  if (conn == nullptr) throw std::runtime_error("out of memory creating a libpq connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect: " + OneLine(PQerrorMessage(conn.get())));
  }
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn.get(), query.c_str()), &PQclear);
  if (res == nullptr)
    throw std::runtime_error("query failed: " + OneLine(PQerrorMessage(conn.get())));
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    const char* err = PQresultErrorMessage(res.get());
    throw std::runtime_error("query failed: " +
                             (err != nullptr && *err != '\0'
                                  ? OneLine(err)
                                  : std::string("the query returned no result set (") +
                                        PQresStatus(PQresultStatus(res.get())) + ")"));
  }
  QueryResult result;
  const int columns = PQnfields(res.get());
  const int rows = PQntuples(res.get());
  for (int c = 0; c < columns; ++c) result.columns.emplace_back(PQfname(res.get(), c));
  result.rows.reserve(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(res.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res.get(), r, c),
                                     static_cast<size_t>(PQgetlength(res.get(), r, c))));
      }
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace outboxd::discovery_sql
