// StoreLocation: where one tenant outbox lives. Produced by discovery, keyed by identifier.
#ifndef OUTBOXD_STORE_STORE_LOCATION_H_
#define OUTBOXD_STORE_STORE_LOCATION_H_

#include <string>

namespace outboxd {

struct StoreLocation {
  std::string identifier;         // tenant id, unique, e.g. "customer-001"
  std::string connection_string;  // "sqlite:<path>" or "postgresql://..." (libpq URI)
  std::string schema_name = "infra";  // ignored on SQLite (no schemas)
  std::string table_name = "outbox";

  // Same database and table: a change in any of these re-creates the store.
  bool SameTarget(const StoreLocation& o) const {
    return connection_string == o.connection_string && schema_name == o.schema_name &&
           table_name == o.table_name;
  }
};

// The connection string with any password replaced by "***", safe for logs.
std::string RedactConnectionString(const std::string& connection_string);

}  // namespace outboxd

#endif  // OUTBOXD_STORE_STORE_LOCATION_H_
