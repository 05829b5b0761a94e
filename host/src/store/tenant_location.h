// TenantLocation: where one tenant outbox lives. Produced by discovery, keyed by identifier.
#ifndef OUTBOXD_STORE_TENANT_LOCATION_H_
#define OUTBOXD_STORE_TENANT_LOCATION_H_

#include <string>

#include "obx/cpp/redact.hpp"

namespace outboxd {

struct TenantLocation {
  std::string identifier;         // tenant id, unique, e.g. "customer-001"
  std::string connection_string;  // "sqlite:<path>" or "postgresql://..." (libpq URI)
  std::string schema_name = "infra";  // ignored on SQLite (no schemas)
  std::string table_name = "outbox";

  // Same database and table: a change in any of these re-creates the store.
  bool SameTarget(const TenantLocation& o) const {
    return connection_string == o.connection_string && schema_name == o.schema_name &&
           table_name == o.table_name;
  }
};

// The one redaction policy (sdk/include/obx/cpp/redact.hpp, shared with the plugins): apply it to
// the whole text after it is assembled. RedactConnectionString(text) hides the passwords the text
// shows; RedactConnectionSecrets(text, connection_string) also hides every piece of that connection
// string's secrets wherever a library echoed it.
using ::obx::RedactConnectionSecrets;
using ::obx::RedactConnectionString;

}  // namespace outboxd

#endif  // OUTBOXD_STORE_TENANT_LOCATION_H_
