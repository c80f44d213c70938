#include "client/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "testing/fake_http_server.h"
#include "testing/temp_dir.h"

namespace outpost::client {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

TEST(ParseEndpoint, HostPortAndPrefix) {
  auto ep = ParseEndpoint("http://127.0.0.1:8080");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 8080);
  EXPECT_EQ(ep->prefix, "");

  ep = ParseEndpoint("http://outpost.internal/api/v2/");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "outpost.internal");
  EXPECT_EQ(ep->port, 80);
  EXPECT_EQ(ep->prefix, "/api/v2");
  EXPECT_EQ(ep->ToString(), "http://outpost.internal/api/v2");

  ep = ParseEndpoint("localhost:9000");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "localhost");
  EXPECT_EQ(ep->port, 9000);

  ep = ParseEndpoint("http://[::1]:8080");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->ToString(), "http://[::1]:8080");
}

// https: a server behind a TLS terminator (the runbook's ALB).
TEST(ParseEndpoint, HttpsEndpointsGoOverTls) {
  auto ep = ParseEndpoint("https://outpost.example.com");
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->port, 443);
  EXPECT_EQ(ep->ToString(), "https://outpost.example.com");
  net::Url url = UrlFor(*ep, "/health/live");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.path, "/health/live");

  ep = ParseEndpoint("https://outpost.example.com:8443/api/");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, 8443);
  EXPECT_EQ(ep->prefix, "/api");
  EXPECT_EQ(ep->ToString(), "https://outpost.example.com:8443/api");
  EXPECT_EQ(UrlFor(*ep, "/runs").path, "/api/runs");

  ep = ParseEndpoint("http://outpost.example.com:443");  // http on 443 stays http
  ASSERT_TRUE(ep.ok());
  EXPECT_FALSE(ep->tls);
  EXPECT_EQ(ep->ToString(), "http://outpost.example.com:443");
  EXPECT_EQ(UrlFor(*ep, "/").scheme, "http");
}

// A real TLS server (openssl s_server) with a self-signed certificate: an https endpoint makes
// a TLS handshake and verifies the certificate, so the request is refused naming it (a
// certificate the system trusts, as an ALB's, would be accepted).
TEST(HttpsEndpoint, SpeaksTlsAndVerifiesTheCertificate) {
  if (std::system("openssl version >/dev/null 2>&1") != 0) {
    FAIL() << "openssl is not installed (the TLS server of this test)";
  }
  outpost::testing::TempDir dir;
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " +
                         cert + " -days 1 -subj /CN=localhost >/dev/null 2>&1")
                            .c_str()),
            0);
  // A free port: bound to 0, read, released.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  const std::string accept = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {"openssl", "s_server", "-accept", accept, "-cert",
                                   cert,      "-key",     key,       "-www", "-quiet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawnp(&pid, "openssl", nullptr, nullptr, argv.data(), environ), 0);
  // Ready when it accepts connections (bounded wait).
  bool ready = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       !ready && std::chrono::steady_clock::now() < deadline;) {
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    ready = ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(c);
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto ep = ParseEndpoint("https://localhost:" + std::to_string(port));
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  auto r = ready ? Request(*ep, "GET", "/health/live") : Result<HttpResult>(Internal("not ready"));
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(ready) << "openssl s_server did not listen on " << accept;
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("certificate"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("https://localhost:" + std::to_string(port)),
            std::string::npos)
      << r.status().ToString();
}

TEST(ParseEndpoint, RejectsWhatItCannotServe) {
  for (const char* bad :
       {"ftp://h", "http://", "http://h:0", "http://h:70000", "http://h:80x",
        "http://h:", "http://h/?q=1", "http://u@h", "http://::1:80", "http://[::1"}) {
    EXPECT_EQ(ParseEndpoint(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(UrlEncode, KeepsUnreservedOnly) {
  EXPECT_EQ(UrlEncode("01J-abc_~.x"), "01J-abc_~.x");
  EXPECT_EQ(UrlEncode("a/b c?&"), "a%2Fb%20c%3F%26");
}

TEST(Request, SendsMethodPrefixedTargetBodyAndHeaders) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{201, R"({"ok":1})", {{"X-Request-ID", "req-9"}}};
  });
  auto ep = ParseEndpoint(server.endpoint() + "/v2");
  ASSERT_TRUE(ep.ok());
  auto r = Request(*ep, "POST", "/dispatch", R"({"a":1})", {{"Authorization", "Bearer k"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, R"({"ok":1})");
  EXPECT_EQ(r->request_id, "req-9");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/v2/dispatch");
  EXPECT_EQ(seen[0].body, R"({"a":1})");
  EXPECT_EQ(seen[0].headers["authorization"], "Bearer k");
  EXPECT_EQ(seen[0].headers["content-type"], "application/json");
}

TEST(Request, ConnectionRefusedIsUnavailableNamingTheEndpoint) {
  auto ep = ParseEndpoint("http://127.0.0.1:" + std::to_string(testing::UnusedPort()));
  ASSERT_TRUE(ep.ok());
  auto r = Request(*ep, "GET", "/health");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "cannot reach " + ep->ToString() + ": Connection refused");
}

TEST(Request, RetriesRefusedConnectionsOnlyWithinTheBudget) {
  auto ep = ParseEndpoint("http://127.0.0.1:" + std::to_string(testing::UnusedPort()));
  ASSERT_TRUE(ep.ok());
  SimulatedClock clock;
  RequestOptions opts;
  opts.clock = &clock;
  opts.retry_for = Millis(5'000);
  opts.retry_backoff = Millis(1'000);
  opts.sleep = [&](Millis d) { clock.Advance(d); };
  int retries = 0;
  opts.on_retry = [&](const Status& why) {
    EXPECT_EQ(why.code(), Code::kUnavailable);
    ++retries;
  };
  auto r = Request(*ep, "GET", "/runs/x", {}, {}, opts);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(retries, 5);  // attempts at 0,1,2,3,4,5 s; the next would start past 5 s

  opts.retry_for = Millis(0);
  retries = 0;
  EXPECT_EQ(Request(*ep, "GET", "/runs/x", {}, {}, opts).status().code(), Code::kUnavailable);
  EXPECT_EQ(retries, 0);
}

TEST(Request, Retries5xxOnlyWhenTheCallerSaysItIsIdempotent) {
  std::atomic<int> calls = 0;
  FakeHttpServer server([&](const FakeRequest&) {
    return ++calls < 3 ? FakeResponse{503, "{}", {}} : FakeResponse{200, "{}", {}};
  });
  auto ep = ParseEndpoint(server.endpoint());
  ASSERT_TRUE(ep.ok());
  RequestOptions opts;
  opts.retry_for = Millis(10'000);
  opts.retry_backoff = Millis(1);
  auto first = Request(*ep, "GET", "/x", {}, {}, opts);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 503);  // not idempotent: the 5xx is the answer
  opts.retry_on_5xx = true;
  auto second = Request(*ep, "GET", "/x", {}, {}, opts);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace outpost::client
