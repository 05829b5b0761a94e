// PostgresServerHealth: a server is suspect from a failure until the next success, per server.
#include "store/postgres/postgres_server_health.h"

#include <gtest/gtest.h>

namespace outboxd::sql_store {
namespace {

TEST(PostgresServerHealthTest, ASuspectServerIsClearedByTheNextSuccessOnly) {
  PostgresServerHealth& health = PostgresServerHealth::Instance();
  const std::string a = "health-test-a.invalid:1";
  const std::string b = "health-test-b.invalid:1";
  EXPECT_FALSE(health.Suspect(a));
  health.Failed(a);
  EXPECT_TRUE(health.Suspect(a));
  EXPECT_FALSE(health.Suspect(b)) << "one server's failure made another suspect";
  health.Failed(a);
  health.Succeeded(b);
  EXPECT_TRUE(health.Suspect(a));
  health.Succeeded(a);
  EXPECT_FALSE(health.Suspect(a));
}

}  // namespace
}  // namespace outboxd::sql_store
