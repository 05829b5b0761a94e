// RouteNoticesToLog: libpq prints a server's NOTICE and WARNING messages (and its own notices) on
// stderr unless the connection has a notice processor. Every PGconn outboxd opens gets this one,
// which sends each message through the logger instead (warning level, one line, prefixed
// "PostgreSQL: "), so `log_format: json` and log levels apply to them too.
// THREADING: the processor is called on the thread using the connection; spdlog is thread-safe.
#ifndef OUTBOXD_STORE_POSTGRES_LIBPQ_NOTICES_H_
#define OUTBOXD_STORE_POSTGRES_LIBPQ_NOTICES_H_

#include <libpq-fe.h>

namespace outboxd {

// No-op for a null connection.
void RouteNoticesToLog(PGconn* conn);

}  // namespace outboxd

#endif  // OUTBOXD_STORE_POSTGRES_LIBPQ_NOTICES_H_
