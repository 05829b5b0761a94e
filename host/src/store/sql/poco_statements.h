// Helpers for the Poco Data statements a StoreConnection keeps: each statement struct binds its
// members by reference once (`stmt` declared last, so it is destroyed before the variables it
// refers to), is built on first use by Prepared and re-executed after that. Internal to
// host/src/store/.
#ifndef OUTBOXD_STORE_SQL_POCO_STATEMENTS_H_
#define OUTBOXD_STORE_SQL_POCO_STATEMENTS_H_

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>
#include <Poco/Types.h>

#include <memory>
#include <optional>
#include <string>

namespace outboxd::sql_store {

using NullableText = Poco::Nullable<std::string>;
using NullableInt = Poco::Nullable<Poco::Int64>;

// The statement in *slot, built as T(session, sql) on first use.
template <typename T>
T& Prepared(std::unique_ptr<T>* slot, Poco::Data::Session& session, const std::string& sql) {
  if (*slot == nullptr) *slot = std::make_unique<T>(session, sql);
  return **slot;
}

inline std::optional<std::string> FromNullable(const NullableText& value) {
  if (value.isNull()) return std::nullopt;
  return value.value();
}

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_POCO_STATEMENTS_H_
