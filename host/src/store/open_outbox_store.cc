// OpenOutboxStore: picks the store implementation from the connection string's scheme.
//   sqlite:<path>                     -> SqlOutboxStore over SqliteDialect
//   postgresql://... / postgres://... -> SqlOutboxStore over PostgresDialect
//   anything else                     -> InvalidArgument
#include <cctype>
#include <memory>
#include <string>
#include <utility>

#include "store/outbox_store.h"
#include "store/sql/sql_outbox_store.h"
#include "store/postgres/postgres_dialect.h"
#include "store/sqlite/sqlite_dialect.h"

namespace outboxd {

namespace {

bool HasPrefixIgnoringCase(const std::string& text, const std::string& prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Status OpenOutboxStore(const TenantLocation& location, const StoreOptions& options,
                       std::unique_ptr<OutboxStore>* store) {
  const std::string& connection = location.connection_string;
  const std::string context = "store '" + location.identifier + "'";
  if (HasPrefixIgnoringCase(connection, "sqlite:")) {
    std::string path = connection.substr(std::string("sqlite:").size());
    if (path.empty() || path == ":memory:") {
      return Status::InvalidArgument("connection string '" + RedactConnectionString(connection) +
                                     "' needs a database file path after 'sqlite:'")
          .WithContext(context);
    }
    std::unique_ptr<sql_store::SqlOutboxStore> opened;
    OBX_RETURN_IF_ERROR(sql_store::SqlOutboxStore::Create(
        location, options, std::make_unique<sql_store::SqliteDialect>(std::move(path)),
        &opened));
    *store = std::move(opened);
    return Status::OK();
  }
  if (HasPrefixIgnoringCase(connection, "postgresql://") ||
      HasPrefixIgnoringCase(connection, "postgres://")) {
    sql_store::PostgresTarget target;
    Status parsed = sql_store::ParsePostgresConnection(connection, &target);
    if (!parsed.ok()) {
      // ParsePostgresConnection's reason comes from the redacted string; so does this quote.
      return Status::InvalidArgument(parsed.message() + " ('" +
                                     RedactConnectionString(connection) + "')")
          .WithContext(context);
    }
    std::unique_ptr<sql_store::SqlOutboxStore> opened;
    OBX_RETURN_IF_ERROR(sql_store::SqlOutboxStore::Create(
        location, options,
        std::make_unique<sql_store::PostgresDialect>(std::move(target), options.notify_trigger),
        &opened));
    *store = std::move(opened);
    return Status::OK();
  }
  return Status::InvalidArgument("unsupported connection string '" +
                                 RedactConnectionString(connection) +
                                 "': expected sqlite:<path> or postgresql://...")
      .WithContext(context);
}

}  // namespace outboxd
