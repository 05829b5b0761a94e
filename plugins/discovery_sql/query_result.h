// QueryResult: the rows of one discovery query, as text, independent of the database driver.
// A NULL value is std::nullopt; every row has one value per column.
#ifndef OUTBOXD_PLUGINS_DISCOVERY_SQL_QUERY_RESULT_H_
#define OUTBOXD_PLUGINS_DISCOVERY_SQL_QUERY_RESULT_H_

#include <optional>
#include <string>
#include <vector>

namespace outboxd::discovery_sql {

struct QueryResult {
  std::vector<std::string> columns;                           // names as the database reports them
  std::vector<std::vector<std::optional<std::string>>> rows;  // rows[r][c]
};

}  // namespace outboxd::discovery_sql

#endif  // OUTBOXD_PLUGINS_DISCOVERY_SQL_QUERY_RESULT_H_
