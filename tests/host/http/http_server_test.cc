#include "http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>

#include "common/listen_address.h"
#include "support/http_get.h"

namespace outboxd {
namespace {

using testing::HttpGet;

TEST(HttpServerTest, ServesTheHandlerOnAFreePortAndRefusesOtherMethods) {
  std::atomic<int> calls{0};
  std::unique_ptr<HttpServer> server;
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  ASSERT_TRUE(HttpServer::Start(options,
                                [&calls](const HttpRequest& r) {
                                  ++calls;
                                  if (r.path != "/x") return HttpResponse{404, "text/plain", "no\n"};
                                  return HttpResponse{200, "text/plain", "hello " + r.method + "\n"};
                                },
                                &server)
                  .ok());
  ASSERT_GT(server->port(), 0);
  testing::HttpResult r = HttpGet(server->port(), "/x?query=ignored");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello GET\n");
  EXPECT_EQ(HttpGet(server->port(), "/y").status, 404);
  EXPECT_EQ(HttpGet(server->port(), "/x", "HEAD").body, "");
  EXPECT_EQ(HttpGet(server->port(), "/x", "DELETE").status, 405);
  EXPECT_EQ(calls.load(), 3) << "a refused method never reaches the handler";
  server->Stop();
  EXPECT_EQ(HttpGet(server->port(), "/x").status, 0) << "stopped: nothing listens";
}

TEST(HttpServerTest, AHandlerExceptionIsA500) {
  std::unique_ptr<HttpServer> server;
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  ASSERT_TRUE(HttpServer::Start(
                  options, [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); },
                  &server)
                  .ok());
  testing::HttpResult r = HttpGet(server->port(), "/");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("boom"), std::string::npos);
}

TEST(HttpServerTest, AnAddressInUseIsUnavailableAndAMalformedOneInvalid) {
  std::unique_ptr<HttpServer> first;
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  auto handler = [](const HttpRequest&) { return HttpResponse{}; };
  ASSERT_TRUE(HttpServer::Start(options, handler, &first).ok());
  std::unique_ptr<HttpServer> second;
  options.listen = "127.0.0.1:" + std::to_string(first->port());
  Status s = HttpServer::Start(options, handler, &second);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("cannot listen on 127.0.0.1:"), std::string::npos) << s.message();
  options.listen = "nonsense";
  EXPECT_EQ(HttpServer::Start(options, handler, &second).code(), Status::Code::kInvalidArgument);
}

TEST(ListenAddressTest, ParsesHostPortForms) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:9780", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9780);
  ASSERT_TRUE(ParseListenAddress("[::1]:0", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  for (const char* bad : {"", "9780", ":9780", "host:", "host:99999", "::1:80", "host:8a", "[::1:80"}) {
    EXPECT_FALSE(ParseListenAddress(bad, &host, &port).ok()) << bad;
  }
}

}  // namespace
}  // namespace outboxd
