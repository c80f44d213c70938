#include "runner/netproxy/proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "runner/netproxy/test_servers.h"
#include "runner/netproxy/upstream.h"
#include "testing/temp_dir.h"

namespace outpost::netproxy {
namespace {

using testing::ReadAll;
using testing::ReadN;
using testing::ReadUntil;
using testing::TestServer;

std::string Local(int port) { return "127.0.0.1:" + std::to_string(port); }

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    path_ = dir_ + "/proxy.sock";
    options_.clock = &clock_;
  }
  void TearDown() override { proxy_.reset(); }

  void StartProxy(const std::vector<std::string>& patterns) {
    auto allow = Allowlist::Create(patterns);
    ASSERT_TRUE(allow.ok()) << allow.status().ToString();
    auto p = EgressProxy::Start(
        path_, std::move(allow).value(),
        [this](const BlockedAttempt& a) {
          std::lock_guard lock(mu_);
          blocked_.push_back(a);
        },
        options_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    proxy_ = std::move(p).value();
  }

  UniqueFd Client() {
    auto fd = ConnectUnix(path_);
    EXPECT_TRUE(fd.ok()) << fd.status().ToString();
    return fd.ok() ? std::move(fd).value() : UniqueFd();
  }

  // Sends `request` on a new client connection and returns everything until the proxy closes.
  std::string RoundTrip(const std::string& request) {
    UniqueFd c = Client();
    EXPECT_TRUE(SendAll(c.get(), request, DeadlineIn(std::chrono::seconds(5))).ok());
    return ReadAll(c.get());
  }

  // A client with an established tunnel to 127.0.0.1:port.
  UniqueFd Tunnel(int port) {
    UniqueFd c = Client();
    std::string req = "CONNECT " + Local(port) + " HTTP/1.1\r\nHost: " + Local(port) + "\r\n\r\n";
    EXPECT_TRUE(SendAll(c.get(), req, DeadlineIn(std::chrono::seconds(5))).ok());
    std::string reply = ReadUntil(c.get(), "\r\n\r\n");
    EXPECT_EQ(reply, "HTTP/1.1 200 Connection Established\r\n\r\n");
    return c;
  }

  std::vector<BlockedAttempt> blocked() {
    std::lock_guard lock(mu_);
    return blocked_;
  }

  SimulatedClock clock_;
  EgressProxyOptions options_;
  outpost::testing::TempDir tmp_{"outpost-proxy"};
  std::string dir_;
  std::string path_;
  std::unique_ptr<EgressProxy> proxy_;
  std::mutex mu_;
  std::vector<BlockedAttempt> blocked_;  // guarded by mu_
};

TEST_F(ProxyTest, SocketIsWorldConnectable) {
  StartProxy({});
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
}

TEST_F(ProxyTest, ConnectTunnelRelaysBytesBothWays) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port())});
  UniqueFd c = Tunnel(echo.port());
  ASSERT_TRUE(SendAll(c.get(), "ping", DeadlineIn(std::chrono::seconds(5))).ok());
  EXPECT_EQ(ReadN(c.get(), 4), "ping");
  // Much more than any socket buffer, written while reading so both directions are busy.
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  std::thread writer(
      [&] { EXPECT_TRUE(SendAll(c.get(), big, DeadlineIn(std::chrono::seconds(20))).ok()); });
  std::string echoed = ReadN(c.get(), big.size(), std::chrono::seconds(20));
  writer.join();
  EXPECT_TRUE(echoed == big) << "echoed " << echoed.size() << " bytes";
  EXPECT_TRUE(blocked().empty());
}

TEST_F(ProxyTest, ConnectSendsBytesThatFollowTheHeadUpstream) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port())});
  UniqueFd c = Client();
  std::string req = "CONNECT " + Local(echo.port()) + " HTTP/1.1\r\n\r\nearly";
  ASSERT_TRUE(SendAll(c.get(), req, DeadlineIn(std::chrono::seconds(5))).ok());
  std::string expected = "HTTP/1.1 200 Connection Established\r\n\r\nearly";
  EXPECT_EQ(ReadN(c.get(), expected.size()), expected);
}

TEST_F(ProxyTest, ConnectToDisallowedHostIsForbiddenAndReported) {
  StartProxy({"api.example.com:443"});
  std::string reply = RoundTrip("CONNECT evil.example.com:443 HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 403 Forbidden\r\n")) << reply;
  EXPECT_NE(reply.find("evil.example.com:443"), std::string::npos) << reply;
  ASSERT_EQ(blocked().size(), 1u);
  EXPECT_EQ(blocked()[0],
            (BlockedAttempt{"evil.example.com", 443, clock_.Now(), "not in allowlist"}));
}

TEST_F(ProxyTest, ConnectToAllowedHostOnAnotherPortIsForbidden) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port())});
  int other = testing::UnusedPort();
  std::string reply = RoundTrip("CONNECT " + Local(other) + " HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 403 ")) << reply;
  ASSERT_EQ(blocked().size(), 1u);
  EXPECT_EQ(blocked()[0].host, "127.0.0.1");
  EXPECT_EQ(blocked()[0].port, other);
}

TEST_F(ProxyTest, PlainGetIsForwardedInOriginForm) {
  TestServer http(TestServer::Mode::kHttp, "hello from origin");
  StartProxy({Local(http.port())});
  std::string reply = RoundTrip("GET http://" + Local(http.port()) +
                                "/path?q=1 HTTP/1.1\r\nHost: " + Local(http.port()) +
                                "\r\nProxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(reply.ends_with("\r\n\r\nhello from origin")) << reply;
  ASSERT_EQ(http.heads().size(), 1u);
  EXPECT_EQ(http.heads()[0], "GET /path?q=1 HTTP/1.1\r\nHost: " + Local(http.port()) +
                                 "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
}

// Audit F13: the proxy rewrote only the first request of a plain-HTTP connection; pipelined
// follow-ups reached the allowed host's address with any Host. The echo origin returns exactly
// the bytes it received: the rewritten first request and its body, nothing after them.
TEST_F(ProxyTest, F13_APipelinedRequestNeverReachesTheOrigin) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port())});
  UniqueFd c = Client();
  const std::string first = "POST http://" + Local(echo.port()) +
                            "/a HTTP/1.1\r\nHost: " + Local(echo.port()) +
                            "\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "GET / HTTP/1.1\r\nHost: internal.example\r\n\r\n";
  ASSERT_TRUE(SendAll(c.get(), first + second, DeadlineIn(std::chrono::seconds(5))).ok());
  ::shutdown(c.get(), SHUT_WR);
  std::string got = ReadAll(c.get());
  EXPECT_EQ(got, "POST /a HTTP/1.1\r\nHost: " + Local(echo.port()) +
                     "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(got.find("internal.example"), std::string::npos);
}

TEST_F(ProxyTest, F13_ABodyArrivingLaterIsForwardedUpToItsLength) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port())});
  UniqueFd c = Client();
  const std::string head = "PUT http://" + Local(echo.port()) +
                           "/b HTTP/1.1\r\nHost: " + Local(echo.port()) +
                           "\r\nContent-Length: 6\r\n\r\n";
  ASSERT_TRUE(SendAll(c.get(), head + "abc", DeadlineIn(std::chrono::seconds(5))).ok());
  ASSERT_NE(ReadUntil(c.get(), "abc").find("abc"), std::string::npos);  // echoed: it arrived
  ASSERT_TRUE(
      SendAll(c.get(), "defGET /x HTTP/1.1\r\n\r\n", DeadlineIn(std::chrono::seconds(5))).ok());
  ::shutdown(c.get(), SHUT_WR);
  EXPECT_EQ(ReadAll(c.get()), "def");
  ASSERT_EQ(blocked().size(), 1u);  // the origin-form follow-up was refused and reported
}

// A keep-alive client's next request to the same host is rewritten and forwarded; one to
// another host on that connection is not, and shows as blocked.
TEST_F(ProxyTest, F13_AKeptAliveConnectionServesItsOwnHostOnly) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port()), "other.example:80"});
  UniqueFd c = Client();
  auto get = [&](const std::string& authority, const std::string& path) {
    return "GET http://" + authority + path + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
  };
  ASSERT_TRUE(
      SendAll(c.get(), get(Local(echo.port()), "/1"), DeadlineIn(std::chrono::seconds(5))).ok());
  ASSERT_NE(ReadUntil(c.get(), "\r\n\r\n").find("GET /1 "), std::string::npos);
  ASSERT_TRUE(SendAll(c.get(), get(Local(echo.port()), "/2") + get("other.example", "/3"),
                      DeadlineIn(std::chrono::seconds(5)))
                  .ok());
  ::shutdown(c.get(), SHUT_WR);
  const std::string rest = ReadAll(c.get());
  EXPECT_EQ(rest,
            "GET /2 HTTP/1.1\r\nHost: " + Local(echo.port()) + "\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(blocked().size(), 1u);
  EXPECT_EQ(blocked()[0].host, "other.example");
}

TEST_F(ProxyTest, F13_AChunkedPlainHttpBodyIsRefused) {
  TestServer http(TestServer::Mode::kHttp, "x");
  StartProxy({Local(http.port())});
  std::string reply =
      RoundTrip("POST http://" + Local(http.port()) + "/ HTTP/1.1\r\nHost: " + Local(http.port()) +
                "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400 ")) << reply;
  EXPECT_TRUE(http.heads().empty());
}

TEST_F(ProxyTest, PlainGetToDisallowedHostIsForbiddenAndReported) {
  StartProxy({"api.example.com:443"});
  std::string reply = RoundTrip("GET http://blocked.example:8080/x HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 403 Forbidden\r\n")) << reply;
  EXPECT_NE(reply.find("blocked.example:8080"), std::string::npos);
  ASSERT_EQ(blocked().size(), 1u);
  EXPECT_EQ(blocked()[0].host, "blocked.example");
  EXPECT_EQ(blocked()[0].port, 8080);
}

TEST_F(ProxyTest, UnreachableAllowedTargetIsBadGateway) {
  int port = testing::UnusedPort();
  StartProxy({Local(port)});
  std::string reply = RoundTrip("CONNECT " + Local(port) + " HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 502 Bad Gateway\r\n")) << reply;
  EXPECT_TRUE(blocked().empty());
}

TEST_F(ProxyTest, OversizedHeadIsBadRequest) {
  StartProxy({"*.example.com:*"});
  std::string head = "GET http://a.example.com/ HTTP/1.1\r\nX-Big: " + std::string(20'000, 'a');
  UniqueFd c = Client();
  (void)SendAll(c.get(), head, DeadlineIn(std::chrono::seconds(5)));  // may be cut off
  std::string reply = ReadAll(c.get());
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400 Bad Request\r\n")) << reply;
}

TEST_F(ProxyTest, MalformedRequestIsBadRequest) {
  StartProxy({"*.example.com:*"});
  EXPECT_TRUE(RoundTrip("GET /origin-form HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(RoundTrip("CONNECT nohost HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(blocked().empty());
}

TEST_F(ProxyTest, ManyConcurrentTunnels) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port())});
  constexpr int kTunnels = 32;
  std::vector<UniqueFd> clients;
  for (int i = 0; i < kTunnels; ++i) clients.push_back(Tunnel(echo.port()));
  EXPECT_EQ(proxy_->active_connections(), kTunnels);
  std::vector<std::thread> threads;
  for (int i = 0; i < kTunnels; ++i) {
    threads.emplace_back([&, i] {
      std::string msg = "tunnel-" + std::to_string(i) + std::string(10'000, 'z');
      EXPECT_TRUE(SendAll(clients[i].get(), msg, DeadlineIn(std::chrono::seconds(10))).ok());
      EXPECT_EQ(ReadN(clients[i].get(), msg.size()), msg);
    });
  }
  for (auto& t : threads) t.join();
}

TEST_F(ProxyTest, ConnectionsOverTheLimitGetServiceUnavailable) {
  TestServer echo(TestServer::Mode::kEcho);
  options_.max_connections = 1;
  StartProxy({Local(echo.port())});
  UniqueFd first = Tunnel(echo.port());
  std::string reply = ReadAll(Client().get());
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 503 ")) << reply;
}

TEST_F(ProxyTest, IdleTunnelIsClosed) {
  TestServer echo(TestServer::Mode::kEcho);
  options_.idle_timeout = std::chrono::milliseconds(200);
  StartProxy({Local(echo.port())});
  UniqueFd c = Tunnel(echo.port());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadAll(c.get(), std::chrono::seconds(10)), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ProxyTest, StopEndsOpenTunnelsAndRemovesTheSocket) {
  TestServer echo(TestServer::Mode::kEcho);
  StartProxy({Local(echo.port())});
  UniqueFd c = Tunnel(echo.port());
  proxy_->Stop();
  EXPECT_EQ(ReadAll(c.get(), std::chrono::seconds(5)), "");
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ProxyTest, NameResolvingToLoopbackIsRefused) {
  TestServer http(TestServer::Mode::kHttp, "ok");
  StartProxy({"localhost:" + std::to_string(http.port())});
  std::string reply =
      RoundTrip("GET http://localhost:" + std::to_string(http.port()) + "/ HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 403 ")) << reply;
  ASSERT_EQ(blocked().size(), 1u);
  EXPECT_EQ(blocked()[0].reason, "resolves to a loopback address");
  EXPECT_TRUE(http.heads().empty());
}

TEST_F(ProxyTest, NameResolvingToLoopbackIsServedWhenAllowedByOption) {
  TestServer http(TestServer::Mode::kHttp, "ok");
  options_.allow_resolved_loopback = true;
  StartProxy({"localhost:" + std::to_string(http.port())});
  std::string reply =
      RoundTrip("GET http://localhost:" + std::to_string(http.port()) + "/ HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK")) << reply;
}

sockaddr_storage V4(const char* ip) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  ::inet_pton(AF_INET, ip, &a->sin_addr);
  return ss;
}

sockaddr_storage V6(const char* ip) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  a->sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, ip, &a->sin6_addr);
  return ss;
}

TEST(UpstreamPolicy, LinkLocalIsAlwaysRefused) {
  for (auto ss :
       {V4("169.254.169.254"), V4("169.254.0.1"), V6("fe80::1"), V6("::ffff:169.254.169.254")}) {
    EXPECT_EQ(RefusedAddressReason(reinterpret_cast<sockaddr*>(&ss), true),
              "resolves to a link-local address");
  }
}

TEST(UpstreamPolicy, LoopbackIsRefusedUnlessAllowed) {
  for (auto ss : {V4("127.0.0.1"), V4("127.1.2.3"), V4("0.0.0.0"), V6("::1"), V6("::"),
                  V6("::ffff:127.0.0.1")}) {
    auto* sa = reinterpret_cast<sockaddr*>(&ss);
    EXPECT_EQ(RefusedAddressReason(sa, false), "resolves to a loopback address");
    EXPECT_EQ(RefusedAddressReason(sa, true), "");
  }
}

TEST(UpstreamPolicy, PublicAddressesAreFine) {
  for (auto ss : {V4("93.184.216.34"), V4("169.253.1.1"), V4("11.0.0.1"), V4("172.32.0.1"),
                  V4("100.128.0.1"), V6("2606:4700::1"), V6("::ffff:93.184.216.34"),
                  V6("64:ff9b::5db8:d822"), V6("2002:5db8:d822::1")}) {
    EXPECT_EQ(RefusedAddressReason(reinterpret_cast<sockaddr*>(&ss), false), "");
  }
}

// Audit F13: RFC 1918, carrier-grade NAT, ULA (AWS IMDSv6 fd00:ec2::254), NAT64 and the other
// IPv6 spellings of internal IPv4 addresses were let through for names.
TEST(UpstreamPolicy, F13_PrivateUlaNat64AndMappedFormsAreRefused) {
  for (auto ss : {V4("10.0.0.1"),          V4("172.16.5.4"),
                  V4("172.31.255.255"),    V4("192.168.1.1"),
                  V4("100.64.0.1"),        V4("0.1.2.3"),
                  V4("192.0.0.8"),         V4("198.18.0.1"),
                  V4("224.0.0.1"),         V4("255.255.255.255"),
                  V6("fd00:ec2::254"),     V6("fc00::1"),
                  V6("fec0::1"),           V6("ff02::1"),
                  V6("::ffff:10.0.0.1"),   V6("::ffff:192.168.0.1"),
                  V6("64:ff9b::a00:1"),    V6("64:ff9b:1::1"),
                  V6("2002:c0a8:0101::1"), V6("2001:0:4136:e378::1"),
                  V6("::10.0.0.1")}) {
    EXPECT_EQ(RefusedAddressReason(reinterpret_cast<sockaddr*>(&ss), false),
              "resolves to a private or reserved address");
  }
  for (auto ss : {V6("64:ff9b::a9fe:a9fe"), V6("2002:a9fe:a9fe::1")}) {  // metadata via NAT64/6to4
    EXPECT_EQ(RefusedAddressReason(reinterpret_cast<sockaddr*>(&ss), true),
              "resolves to a link-local address");
  }
}

TEST(UpstreamPolicy, F13_ALinkLocalLiteralIsRefusedEvenWhenTheAllowlistNamesIt) {
  auto a = Allowlist::Create({"169.254.169.254:80"});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->Allows("169.254.169.254", 80));  // the pattern matches ...
  UpstreamOptions options;
  options.deadline = DeadlineIn(std::chrono::seconds(2));
  auto fd = ConnectUpstream(HostPort{"169.254.169.254", 80}, options);  // ... the address never
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(fd.status().message(), "resolves to a link-local address");
}

TEST(UpstreamPolicy, APrivateLiteralTheOperatorListedIsConnected) {
  // 127.0.0.1 stands for any listed private literal: the policy lets literals through.
  TestServer echo(TestServer::Mode::kEcho);
  UpstreamOptions options;
  options.deadline = DeadlineIn(std::chrono::seconds(5));
  EXPECT_TRUE(ConnectUpstream(HostPort{"127.0.0.1", echo.port()}, options).ok());
}

}  // namespace
}  // namespace outpost::netproxy
