#include "store/postgres/libpq_notices.h"

#include <gtest/gtest.h>

#include "support/log_capture.h"
#include "support/postgres_test_server.h"

namespace outboxd {
namespace {

TEST(LibpqNoticesTest, ServerWarningsGoThroughTheLoggerNotStderr) {
  std::string url;
  OBX_REQUIRE_TEST_POSTGRES(&url);
  PGconn* conn = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  RouteNoticesToLog(conn);
  testing::LogCapture log;
  ::testing::internal::CaptureStderr();
  PQclear(PQexec(conn, "DO $$ BEGIN RAISE WARNING 'obx notice test'; END $$"));
  const std::string raw = ::testing::internal::GetCapturedStderr();
  PQfinish(conn);
  EXPECT_TRUE(log.Contains("PostgreSQL: WARNING:  obx notice test")) ;
  EXPECT_EQ(raw.find("obx notice test"), std::string::npos) << "printed raw: " << raw;
}

}  // namespace
}  // namespace outboxd
