// Poco exception -> Status at the store's edge. Dialects map their own connector's exception types
// and fall back on TranslateGenericPocoException for the connector-independent Poco::Data ones.
//
// THREADING: free functions without state; safe from any thread.
#ifndef OUTBOXD_STORE_SQL_POCO_ERROR_H_
#define OUTBOXD_STORE_SQL_POCO_ERROR_H_

#include <string>

#include "common/status.h"

namespace Poco {
class Exception;
}  // namespace Poco

namespace outboxd::sql_store {

class SqlDialect;

// The most useful text of `e`: its message (Poco's SQLite connector often repeats it as
// "X: X", which is folded to "X"), or its name when the message is empty.
std::string PocoExceptionMessage(const Poco::Exception& e);

// Connection failures (ConnectionFailed, NotConnected, SessionUnavailable) -> Unavailable,
// everything else -> Internal.
Status TranslateGenericPocoException(const Poco::Exception& e);

// Converts the exception being handled into a Status through `dialect`. Call only inside a catch
// block. Handles Poco::Exception, std::exception and anything else.
Status StatusFromCurrentException(const SqlDialect& dialect);

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_POCO_ERROR_H_
