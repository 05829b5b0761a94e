// RunSqliteQuery: existence check, read-only URI, Poco RecordSet -> QueryResult.
#include "sqlite_query.h"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/SessionImpl.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <filesystem>
#include <stdexcept>

#include "connection_target.h"
#include "one_line.h"

namespace outboxd::discovery_sql {
namespace {

constexpr size_t kBusyTimeoutSeconds = 10;

}  // namespace

QueryResult RunSqliteQuery(const std::string& path, const std::string& query) {
  // Poco would create a missing file; a typo must not become an empty tenant list. The read-only
  // URI below makes that hold even if the file disappears between the check and the open.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw std::runtime_error("database file not found: " + path);
  }
  try {
    Poco::Data::Session session(Poco::AutoPtr<Poco::Data::SessionImpl>(
        new Poco::Data::SQLite::SessionImpl(SqliteReadOnlyUri(path), kBusyTimeoutSeconds)));
    Poco::Data::Statement statement(session);
    statement << query;
    statement.execute();
    Poco::Data::RecordSet rows(statement);
    QueryResult result;
    for (size_t c = 0; c < rows.columnCount(); ++c) result.columns.push_back(rows.columnName(c));
    result.rows.reserve(rows.rowCount());
    for (size_t r = 0; r < rows.rowCount(); ++r) {
      std::vector<std::optional<std::string>> row;
      row.reserve(rows.columnCount());
      for (size_t c = 0; c < rows.columnCount(); ++c) {
        const Poco::Dynamic::Var& v = rows.value(c, r);
        if (v.isEmpty()) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(v.convert<std::string>());
        }
      }
      result.rows.push_back(std::move(row));
    }
    return result;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error(OneLine(e.displayText()));
  }
}

}  // namespace outboxd::discovery_sql
