// RunSqliteQuery: existence check, read-only URI, SQLite's C API -> QueryResult.
#include "sqlite_query.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "connection_target.h"
#include "one_line.h"

namespace outboxd::discovery_sql {
namespace {

constexpr int kBusyTimeoutMs = 10000;

[[noreturn]] void Fail(sqlite3* db, const std::string& what) {
  throw std::runtime_error(OneLine(what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory")));
}

}  // namespace

QueryResult RunSqliteQuery(const std::string& path, const std::string& query) {
  // A typo must not become an empty tenant list: the file must exist, and the read-only open below
  // never creates it, even if it disappears between the check and the open.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw std::runtime_error("database file not found: " + path);
  }
  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(SqliteReadOnlyUri(path).c_str(), &raw,
                                     SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, &sqlite3_close);
  if (opened != SQLITE_OK) Fail(db.get(), "cannot open");
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  sqlite3_stmt* raw_statement = nullptr;
  if (sqlite3_prepare_v2(db.get(), query.c_str(), static_cast<int>(query.size()), &raw_statement,
                         nullptr) != SQLITE_OK) {
    Fail(db.get(), "cannot prepare the query");
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw_statement, &sqlite3_finalize);
  if (statement == nullptr) throw std::runtime_error("the query is empty");
  QueryResult result;
  const int columns = sqlite3_column_count(statement.get());
  for (int c = 0; c < columns; ++c) result.columns.emplace_back(sqlite3_column_name(statement.get(), c));
  for (;;) {
    const int step = sqlite3_step(statement.get());
    if (step == SQLITE_DONE) break;
    if (step != SQLITE_ROW) Fail(db.get(), "query failed");
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (sqlite3_column_type(statement.get(), c) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
        continue;
      }
      // With its length: a value with a NUL byte stays whole (and is then refused as a record),
      // instead of being cut at the NUL into another tenant's identifier.
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), c));
      const int bytes = sqlite3_column_bytes(statement.get(), c);
      row.emplace_back(text != nullptr ? std::string(text, static_cast<size_t>(bytes)) : std::string());
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace outboxd::discovery_sql
