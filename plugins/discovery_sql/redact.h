// RedactConnectionString: a connection string with its password replaced by "***", safe for logs
// and error texts. Handles URI user info (postgresql://user:secret@host), URI query parameters and
// libpq keyword strings (password=secret, password='a b'). A local copy: a plugin cannot link
// the host's.
#ifndef OUTBOXD_PLUGINS_DISCOVERY_SQL_REDACT_H_
#define OUTBOXD_PLUGINS_DISCOVERY_SQL_REDACT_H_

#include <string>

namespace outboxd::discovery_sql {

std::string RedactConnectionString(const std::string& connection_string);

}  // namespace outboxd::discovery_sql

#endif  // OUTBOXD_PLUGINS_DISCOVERY_SQL_REDACT_H_
