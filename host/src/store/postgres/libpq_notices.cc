#include "store/postgres/libpq_notices.h"

#include <spdlog/spdlog.h>

#include "store/postgres/postgres_conninfo.h"

namespace outboxd {
namespace {

void LogNotice(void* /*arg*/, const char* message) {
  if (message == nullptr) return;
  spdlog::warn("PostgreSQL: {}", sql_store::OneLineLibpqMessage(message));
}

}  // namespace

void RouteNoticesToLog(PGconn* conn) {
  if (conn != nullptr) PQsetNoticeProcessor(conn, &LogNotice, nullptr);
}

}  // namespace outboxd
