// Fuzz target: the PostgreSQL connection string parser (store/postgres/postgres_conninfo.h,
// ParsePostgresConnection over libpq's PQconninfoParse). Properties: never crashes (ASan/UBSan);
// the password of "postgresql://u:<secret>@<rest>" or "password='<secret>' <rest>" never appears
// in the error message or in the description meant for logs, whatever libpq makes of the rest
// (leak_check.h's ShowsSecret: not where the mask or the message's own words form it).
//
// Input: a byte choosing the shape, a length-prefixed secret, and the rest of the string.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "leak_check.h"
#include "store/postgres/postgres_conninfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const bool uri = fdp.ConsumeBool();
  const std::string secret = fdp.ConsumeRandomLengthString(40);
  const std::string rest = fdp.ConsumeRemainingBytesAsString();
  if (secret.size() < 4 || secret.find_first_of(std::string("\0\r\n@", 4)) != std::string::npos ||
      secret.find("***") != std::string::npos) {
    return 0;
  }
  const auto connection_of = [&](const std::string& sec) {
    if (uri) return "postgresql://u:" + sec + "@" + rest;
    std::string quoted;
    for (const char c : sec) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return "password='" + quoted + "' " + rest;
  };
  if (rest.find(secret) != std::string::npos) return 0;  // ordinary text in the rest
  // The description (host:port/dbname) is redacted against the whole string too: even when libpq
  // reads a piece of the password as a host or a database name, it is hidden there.
  const auto show = [&](const std::string& sec) {
    outboxd::sql_store::PostgresTarget target;
    const outboxd::Status s =
        outboxd::sql_store::ParsePostgresConnection(connection_of(sec), &target);
    return s.ok() ? target.description : s.message();
  };
  if (obx_fuzz::ShowsSecret(secret, show)) {
    std::fprintf(stderr, "secret shown\n  connection: %s\n  shown: %s\n",
                 connection_of(secret).c_str(), show(secret).c_str());
    std::abort();
  }
  return 0;
}
