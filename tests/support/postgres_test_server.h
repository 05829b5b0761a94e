// The PostgreSQL server tests may use: a libpq URI in OBX_TEST_PG_URL naming a database the tests
// may create schemas, tables and databases in (packaging/pg-cluster.sh's obx_pg_start exports one
// for a throwaway cluster). Without it, PostgreSQL tests skip with the reason -- unless
// OBX_REQUIRE_PG=1 (CI, packaging/run-tests.sh), where a missing server is a failure: tests must
// never skip silently there.
//
//   TEST(X, Y) {
//     std::string url;
//     OBX_REQUIRE_TEST_POSTGRES(&url);  // skips or fails the test (returns) without a server
//     ...
//   }
//
// THREADING: reads the environment only; safe from any thread.
#ifndef OUTBOXD_TESTS_SUPPORT_POSTGRES_TEST_SERVER_H_
#define OUTBOXD_TESTS_SUPPORT_POSTGRES_TEST_SERVER_H_

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace outboxd::testing {

// OBX_TEST_PG_URL, or "" when unset or empty.
inline std::string PostgresTestUrl() {
  const char* url = std::getenv("OBX_TEST_PG_URL");
  return url != nullptr ? std::string(url) : std::string();
}

// True when OBX_REQUIRE_PG is set to anything but "" or "0": PostgreSQL tests must run.
inline bool PostgresTestsRequired() {
  const char* required = std::getenv("OBX_REQUIRE_PG");
  return required != nullptr && *required != '\0' && std::string(required) != "0";
}

// Why PostgreSQL tests cannot run here (for the skip or failure message).
inline std::string PostgresTestServerMissingReason() {
  return PostgresTestsRequired()
             ? "OBX_REQUIRE_PG is set but OBX_TEST_PG_URL is not: no PostgreSQL server to test "
               "against (source packaging/pg-cluster.sh; obx_pg_start)"
             : "PostgreSQL test skipped: set OBX_TEST_PG_URL to a server's URI (source "
               "packaging/pg-cluster.sh; obx_pg_start), or OBX_REQUIRE_PG=1 to fail instead";
}

}  // namespace outboxd::testing

// Stores the server's URI in *url_out, or ends the current test (a void function: a test body or
// SetUp) with GTEST_SKIP, or with a failure under OBX_REQUIRE_PG=1.
#define OBX_REQUIRE_TEST_POSTGRES(url_out)                                              \
  do {                                                                                  \
    *(url_out) = ::outboxd::testing::PostgresTestUrl();                                 \
    if ((url_out)->empty()) {                                                           \
      if (::outboxd::testing::PostgresTestsRequired()) {                                \
        FAIL() << ::outboxd::testing::PostgresTestServerMissingReason();                \
      }                                                                                 \
      GTEST_SKIP() << ::outboxd::testing::PostgresTestServerMissingReason();            \
    }                                                                                   \
  } while (0)

#endif  // OUTBOXD_TESTS_SUPPORT_POSTGRES_TEST_SERVER_H_
