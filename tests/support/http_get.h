// A tiny HTTP/1.0 client for tests of outboxd's endpoint (header-only, plain POSIX sockets so the
// tests need no HTTP library): HttpGet(port, path) on 127.0.0.1, and helpers to read Prometheus
// text: MetricValue(scrape, "name{label=\"v\"}") and the outboxd port from its start-up log line.
// THREADING: free functions; safe from any thread.
#ifndef OUTBOXD_TESTS_SUPPORT_HTTP_GET_H_
#define OUTBOXD_TESTS_SUPPORT_HTTP_GET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <optional>
#include <sstream>
#include <string>

namespace outboxd::testing {

struct HttpResult {
  int status = 0;  // 0: no answer (connection refused, time-out)
  std::string body;
};

inline HttpResult HttpGet(int port, const std::string& path, const std::string& method = "GET") {
  HttpResult result;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return result;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return result;
  }
  const std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return result;
  }
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) response.append(buf, static_cast<size_t>(n));
  ::close(fd);
  const size_t space = response.find(' ');
  const size_t header_end = response.find("\r\n\r\n");
  if (space == std::string::npos || header_end == std::string::npos) return result;
  result.status = std::atoi(response.c_str() + space + 1);
  result.body = response.substr(header_end + 4);
  return result;
}

// The value of the sample whose name and labels are exactly `series` (as printed, e.g.
// `outboxd_tenant_up{tenant="t1"}`), or nullopt when the scrape has no such line.
inline std::optional<double> MetricValue(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

// Lines of `scrape` that start with `prefix` (samples of one family, say).
inline int CountLines(const std::string& scrape, const std::string& prefix) {
  std::istringstream in(scrape);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, prefix.size(), prefix) == 0) ++n;
  }
  return n;
}

// The port from outboxd's "HTTP endpoint listening on 127.0.0.1:PORT" line, or 0.
inline int ListeningPort(const std::string& log) {
  const std::string marker = "HTTP endpoint listening on ";
  const size_t at = log.find(marker);
  if (at == std::string::npos) return 0;
  const size_t colon = log.find(':', at + marker.size());
  const size_t space = log.find(' ', at + marker.size());
  if (colon == std::string::npos || (space != std::string::npos && colon > space)) return 0;
  return std::atoi(log.c_str() + colon + 1);
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_SUPPORT_HTTP_GET_H_
