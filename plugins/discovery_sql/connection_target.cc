// ParseConnectionTarget: "sqlite:<path>" or a PostgreSQL URI (parsed with libpq's own parser).
#include "connection_target.h"

#include <libpq-fe.h>

#include <cctype>
#include <stdexcept>

#include "obx/cpp/redact.hpp"

namespace outboxd::discovery_sql {
namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

[[noreturn]] void Fail(const ConnectionTarget& target, const std::string& why) {
  // libpq's reason may quote the URI or only the piece of the password it could not decode.
  throw std::invalid_argument(
      target.Redact("sql config: \"connection\" " + target.redacted + ": " + why));
}

// Checks the URI with libpq's own parser, so a malformed URI fails create instead of every refresh.
void CheckPostgresUri(const std::string& uri, const ConnectionTarget& target) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "cannot parse the URI";
    if (error != nullptr) PQfreemem(error);
    while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
    Fail(target, why);
  }
  PQconninfoFree(options);
}

}  // namespace

ConnectionTarget ParseConnectionTarget(const std::string& connection) {
  ConnectionTarget target;
  target.connection = connection;
  target.redacted = obx::RedactConnectionString(connection);
  if (StartsWith(connection, "sqlite:")) {
    std::string path = connection.substr(7);
    if (StartsWith(path, "//")) path = path.substr(2);  // sqlite:///abs/path
    if (path.empty()) Fail(target, "no file path after \"sqlite:\"");
    if (path == ":memory:" || path.find('\0') != std::string::npos) {
      Fail(target, "must name a database file");
    }
    target.kind = ConnectionTarget::Kind::kSqlite;
    target.sqlite_path = path;
    return target;
  }
  if (StartsWith(connection, "postgresql://") || StartsWith(connection, "postgres://")) {
    target.kind = ConnectionTarget::Kind::kPostgres;
    CheckPostgresUri(connection, target);
    target.postgres_uri = connection;
    return target;
  }
  Fail(target, "expected \"sqlite:<path>\" or \"postgresql://...\"");
}

std::string ConnectionTarget::Redact(const std::string& message) const {
  return obx::RedactConnectionSecrets(message, connection);
}

std::string SqliteReadOnlyUri(const std::string& path) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      out += c;
    }
  }
  return out + "?mode=ro";
}

}  // namespace outboxd::discovery_sql
