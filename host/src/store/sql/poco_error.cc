#include "store/sql/poco_error.h"

#include <Poco/Data/DataException.h>
#include <Poco/Exception.h>

#include <exception>

#include "store/sql/sql_dialect.h"

namespace outboxd::sql_store {

std::string PocoExceptionMessage(const Poco::Exception& e) {
  const std::string& message = e.message();
  if (message.empty()) return e.name();
  // "X: X" -> "X" (the SQLite connector passes sqlite3_errmsg both as message and as detail).
  if (message.size() % 2 == 0 && message.size() >= 4) {
    size_t half = (message.size() - 2) / 2;
    if (message.compare(half, 2, ": ") == 0 &&
        message.compare(0, half, message, half + 2, half) == 0) {
      return message.substr(0, half);
    }
  }
  return message;
}

Status TranslateGenericPocoException(const Poco::Exception& e) {
  std::string message = PocoExceptionMessage(e);
  if (dynamic_cast<const Poco::Data::ConnectionFailedException*>(&e) != nullptr ||
      dynamic_cast<const Poco::Data::NotConnectedException*>(&e) != nullptr ||
      dynamic_cast<const Poco::Data::SessionUnavailableException*>(&e) != nullptr) {
    return Status::Unavailable(message);
  }
  return Status::Internal(std::string(e.name()) + ": " + message);
}

Status StatusFromCurrentException(const SqlDialect& dialect) {
  try {
    throw;
  } catch (const Poco::Exception& e) {
    return dialect.TranslateException(e);
  } catch (const std::exception& e) {
    return Status::Internal(e.what());
  } catch (...) {
    return Status::Internal("unknown exception");
  }
}

}  // namespace outboxd::sql_store
