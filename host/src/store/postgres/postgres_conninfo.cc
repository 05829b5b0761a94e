#include "store/postgres/postgres_conninfo.h"

#include <libpq-fe.h>

#include <cctype>
#include <map>
#include <memory>

#include "store/postgres/libpq_notices.h"
#include "store/tenant_location.h"

namespace outboxd::sql_store {

namespace {

// A keyword value in single quotes, with ' and \ escaped as libpq's keyword syntax requires (Poco
// passes the value through as written).
std::string Quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// libpq knows the URI schemes in lower case only; URI schemes are case-insensitive (RFC 3986) and
// OpenOutboxStore accepts "PostgreSQL://...".
std::string WithLowerCaseScheme(const std::string& connection) {
  size_t end = connection.find("://");
  if (end == std::string::npos) return connection;
  std::string scheme = connection.substr(0, end);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "postgresql" && scheme != "postgres") return connection;
  return scheme + connection.substr(end);
}

}  // namespace

std::string OneLineLibpqMessage(const char* text) {
  std::string out;
  for (const char* p = text == nullptr ? "" : text; *p != '\0'; ++p) {
    out += (*p == '\n' || *p == '\r') ? ' ' : *p;
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

Status ParsePostgresConnection(const std::string& input, PostgresTarget* target) {
  const std::string connection = WithLowerCaseScheme(input);
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
      PQconninfoParse(connection.c_str(), &error), &PQconninfoFree);
  if (options == nullptr) {
    // libpq's reason may quote the input, or only the piece it could not decode (a password).
    std::string why = error != nullptr ? OneLineLibpqMessage(error) : "libpq cannot parse it";
    if (error != nullptr) PQfreemem(error);
    return Status::InvalidArgument(RedactConnectionSecrets(
        "malformed PostgreSQL connection string: " + why, connection));
  }
  std::map<std::string, std::string> values = {{"connect_timeout", "5"},
                                               {"application_name", "outboxd"}};
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) values[o->keyword] = o->val;
  }
  for (const auto& [key, value] : values) {
    if (value.find_first_of(" \t\r\n") != std::string::npos) {
      // Poco 1.11 splits the keyword string at every space, even inside quotes.
      return Status::InvalidArgument(
          "the value of '" + key +
          "' contains white space, which Poco's PostgreSQL connector cannot pass on" +
          (key == "password" ? " (put the password in a .pgpass file or PGPASSWORD instead)"
                             : ""));
    }
  }
  std::string conninfo;
  for (const auto& [key, value] : values) {
    conninfo += (conninfo.empty() ? "" : " ") + key + "=" + Quoted(value);
  }
  auto get = [&](const char* key, const char* fallback) {
    auto it = values.find(key);
    return it != values.end() && !it->second.empty() ? it->second : std::string(fallback);
  };
  target->conninfo = std::move(conninfo);
  target->source = input;
  // Each redacted as a whole: a password libpq read partly as a host and partly as a database
  // name is only recognisable across the "/" (fuzz_connection_string found "th/db!").
  target->description = RedactFor(*target, get("host", "localhost") + ":" + get("port", "5432") +
                                               "/" + get("dbname", get("user", "postgres").c_str()));
  target->server = RedactFor(*target, get("host", "localhost") + ":" + get("port", "5432"));
  return Status::OK();
}

std::string RedactFor(const PostgresTarget& target, const std::string& text) {
  return RedactConnectionSecrets(RedactConnectionSecrets(text, target.source), target.conninfo);
}

Status ProbePostgres(const std::string& conninfo) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  RouteNoticesToLog(conn.get());
  if (conn == nullptr) return Status::Unavailable("out of memory creating a libpq connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Unavailable(OneLineLibpqMessage(PQerrorMessage(conn.get())));
  }
  return Status::OK();
}

}  // namespace outboxd::sql_store
