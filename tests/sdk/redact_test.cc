// obx/cpp/redact.hpp: the one redaction policy. Exact outputs for the ordinary shapes (what stays
// readable), then the hostile table (tests/support/hostile_connections.h) alone, embedded in longer
// messages, and as pieces a library echoes without any key or URI around them.
#include "obx/cpp/redact.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "support/hostile_connections.h"

namespace {

using outboxd::testing::ExpectNoSecret;
using outboxd::testing::HostileConnections;

TEST(RedactTest, OrdinaryShapesKeepEverythingButThePassword) {
  EXPECT_EQ(obx::RedactConnectionString("postgresql://u:secret@db.example:5432/app"),
            "postgresql://u:***@db.example:5432/app");
  EXPECT_EQ(obx::RedactConnectionString("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(obx::RedactConnectionString("postgresql://h:5432/db"), "postgresql://h:5432/db");
  EXPECT_EQ(obx::RedactConnectionString("postgresql://[::1]:5432/db"),
            "postgresql://[::1]:5432/db");
  EXPECT_EQ(obx::RedactConnectionString("host=h password=secret dbname=d"),
            "host=h password=*** dbname=d");
  EXPECT_EQ(obx::RedactConnectionString("host=h PASSWORD = 'a b' dbname=d"),
            "host=h PASSWORD = *** dbname=d");
  EXPECT_EQ(obx::RedactConnectionString("postgresql://u@h/db?sslmode=require&password=secret"),
            "postgresql://u@h/db?sslmode=require&password=***");
  EXPECT_EQ(obx::RedactConnectionString("host=h sslpassword=secret"), "host=h sslpassword=***");
  EXPECT_EQ(obx::RedactConnectionString("sqlite:/var/lib/app/t1.db"), "sqlite:/var/lib/app/t1.db");
  EXPECT_EQ(obx::RedactConnectionString("password authentication failed for user \"u\""),
            "password authentication failed for user \"u\"");
}

TEST(RedactTest, HostileShapesAreHiddenAlone) {
  for (const auto& c : HostileConnections()) {
    ExpectNoSecret(obx::RedactConnectionString(c.connection), c, "RedactConnectionString");
    ExpectNoSecret(obx::RedactConnectionSecrets(c.connection, c.connection), c,
                   "RedactConnectionSecrets");
  }
}

TEST(RedactTest, HostileShapesAreHiddenInsideLongerMessages) {
  for (const auto& c : HostileConnections()) {
    const std::string quoted = "cannot connect: missing \"=\" after \"" + c.connection +
                               "\" in connection info string\nnext line user@example";
    ExpectNoSecret(obx::RedactConnectionString(quoted), c, "quoted, pattern only");
    ExpectNoSecret(obx::RedactConnectionSecrets(quoted, c.connection), c, "quoted, known");
    const std::string single = "store 'acme': connection '" + c.connection + "' refused";
    ExpectNoSecret(obx::RedactConnectionString(single), c, "single-quoted, pattern only");
  }
}

TEST(RedactTest, PiecesALibraryEchoesAloneAreHiddenWhenTheConnectionIsKnown) {
  for (const auto& c : HostileConnections()) {
    for (const std::string& piece : c.secret_pieces) {
      const std::string message = "invalid percent-encoded token: \"" + piece +
                                  "\"; invalid integer value \"" + piece + "\" for \"port\"";
      ExpectNoSecret(obx::RedactConnectionSecrets(message, c.connection), c, "echoed piece");
    }
  }
}

// libpq reads `password=Two Words42` as password "Two" plus a keyword "Words42" it then quotes:
// only the connection string tells that the second word was meant as part of the password.
TEST(RedactTest, AnUnquotedWordAfterThePasswordIsHiddenWhenTheConnectionIsKnown) {
  const std::string conn = "host=h password=Two Words42 dbname=db";
  const std::string message = "missing \"=\" after \"Words42\" in connection info string";
  EXPECT_EQ(obx::RedactConnectionSecrets(message, conn),
            "missing \"=\" after \"***\" in connection info string");
  EXPECT_EQ(obx::RedactConnectionSecrets(conn, conn).find("Words42"), std::string::npos);
}

// Found by tests/fuzz/fuzz_redact: a password holding "://" (or starting with '@' before one) ended
// the URI early and was shown whole; a "double-quoted" keyword value was cut at its first space.
TEST(RedactTest, FuzzFindingsStayFixed) {
  EXPECT_EQ(obx::RedactConnectionString("store 'x': connection 'postgresql://u:a://b-secret@h/db'"),
            "store 'x': connection 'postgresql://u:***@h/db'");
  EXPECT_EQ(obx::RedactConnectionString("postgresql://u:@1sw0rd://X@h/db"),
            "postgresql://u:***@h/db");
  EXPECT_EQ(obx::RedactConnectionSecrets("near \"a://b-secret\"", "postgresql://u:a://b-secret@h"),
            "near \"***\"");
  EXPECT_EQ(obx::RedactConnectionString("host=h password=\"two words\" dbname=d"),
            "host=h password=*** dbname=d");
  // A stray quote in an earlier value ended it where the later value's quoted part began.
  const std::string stray = "x password=v:%Es*'$ab password='  *r(*' f";
  EXPECT_EQ(obx::RedactConnectionString(stray).find("*r(*"), std::string::npos)
      << obx::RedactConnectionString(stray);
}

// A configuration error quotes a value as JSON: libpq's "\ " reads "\\ " there and a
// "double-quoted" value \"...\" (issue 14, redaction gaps left open by session 2).
TEST(RedactTest, JsonEscapedValuesAreHidden) {
  EXPECT_EQ(obx::RedactConnectionString(R"(got "host=h password=\"two words\" dbname=d")"),
            R"(got "host=h password=*** dbname=d")");
  EXPECT_EQ(obx::RedactConnectionString(R"(got "host=h password=Back\\ sl4sh dbname=d")"),
            R"(got "host=h password=*** dbname=d")");
  EXPECT_EQ(obx::RedactConnectionString(R"(host=h password=Back\ sl4sh dbname=d)"),
            "host=h password=*** dbname=d");
  for (const auto& c : HostileConnections()) {
    const std::string json = "expected an object, got " + nlohmann::json(c.connection).dump();
    ExpectNoSecret(obx::RedactConnectionString(json), c, "JSON-escaped");
  }
}

TEST(RedactTest, KnownSecretsStayReadableAroundThem) {
  const std::string conn = "postgresql://u:Sl4sh/Pw0rdX@h/db";
  EXPECT_EQ(obx::RedactConnectionSecrets("database \"Pw0rdX@h/db\" does not exist", conn),
            "database \"***@h/db\" does not exist");
  EXPECT_EQ(obx::RedactConnectionSecrets("no secret here", "sqlite:/tmp/x.db"), "no secret here");
}

}  // namespace
