// The `sql` discovery plugin: lists tenant databases with one query against a global database.
//
// Config: {"connection": "sqlite:<path>" | "postgresql://...", "query": "<SELECT ...>"}; unknown
// keys fail create. The default query is the seed scenario's:
//   SELECT CustomerId AS identifier, ConnectionString AS connection_string
//   FROM Customers WHERE CAST(IsActive AS INTEGER) = 1
// Result columns are matched by name (case-insensitive): identifier and connection_string are
// required, schema_name and table_name optional (NULL or absent = host default). A row with a NULL
// or empty identifier or connection_string, or a repeated identifier, is skipped with a warning
// naming its row number. Every discover opens a fresh session (discovery runs every few minutes, so
// there is no connection to keep healthy): SQLite through its C API (read-only, never creating the
// file), PostgreSQL through libpq (see postgres_query.h for why not Poco's connector). A connection
// or query error fails that discover with a message naming the connection, password redacted.
// Confined to the host's control thread.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config_object.h"
#include "connection_target.h"
#include "obx/cpp/plugin.hpp"
#include "postgres_query.h"
#include "query_result.h"
#include "sqlite_query.h"

namespace outboxd::discovery_sql {
namespace {

using nlohmann::json;

constexpr char kDefaultQuery[] =
    "SELECT CustomerId AS identifier, ConnectionString AS connection_string "
    "FROM Customers WHERE CAST(IsActive AS INTEGER) = 1";

[[noreturn]] void Fail(const std::string& message) {
  throw std::invalid_argument("sql config: " + message);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class SqlDiscovery : public obx::DiscoveryProvider {
 public:
  explicit SqlDiscovery(const obx::PluginContext& ctx) : host_(ctx.host), query_(kDefaultQuery) {
    const json root = outboxd_plugins::ParseConfigObject(ctx.config_json, "sql");
    bool has_connection = false;
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it.key() == "connection") {
        if (!it.value().is_string() || it.value().get<std::string>().empty()) {
          Fail(
              "\"connection\" must be a non-empty string (\"sqlite:<path>\" or "
              "\"postgresql://...\")");
        }
        target_ = ParseConnectionTarget(it.value().get<std::string>());
        has_connection = true;
      } else if (it.key() == "query") {
        if (!it.value().is_string() || it.value().get<std::string>().empty()) {
          Fail("\"query\" must be a non-empty SQL string");
        }
        query_ = it.value().get<std::string>();
      } else {
        Fail("unknown key \"" + it.key() + "\" (expected connection, query)");
      }
    }
    if (!has_connection) Fail("missing required key \"connection\"");
  }

  std::vector<obx::Database> Discover() override {
    const std::string where = "sql discovery on " + target_.redacted;
    QueryResult result;
    try {
      result = target_.kind == ConnectionTarget::Kind::kSqlite
                   ? RunSqliteQuery(target_.sqlite_path, query_)
                   : RunPostgresQuery(target_.postgres_uri, query_);
    } catch (const std::exception& e) {
      // Redacted last: libpq's message quotes what it was given.
      throw std::runtime_error(target_.Redact(where + ": " + e.what()));
    }
    std::vector<obx::Database> dbs = Extract(result, where);
    host_.Debug(where + ": " + std::to_string(dbs.size()) + " database(s)");
    return dbs;
  }

 private:
  std::vector<obx::Database> Extract(const QueryResult& result, const std::string& where) const {
    std::optional<size_t> id_col;
    std::optional<size_t> conn_col;
    std::optional<size_t> schema_col;
    std::optional<size_t> table_col;
    std::string names;
    for (size_t c = 0; c < result.columns.size(); ++c) {
      const std::string name = Lower(result.columns[c]);
      names += (names.empty() ? "" : ", ") + result.columns[c];
      if (name == "identifier") id_col = c;
      if (name == "connection_string") conn_col = c;
      if (name == "schema_name") schema_col = c;
      if (name == "table_name") table_col = c;
    }
    if (!id_col || !conn_col) {
      throw std::runtime_error(where +
                               ": the query must return columns \"identifier\" and "
                               "\"connection_string\" (got: " +
                               names + ")");
    }
    std::vector<obx::Database> dbs;
    std::set<std::string> seen;
    for (size_t r = 0; r < result.rows.size(); ++r) {
      const auto& values = result.rows[r];
      const std::string row = "row " + std::to_string(r + 1);
      obx::Database db;
      db.identifier = values[*id_col].value_or("");
      db.connection_string = values[*conn_col].value_or("");
      if (schema_col) db.schema_name = values[*schema_col].value_or("");
      if (table_col) db.table_name = values[*table_col].value_or("");
      if (db.identifier.empty()) {
        host_.Warn(where + ": " + row + " skipped: NULL or empty identifier");
        continue;
      }
      if (db.connection_string.empty()) {
        host_.Warn(where + ": " + row + " skipped: NULL or empty connection_string (identifier \"" +
                   db.identifier + "\")");
        continue;
      }
      if (!seen.insert(db.identifier).second) {
        host_.Warn(where + ": " + row + " skipped: duplicate identifier \"" + db.identifier + "\"");
        continue;
      }
      dbs.push_back(std::move(db));
    }
    return dbs;
  }

  const obx::Host& host_;
  ConnectionTarget target_;
  std::string query_;
};

}  // namespace
}  // namespace outboxd::discovery_sql

OBX_DEFINE_PLUGIN("sql", OBX_PLUGIN_VERSION,
                  "Lists tenant databases with a query on a SQLite or PostgreSQL global database",
                  void, ::outboxd::discovery_sql::SqlDiscovery, nullptr)
