#include "http/http_server.h"

#include "common/listen_address.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>

#include <exception>
#include <utility>

namespace outboxd {
namespace {

class RequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RequestHandler(const HttpHandler* handler) : handler_(handler) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    HttpRequest req;
    req.method = request.getMethod();
    const std::string& uri = request.getURI();
    req.path = uri.substr(0, uri.find('?'));
    HttpResponse res;
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.body = "method not allowed\n";
      response.set("Allow", "GET, HEAD");
    } else {
      try {
        res = (*handler_)(req);
      } catch (const std::exception& e) {
        res = HttpResponse{500, "text/plain; charset=utf-8", std::string("internal error: ") +
                                                                  e.what() + "\n"};
      }
    }
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.status));
    response.setContentType(res.content_type);
    response.setContentLength(static_cast<std::streamsize>(res.body.size()));
    response.setKeepAlive(false);
    std::ostream& out = response.send();
    if (req.method != "HEAD") out << res.body;
  }

 private:
  const HttpHandler* handler_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(const HttpHandler* handler) : handler_(handler) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new RequestHandler(handler_);
  }

 private:
  const HttpHandler* handler_;
};

}  // namespace

struct HttpServer::Impl {
  HttpHandler handler;
  std::unique_ptr<Poco::ThreadPool> threads;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  bool stopped = false;
};

Status HttpServer::Start(const HttpServerOptions& options, HttpHandler handler,
                         std::unique_ptr<HttpServer>* out) {
  std::string host;
  int port = 0;
  OBX_RETURN_IF_ERROR(ParseListenAddress(options.listen, &host, &port));
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.handler = std::move(handler);
  try {
    Poco::Net::ServerSocket socket;
    // SO_REUSEADDR (a restart binds at once) but not SO_REUSEPORT: a port another process listens
    // on must be an error, not silently shared.
    socket.bind(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)),
                /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(options.max_queued);
    auto* params = new Poco::Net::HTTPServerParams();
    params->setMaxThreads(options.max_threads);
    params->setMaxQueued(options.max_queued);
    params->setTimeout(Poco::Timespan(options.io_timeout.count() * 1000));
    params->setKeepAlive(false);
    impl.threads = std::make_unique<Poco::ThreadPool>(1, options.max_threads);
    const Poco::Net::SocketAddress bound = socket.address();
    server->port_ = bound.port();
    server->address_ = bound.toString();
    impl.server = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(&impl.handler),
                                                          *impl.threads, socket, params);
    impl.server->start();
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("cannot listen on " + options.listen + ": " + e.displayText());
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + options.listen + ": " + e.what());
  }
  *out = std::move(server);
  return Status::OK();
}

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->server) impl_->server->stopAll(/*abortCurrent=*/false);
  if (impl_->threads) impl_->threads->joinAll();
}

HttpServer::~HttpServer() { Stop(); }

}  // namespace outboxd
