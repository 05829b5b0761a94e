#include "common/listen_address.h"

#include <cctype>

namespace outboxd {

Status ParseListenAddress(const std::string& listen, std::string* host, int* port) {
  const Status bad = Status::InvalidArgument("expected \"host:port\" (e.g. \"127.0.0.1:9780\"), got \"" +
                                             listen + "\"");
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= listen.size()) return bad;
  std::string h = listen.substr(0, colon);
  if (h.front() == '[') {
    if (h.back() != ']' || h.size() < 3) return bad;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return bad;  // a v6 address needs brackets
  }
  const std::string digits = listen.substr(colon + 1);
  if (digits.size() > 5) return bad;
  int p = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad;
    p = p * 10 + (c - '0');
  }
  if (p > 65535) return bad;
  *host = h;
  *port = p;
  return Status::OK();
}

}  // namespace outboxd
