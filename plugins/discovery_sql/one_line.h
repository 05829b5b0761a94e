// OneLine: driver messages (libpq's especially) span lines and end in newlines; error texts and log
// lines must not. Collapses every run of whitespace to one space and trims both ends.
#ifndef OUTBOXD_PLUGINS_DISCOVERY_SQL_ONE_LINE_H_
#define OUTBOXD_PLUGINS_DISCOVERY_SQL_ONE_LINE_H_

#include <string>

namespace outboxd::discovery_sql {

std::string OneLine(const std::string& text);

}  // namespace outboxd::discovery_sql

#endif  // OUTBOXD_PLUGINS_DISCOVERY_SQL_ONE_LINE_H_
