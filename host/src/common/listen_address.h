// ParseListenAddress: the "host:port" form of a listen address (http.listen): "127.0.0.1:9780",
// "0.0.0.0:9780", "[::1]:9780", "localhost:9780"; port 0 asks for any free port.
// THREADING: a pure function.
#ifndef OUTBOXD_COMMON_LISTEN_ADDRESS_H_
#define OUTBOXD_COMMON_LISTEN_ADDRESS_H_

#include <string>

#include "common/status.h"

namespace outboxd {

// Splits `listen` into *host (brackets of an IPv6 address removed) and *port. InvalidArgument
// quoting `listen` when it is malformed or the port is outside 0..65535; outputs untouched then.
Status ParseListenAddress(const std::string& listen, std::string* host, int* port);

}  // namespace outboxd

#endif  // OUTBOXD_COMMON_LISTEN_ADDRESS_H_
