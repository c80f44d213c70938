#include "http/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "common/ids.h"
#include "http/http_limits.h"
#include "http/test_client.h"

namespace outpost::http {
namespace {

namespace json = boost::json;
using testing::RawClient;
using namespace std::chrono_literals;

// A test router: /echo answers with the query, method and peer; /slow waits for the test.
class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/echo", [](const Request& req, const PathParams&) {
      Response r;
      r.content_type = "text/plain";
      r.body = req.Query("n").value_or("") + "|" + req.client_address;
      return r;
    });
    router_.Add("POST", "/echo", [](const Request& req, const PathParams&) {
      Response r;
      r.content_type = "text/plain";
      r.body = req.body;
      return r;
    });
    router_.Add("GET", "/slow", [this](const Request&, const PathParams&) {
      slow_entered_.set_value();
      std::this_thread::sleep_for(slow_for_);
      Response r;
      r.content_type = "text/plain";
      r.body = std::string(100'000, 's');
      return r;
    });
    router_.Add("GET", "/throw", [](const Request&, const PathParams&) -> Response {
      throw std::runtime_error("boom");
    });
  }

  void StartServer(HttpServerOptions opts = {}) {
    opts.host = "127.0.0.1";
    opts.port = 0;
    server_ = std::make_unique<HttpServer>(router_, opts);
    ASSERT_TRUE(server_->Start().ok());
    address_ = server_->BoundAddress();
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  Router router_;
  std::promise<void> slow_entered_;
  std::chrono::milliseconds slow_for_ = 600ms;
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

TEST_F(HttpServerTest, BoundAddressHasTheChosenPort) {
  StartServer();
  EXPECT_EQ(address_.rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(address_, "127.0.0.1:0");
}

TEST_F(HttpServerTest, StartTwiceIsFailedPrecondition) {
  StartServer();
  EXPECT_EQ(server_->Start().code(), Code::kFailedPrecondition);
}

TEST_F(HttpServerTest, PortInUseIsUnavailable) {
  StartServer();
  HttpServerOptions opts;
  opts.port = static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
  HttpServer other(router_, opts);
  EXPECT_EQ(other.Start().code(), Code::kUnavailable);
}

// Handlers that block (a slow store) hold up no io thread: with every io thread's worth of
// handlers blocked — and more — /health/live (inline) and a fresh request's reading go on.
// Issue 22 item 3. Without the pool (handler_threads 0) the live probe waits for the release.
TEST_F(HttpServerTest, BlockedHandlersHoldUpNeitherTheLiveProbeNorOtherHandlers) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  // However the test ends, the blocked handlers are let go (the server's Stop waits for them).
  std::once_flag once;
  auto let_go = [&] { std::call_once(once, [&] { release.set_value(); }); };
  std::atomic<int> entered{0};
  router_.Add("GET", "/block", [&](const Request&, const PathParams&) {
    ++entered;
    released.wait();
    Response r;
    r.content_type = "text/plain";
    r.body = "unblocked";
    return r;
  });
  router_.Add("GET", "/health/live", [](const Request&, const PathParams&) {
    Response r;
    r.content_type = "text/plain";
    r.body = "live";
    return r;
  });
  HttpServerOptions opts;
  opts.threads = 1;
  opts.handler_threads = 4;
  StartServer(opts);
  // Three blocked handlers: more than the one io thread, fewer than the pool.
  std::vector<std::future<std::optional<testing::RawResponse>>> blocked;
  std::vector<std::unique_ptr<RawClient>> clients;
  // Declared after the clients and their futures: destroyed (letting go) before they are.
  std::shared_ptr<void> guard(nullptr, [&](void*) { let_go(); });
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<RawClient>(address_, 30s));
    RawClient* c = clients.back().get();
    blocked.push_back(std::async(std::launch::async, [c] { return c->Request("GET", "/block"); }));
  }
  for (int i = 0; i < 3000 && entered.load() < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(entered.load(), 3);
  RawClient live(address_, 10s);
  auto r = live.Request("GET", "/health/live");
  ASSERT_TRUE(r) << "the live probe waited for the blocked handlers";
  EXPECT_EQ(r->body, "live");
  RawClient other(address_, 10s);
  auto e = other.Request("GET", "/echo?n=7");  // a handler on the pool's fourth thread
  ASSERT_TRUE(e) << "a handler waited although a pool thread was free";
  EXPECT_EQ(e->body.substr(0, 2), "7|");
  let_go();
  for (auto& f : blocked) {
    auto b = f.get();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->body, "unblocked");
  }
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  RawClient client(address_);
  ASSERT_TRUE(client.connected());
  std::string peer;
  for (int i = 0; i < 3; ++i) {
    auto r = client.Request("GET", "/echo?n=" + std::to_string(i));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    std::string body = r->body;
    EXPECT_EQ(body.substr(0, 2), std::to_string(i) + "|");
    if (i == 0) peer = body.substr(2);
    EXPECT_EQ(body.substr(2), peer);  // the same connection every time
    EXPECT_NE(r->headers.Get("Connection"), "close");
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawClient client(address_);
  ASSERT_TRUE(
      client.Send("GET /echo?n=first HTTP/1.1\r\nHost: t\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsecond"
                  "GET /echo?n=third HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto a = client.Read();
  auto b = client.Read();
  auto c = client.Read();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->body.substr(0, 6), "first|");
  EXPECT_EQ(b->body, "second");
  EXPECT_EQ(c->body.substr(0, 6), "third|");
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413EnvelopeAndCloses) {
  HttpServerOptions opts;
  opts.max_body_bytes = 1024;
  StartServer(opts);
  RawClient client(address_);
  auto r = client.Request("POST", "/echo", "X-Request-ID: big-1\r\n", std::string(4096, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->headers.Get("X-Request-ID"), "big-1");
  EXPECT_EQ(r->headers.Get("Connection"), "close");
  json::value body = r->Json();
  EXPECT_EQ(body.at("success"), false);
  EXPECT_EQ(body.at("error").at("code"), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(body.at("meta").at("requestId"), "big-1");
  EXPECT_TRUE(client.PeerClosed());
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  HttpServerOptions opts;
  opts.max_body_bytes = 1024;
  StartServer(opts);
  RawClient client(address_);
  std::string chunk(800, 'x');
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "320\r\n" +
                  chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(IsUlid(r->headers.Get("X-Request-ID").value_or("")));
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAccepted) {
  HttpServerOptions opts;
  opts.max_body_bytes = 1024;
  StartServer(opts);
  RawClient client(address_);
  auto r = client.Request("POST", "/echo", "", std::string(1024, 'y'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 1024u);
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  StartServer();
  RawClient client(address_);
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(client.Send("hello"));
  auto r = client.Read();  // skips the 100
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(HttpServerTest, MalformedRequestLineIs400AndCloses) {
  StartServer();
  RawClient client(address_);
  ASSERT_TRUE(client.Send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->Json().at("error").at("code"), "VALIDATION_ERROR");
  EXPECT_TRUE(r->headers.Has("X-Request-ID"));
  EXPECT_TRUE(client.PeerClosed());
}

TEST_F(HttpServerTest, HeaderBlockOverTheLimitIs431) {
  HttpServerOptions opts;
  opts.max_header_bytes = 4096;
  StartServer(opts);
  RawClient client(address_);
  auto r = client.Request("GET", "/echo", "X-Big: " + std::string(8192, 'h') + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->Json().at("error").at("code"), "REQUEST_HEADERS_TOO_LARGE");
  EXPECT_TRUE(client.PeerClosed());
}

TEST_F(HttpServerTest, UnknownRouteIs404Envelope) {
  StartServer();
  RawClient client(address_);
  auto r = client.Request("GET", "/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->headers.Get("Content-Type"), "application/json");
  json::value body = r->Json();
  EXPECT_EQ(body.at("error").at("code"), "NOT_FOUND");
  EXPECT_EQ(body.at("meta").at("requestId"), json::value(*r->headers.Get("X-Request-ID")));
  // The connection stays usable after an error the router answered.
  EXPECT_EQ(client.Request("GET", "/echo")->status, 200);
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  StartServer();
  RawClient client(address_);
  auto r = client.Request("DELETE", "/echo");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->headers.Get("Allow"), "GET, HEAD, POST");
  EXPECT_EQ(r->Json().at("error").at("code"), "METHOD_NOT_ALLOWED");
}

TEST_F(HttpServerTest, HeadSendsHeadersWithoutBody) {
  StartServer();
  RawClient client(address_);
  auto r = client.Request("HEAD", "/echo?n=x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_NE(r->headers.Get("Content-Length"), "0");
  auto next = client.Request("GET", "/echo?n=after");  // nothing stray was left in the stream
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body.substr(0, 6), "after|");
}

TEST_F(HttpServerTest, ValidClientRequestIdIsEchoed) {
  StartServer();
  RawClient client(address_);
  auto r = client.Request("GET", "/echo", "X-Request-ID: trace-42:a.b_c\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers.Get("X-Request-ID"), "trace-42:a.b_c");
}

TEST_F(HttpServerTest, InvalidOrMissingRequestIdIsReplacedByUlid) {
  StartServer();
  RawClient client(address_);
  auto missing = client.Request("GET", "/echo");
  auto invalid = client.Request("GET", "/echo", "X-Request-ID: has space\r\n");
  ASSERT_TRUE(missing && invalid);
  EXPECT_TRUE(IsUlid(missing->headers.Get("X-Request-ID").value_or("")));
  EXPECT_TRUE(IsUlid(invalid->headers.Get("X-Request-ID").value_or("")));
  EXPECT_NE(missing->headers.Get("X-Request-ID"), invalid->headers.Get("X-Request-ID"));
}

TEST_F(HttpServerTest, HandlerExceptionIs500Envelope) {
  StartServer();
  RawClient client(address_);
  auto r = client.Request("GET", "/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->Json().at("error").at("code"), "INTERNAL_ERROR");
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterTheTimeout) {
  HttpServerOptions opts;
  opts.idle_timeout = 200ms;
  StartServer(opts);
  RawClient client(address_);
  ASSERT_TRUE(client.Request("GET", "/echo"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.PeerClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(HttpServerTest, ConnectionCloseRequestIsHonoured) {
  StartServer();
  RawClient client(address_);
  auto r = client.Request("GET", "/echo", "Connection: close\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers.Get("Connection"), "close");
  EXPECT_TRUE(client.PeerClosed());
}

// Polls until a new connection is refused (the listener is closed).
bool NewConnectionsRefused(const std::string& address) {
  for (int i = 0; i < 200; ++i) {
    RawClient probe(address, 200ms);
    if (!probe.connected()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST_F(HttpServerTest, StopLetsTheInFlightRequestFinishAndRefusesNewConnections) {
  StartServer();
  RawClient busy(address_);
  RawClient idle(address_);
  ASSERT_TRUE(idle.Request("GET", "/echo"));  // an idle keep-alive connection
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(slow_entered_.get_future().wait_for(5s), std::future_status::ready);

  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->Stop(); });
  EXPECT_TRUE(NewConnectionsRefused(address_));
  EXPECT_TRUE(idle.PeerClosed());  // closed at once, not after the slow request

  auto r = busy.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 100'000u);
  EXPECT_EQ(r->headers.Get("Connection"), "close");
  EXPECT_TRUE(busy.PeerClosed());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  server_->Wait();  // returns: stopped
}

TEST_F(HttpServerTest, StopWithoutConnectionsIsQuickAndIdempotent) {
  StartServer();
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  server_->Stop();
  server_->Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  RawClient client(address_, 200ms);
  EXPECT_FALSE(client.connected());
}

TEST_F(HttpServerTest, StopClosesAStalledRequestAfterTheGrace) {
  HttpServerOptions opts;
  opts.shutdown_grace = 300ms;
  StartServer(opts);
  RawClient client(address_);
  // Half a request: the connection is busy (not idle) but never completes.
  ASSERT_TRUE(client.Send("GET /echo HTTP/1.1\r\nHost: t\r\n"));
  std::this_thread::sleep_for(50ms);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(client.PeerClosed());
}

// The grace on the server's clock: a stalled request keeps Stop waiting until the simulated
// grace has passed, to the millisecond, and is closed then.
TEST_F(HttpServerTest, TheShutdownGraceIsWaitedOnTheServersClock) {
  SimulatedClock clock;
  HttpServerOptions opts;
  opts.clock = &clock;
  opts.shutdown_grace = 10s;
  StartServer(opts);
  RawClient client(address_);
  // One whole request first: the server has the connection (no sleep needed to be sure).
  ASSERT_TRUE(client.Send("GET /echo?n=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(client.Read().has_value());
  ASSERT_TRUE(client.Send("GET /echo HTTP/1.1\r\nHost: t\r\n"));  // busy, never completes
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server_->Stop();
    stopped = true;
  });
  ASSERT_TRUE(clock.AwaitBlocked(1));  // Stop waits out the grace
  EXPECT_EQ(clock.NextDeadline(), clock.Mono() + 10s);
  clock.Advance(9'999ms);
  EXPECT_EQ(clock.blocked(), 1u);
  EXPECT_FALSE(stopped);
  clock.Advance(1ms);  // the grace is over: the connection is closed, Stop returns
  stopper.join();
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(client.PeerClosed());
}

// Polls `pred` every 20 ms until it holds or `timeout` passes; its last value.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Sends `bytes` one at a time, one every `every`, until the server closes the connection (EOF
// or reset) or `limit` passes. How long the connection lived after `start`; nullopt: still open.
std::optional<std::chrono::milliseconds> TrickleUntilClosed(
    RawClient& c, std::string_view bytes, std::chrono::milliseconds every,
    std::chrono::milliseconds limit, std::chrono::steady_clock::time_point start) {
  auto lived = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  };
  std::size_t sent = 0;
  while (lived() < limit) {
    if (sent < bytes.size() && !c.Send(bytes.substr(sent++, 1))) return lived();
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(every.count())) > 0) {
      char buf[4096];
      ssize_t n = ::recv(c.fd(), buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return lived();
    }
  }
  return std::nullopt;
}

TEST_F(HttpServerTest, SlowlorisHeaderIsCutOffAtTheHeaderDeadlineDespiteProgress) {
  HttpServerOptions opts;
  opts.header_timeout = 500ms;
  StartServer(opts);
  const auto start = std::chrono::steady_clock::now();
  RawClient slow(address_);
  ASSERT_TRUE(slow.connected());
  std::optional<std::chrono::milliseconds> lived;
  std::thread trickle([&] {
    lived = TrickleUntilClosed(slow, "GET /echo HTTP/1.1\r\nX-Slow: " + std::string(500, 'a'), 20ms,
                               10s, start);
  });
  // Meanwhile other clients are served.
  RawClient other(address_);
  auto r = other.Request("GET", "/echo?n=1");
  trickle.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(lived) << "a trickling header was never cut off";
  EXPECT_GE(*lived, 450ms);
  EXPECT_LT(*lived, 5s);
}

TEST_F(HttpServerTest, SilentNewConnectionIsClosedAtTheHeaderDeadlineNotTheIdleTimeout) {
  HttpServerOptions opts;
  opts.header_timeout = 400ms;
  opts.idle_timeout = 60s;
  StartServer(opts);
  const auto start = std::chrono::steady_clock::now();
  RawClient silent(address_);
  auto lived = TrickleUntilClosed(silent, "", 20ms, 10s, start);
  ASSERT_TRUE(lived);
  EXPECT_GE(*lived, 350ms);
  EXPECT_LT(*lived, 5s);
}

TEST_F(HttpServerTest, KeptAliveConnectionsNextHeaderHasItsOwnDeadline) {
  HttpServerOptions opts;
  opts.header_timeout = 500ms;
  opts.idle_timeout = 60s;
  StartServer(opts);
  RawClient client(address_);
  ASSERT_TRUE(client.Request("GET", "/echo"));
  std::this_thread::sleep_for(700ms);  // idle longer than a header may take: still open
  const auto start = std::chrono::steady_clock::now();
  auto lived = TrickleUntilClosed(client,
                                  "GET /echo HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa"
                                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                  20ms, 10s, start);
  ASSERT_TRUE(lived);
  EXPECT_GE(*lived, 450ms);
  EXPECT_LT(*lived, 5s);
}

TEST_F(HttpServerTest, BodyBelowTheMinimumRateIsCutOff) {
  HttpServerOptions opts;
  opts.body_timeout = 300ms;
  opts.body_min_rate = 1000;  // bytes/s; the client sends 50
  StartServer(opts);
  RawClient client(address_);
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"));
  const auto start = std::chrono::steady_clock::now();
  auto lived = TrickleUntilClosed(client, std::string(1000, 'b'), 20ms, 10s, start);
  ASSERT_TRUE(lived);
  EXPECT_GE(*lived, 250ms);
  EXPECT_LT(*lived, 5s);
}

TEST_F(HttpServerTest, BodyAboveTheMinimumRateCompletesPastTheGrace) {
  HttpServerOptions opts;
  opts.body_timeout = 300ms;
  opts.body_min_rate = 1000;  // bytes/s; the client sends about 20 000
  StartServer(opts);
  RawClient client(address_);
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\n\r\n"));
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(client.Send(std::string(500, 'a' + i % 26)));
    std::this_thread::sleep_for(25ms);
  }
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 20000u);
}

TEST_F(HttpServerTest, ContentLengthLongerThanTheBodyEndsAtTheBodyDeadline) {
  HttpServerOptions opts;
  opts.body_timeout = 300ms;
  StartServer(opts);
  RawClient client(address_);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nshort"));
  auto lived = TrickleUntilClosed(client, "", 20ms, 10s, start);
  ASSERT_TRUE(lived);
  EXPECT_GE(*lived, 250ms);
  EXPECT_LT(*lived, 5s);
}

TEST_F(HttpServerTest, ContentLengthShorterThanTheBodyMakesTheRestAMalformedRequest) {
  StartServer();
  RawClient client(address_);
  ASSERT_TRUE(client.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcSMUGGLED /x\r\n\r\n"));
  auto first = client.Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "abc");
  auto second = client.Read();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 400);
  EXPECT_EQ(second->Json().at("error").at("code"), "VALIDATION_ERROR");
  EXPECT_TRUE(client.PeerClosed());
}

TEST_F(HttpServerTest, HeaderOverItsLimitsIsRefusedBeforeTheBodyOrA100Continue) {
  HttpServerOptions opts;
  opts.max_header_fields = 5;
  StartServer(opts);
  RawClient client(address_);
  std::string req = "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n";
  for (int i = 0; i < 5; ++i) req += "X-F: 1\r\n";
  ASSERT_TRUE(client.Send(req + "Content-Length: 100000\r\n\r\n"));  // and no body
  ASSERT_TRUE(client.ReadUntil("\r\n\r\n"));
  EXPECT_TRUE(client.buffered().starts_with("HTTP/1.1 431 ")) << client.buffered();
}

TEST_F(HttpServerTest, LongTargetIs414) {
  HttpServerOptions opts;
  opts.max_target_bytes = 300;
  StartServer(opts);
  RawClient client(address_);
  auto r = client.Request("GET", "/echo?n=" + std::string(300, 'n'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 414);
  EXPECT_EQ(r->Json().at("error").at("code"), "URI_TOO_LONG");
  EXPECT_TRUE(client.PeerClosed());
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAre503UntilOneEnds) {
  HttpServerOptions opts;
  opts.max_connections = 2;
  StartServer(opts);
  EXPECT_EQ(server_->MaxConnections(), 2u);
  auto held1 = std::make_unique<RawClient>(address_);
  RawClient held2(address_);
  ASSERT_TRUE(held1->Request("GET", "/echo"));  // both registered and kept alive
  ASSERT_TRUE(held2.Request("GET", "/echo"));
  // Many more at once: each is answered 503 (or, past the answering limit, closed), and the
  // accept loop keeps up.
  std::vector<std::unique_ptr<RawClient>> extra;
  for (int i = 0; i < 100; ++i) extra.push_back(std::make_unique<RawClient>(address_));
  int answered = 0;
  for (auto& c : extra) {
    auto r = c->Request("GET", "/echo");
    if (r) {
      ++answered;
      EXPECT_EQ(r->status, 503);
      EXPECT_EQ(r->headers.Get("Retry-After"), "1");
      EXPECT_EQ(r->Json().at("error").at("code"), "SERVICE_UNAVAILABLE");
    }
    EXPECT_TRUE(c->PeerClosed());
  }
  EXPECT_GT(answered, 0);
  extra.clear();
  ASSERT_TRUE(held2.Request("GET", "/echo"));  // the held ones are still served
  held1.reset();
  // Below the limit again: served (once the server has seen held1 go).
  EXPECT_TRUE(WaitFor(
      [&] {
        RawClient c(address_);
        auto r = c.Request("GET", "/echo");
        return r && r->status == 200;
      },
      5s));
}

TEST(HttpServerFdLimit, ConnectionLimitIsLoweredToFitTheOpenFileLimit) {
  // In a child: the limit is process-wide and cannot be raised again once lowered.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit rl{300, 300};
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(2);
    Router router;
    HttpServerOptions opts;
    opts.port = 0;
    opts.max_connections = 1024;
    HttpServer server(router, opts);
    if (!server.Start().ok()) ::_exit(3);
    const bool lowered = server.MaxConnections() == (300 - kFdReserve) / kFdsPerConnection;
    server.Stop();
    ::_exit(lowered ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace outpost::http
