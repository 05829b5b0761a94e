// HttpServer: a small HTTP/1.1 server for outboxd's own endpoints (/metrics, /healthz, /readyz,
// /status). Poco::Net's HTTPServer does the work; this header has no Poco types, and host/src/http/
// is the only folder besides host/src/store/ that includes Poco (Poco stays behind interfaces).
//
// It cannot stall the rest of the process: it runs on its own small thread pool (max_threads), the
// accept queue is bounded (max_queued: further connections are refused), sockets time out
// (io_timeout), only GET and HEAD are served (anything else: 405), request bodies are never read,
// Poco bounds header sizes, and keep-alive is off. The handler runs on a server thread: it must be
// quick and must not hold a lock across a database or plugin call.
//
// OWNERSHIP: the server owns its threads; Stop() (or the destructor) joins them. The handler is
// copied in and must stay callable until Stop() returns.
// THREADING: Start/Stop from one thread; the handler is called from up to max_threads threads at
// once.
// ERRORS: Start returns InvalidArgument for a malformed listen address and Unavailable when the
// address cannot be bound (outboxd exits 2 on either).
#ifndef OUTBOXD_HTTP_HTTP_SERVER_H_
#define OUTBOXD_HTTP_HTTP_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace outboxd {

struct HttpRequest {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // without the query string
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // "host:port", e.g. "127.0.0.1:9780" or "[::1]:9780"; port 0 picks a free port (see port()).
  std::string listen;
  int max_threads = 2;  // request threads
  int max_queued = 16;  // accepted connections waiting for a thread; more are refused
  std::chrono::milliseconds io_timeout{5000};  // per socket read/write
};

class HttpServer {
 public:
  static Status Start(const HttpServerOptions& options, HttpHandler handler,
                      std::unique_ptr<HttpServer>* out);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the real one when the listen address asked for port 0).
  int port() const { return port_; }
  // "host:port" actually bound.
  const std::string& address() const { return address_; }

  // Stops accepting, waits for the requests in progress, joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::string address_;
};

}  // namespace outboxd

#endif  // OUTBOXD_HTTP_HTTP_SERVER_H_
