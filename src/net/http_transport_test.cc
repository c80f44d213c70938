// net/'s HTTP client against a raw-socket loopback server that keeps connections alive and counts
// them, so reuse, streaming, cancellation and the failure records are observable. (The scripted
// FakeHttpServer of testing/ closes after every answer, which is what the other tests want.)
#include "net/http_transport.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/test_tls.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost::net {
namespace {

// What the server does with one request: the raw bytes to write back, and whether to close the
// connection afterwards (without saying so) or to hold it open until the client goes away.
struct Answer {
  std::string raw;
  enum { kKeepAlive, kClose, kHoldOpen } then = kKeepAlive;
};

std::string Ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class LoopbackServer {
 public:
  using Handler = std::function<Answer(const std::string& head, const std::string& body)>;

  // On a loopback TCP port, or on the unix socket `unix_path` when given.
  explicit LoopbackServer(Handler handler, const std::string& unix_path = "")
      : handler_(std::move(handler)) {
    if (!unix_path.empty()) {
      listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", unix_path.c_str());
      EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    } else {
      listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
      socklen_t len = sizeof addr;
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
    EXPECT_EQ(::listen(listen_fd_, 64), 0);
    EXPECT_EQ(::pipe2(stop_, O_CLOEXEC), 0);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~LoopbackServer() {
    (void)!::write(stop_[1], "x", 1);
    acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(listen_fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

  Url url(const std::string& path = "/") const {
    Url u;
    u.scheme = "http";
    u.host = "127.0.0.1";
    u.port = port_;
    u.path = path;
    return u;
  }
  int accepted() const { return accepted_; }

 private:
  // Waits for `fd` or the stop pipe; false when stopping.
  bool Wait(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    ::poll(fds, 2, -1);
    return (fds[1].revents & POLLIN) == 0;
  }

  void Accept() {
    while (Wait(listen_fd_)) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string in;
    char buf[16384];
    for (;;) {
      std::size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        if (!Wait(fd)) return Close(fd);
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return Close(fd);
        in.append(buf, static_cast<std::size_t>(n));
      }
      std::string head = in.substr(0, end + 4);
      std::size_t length = 0;
      if (auto at = head.find("Content-Length: "); at != std::string::npos) {
        length = std::stoul(head.substr(at + 16));
      }
      while (in.size() < end + 4 + length) {
        if (!Wait(fd)) return Close(fd);
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return Close(fd);
        in.append(buf, static_cast<std::size_t>(n));
      }
      std::string body = in.substr(end + 4, length);
      in.erase(0, end + 4 + length);
      Answer a = handler_(head, body);
      if (::write(fd, a.raw.data(), a.raw.size()) != static_cast<ssize_t>(a.raw.size())) {
        return Close(fd);
      }
      if (a.then == Answer::kClose) return Close(fd);
      if (a.then == Answer::kHoldOpen) {
        while (Wait(fd) && ::read(fd, buf, sizeof buf) > 0) {
        }
        return Close(fd);
      }
    }
  }
  static void Close(int fd) { ::close(fd); }

  Handler handler_;
  int listen_fd_ = -1;
  int stop_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::vector<std::thread> connections_;  // touched by the acceptor thread only, then joined
  std::thread acceptor_;
};

HttpRequest Get(const Url& url) { return HttpRequest{"GET", url, {}, ""}; }

TEST(SendHttp, SequentialRequestsReuseOneConnection) {
  LoopbackServer server([](const std::string&, const std::string&) { return Answer{Ok("hi")}; });
  for (int i = 0; i < 20; ++i) {
    auto r = SendHttp(Get(server.url("/n/" + std::to_string(i))), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hi");
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(SendHttp, AConnectionTheServerDroppedIsReplacedWithoutAnError) {
  // The server closes after each answer without saying so (a keep-alive timeout on its side).
  LoopbackServer server([](const std::string&, const std::string& body) {
    return Answer{Ok("got " + body), Answer::kClose};
  });
  for (int i = 0; i < 5; ++i) {
    auto r = SendHttp({"POST", server.url(), {}, std::to_string(i)}, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "got " + std::to_string(i));
  }
}

TEST(SendHttp, ConcurrentCallersEachGetTheirAnswer) {
  LoopbackServer server([](const std::string& head, const std::string&) {
    return Answer{Ok(head.substr(4, head.find(' ', 4) - 4))};  // echoes the path
  });
  std::atomic<int> ok = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        auto r = SendHttp(Get(server.url(path)), {});
        if (r.ok() && r->body == path) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 100);
}

TEST(SendHttp, SendsHeadersAsGivenAndNothingCurlWouldAdd) {
  std::string seen;
  LoopbackServer server([&](const std::string& head, const std::string&) {
    seen = head;
    return Answer{Ok("")};
  });
  // Over 1 KiB: libcurl would ask for "Expect: 100-continue" and wait for it.
  HttpRequest request{
      "PUT", server.url("/a/../b"), {{"X-A", "1"}, {"x-a", "2"}}, std::string(4096, 'x')};
  auto r = SendHttp(request, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(seen.starts_with("PUT /a/../b HTTP/1.1\r\n")) << seen;  // the path verbatim
  EXPECT_NE(seen.find("x-a: 2\r\n"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("X-A: 1"), std::string::npos) << seen;
  EXPECT_NE(seen.find("User-Agent: outpost/"), std::string::npos) << seen;
  for (const char* absent : {"Expect", "Content-Type", "Accept"}) {
    EXPECT_EQ(seen.find(absent), std::string::npos) << absent << " in " << seen;
  }
}

TEST(SendHttp, ResponseHeadersAndRetryAfterAreReturned) {
  LoopbackServer server([](const std::string&, const std::string&) {
    return Answer{
        "HTTP/1.1 503 Slow Down\r\nRetry-After: 7\r\nX-Thing:  v \r\nContent-Length: 0\r\n\r\n"};
  });
  auto r = SendHttp(Get(server.url()), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->retry_after, "7");
  EXPECT_EQ(r->Header("x-thing"), "v");
}

TEST(SendHttp, ABodyOverTheLimitFailsTheExchange) {
  LoopbackServer server(
      [](const std::string&, const std::string&) { return Answer{Ok(std::string(100, 'b'))}; });
  TransportOptions options;
  options.max_response_body = 10;
  TransportFailure failure;
  auto r = SendHttp(Get(server.url()), options, &failure);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("body limit exceeded"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(failure.request_sent());
}

TEST(SendHttp, AnAnswerThatIsNotHttpIsReportedAsSuch) {
  LoopbackServer server([](const std::string&, const std::string&) {
    return Answer{"SSH-2.0-OpenSSH\r\n\r\n", Answer::kClose};
  });
  TransportFailure failure;
  auto r = SendHttp(Get(server.url()), {}, &failure);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(failure.not_http) << failure.reason;
  EXPECT_TRUE(failure.request_sent());
}

TEST(SendHttp, ARefusedConnectionSentNothing) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // bound, never listened: nothing there
  Url url;
  url.scheme = "http";
  url.host = "127.0.0.1";
  url.port = ntohs(addr.sin_port);
  url.path = "/";
  TransportFailure failure;
  auto r = SendHttp(Get(url), {}, &failure);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(failure.step, TransportFailure::Step::kConnect);
  EXPECT_EQ(failure.reason, "Connection refused");
  EXPECT_FALSE(failure.request_sent());
}

// libcurl is mapped into a process only once it makes a request (net/curl_api.h): the per-run
// shim, which never does, does not pay its shared libraries at every exec. Checked in a fresh
// process (a re-exec'ed death-test child), so other tests' requests do not count.
bool MapsLibcurl() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libcurl") != std::string::npos) return true;
  }
  return false;
}

TEST(CurlApiDeathTest, LibcurlIsLoadedOnTheFirstRequestOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const bool before = MapsLibcurl();
        Url url;
        url.scheme = "http";
        url.host = "127.0.0.1";
        url.port = 1;  // nothing listens there: the request fails, libcurl was used
        url.path = "/";
        (void)SendHttp(Get(url), {});
        const bool after = MapsLibcurl();
        std::fprintf(stderr, "before=%d after=%d\n", before, after);
        std::exit(!before && after ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "before=0 after=1");
}

TEST(SendHttp, KeptAliveConnectionsAreCloseOnExec) {
  LoopbackServer server([](const std::string&, const std::string&) { return Answer{Ok("x")}; });
  ASSERT_TRUE(SendHttp(Get(server.url()), {}).ok());
  int sockets = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (ec || !target.string().starts_with("socket:")) continue;
    int fd = std::stoi(e.path().filename().string());
    int domain = 0;
    socklen_t size = sizeof domain;
    ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size);
    if (domain != AF_INET && domain != AF_INET6) continue;  // libcurl's internal wakeup pair
    ++sockets;
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "fd " << fd << " " << target;
  }
  EXPECT_GE(sockets, 1);  // at least the kept-alive connection
}

TEST(StreamHttp, DeliversPiecesAsTheyArriveUntilCancelled) {
  LoopbackServer server([](const std::string&, const std::string&) {
    return Answer{
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "6\r\ndata:a\r\n6\r\ndata:b\r\n",
        Answer::kHoldOpen};  // the stream never ends on its own
  });
  std::string got;
  auto r = StreamHttp(Get(server.url("/events")), {}, [&](std::string_view piece) {
    got += piece;
    return got.find("data:b") == std::string::npos;  // stop once both arrived
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(got, "data:adata:b");
}

TEST(StreamHttp, AnErrorAnswerIsCollectedNotStreamed) {
  LoopbackServer server([](const std::string&, const std::string&) {
    return Answer{"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such x"};
  });
  bool called = false;
  auto r = StreamHttp(Get(server.url()), {}, [&](std::string_view) { return called = true; });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->error_body, "no such x");
  EXPECT_FALSE(called);
}

TEST(StreamHttp, SilenceLongerThanTheIdleTimeoutFailsTheStream) {
  LoopbackServer server([](const std::string&, const std::string&) {
    return Answer{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Answer::kHoldOpen};
  });
  StreamOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  TransportFailure failure;
  auto r = StreamHttp(
      Get(server.url()), options, [](std::string_view) { return true; }, &failure);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(failure.timed_out);
  EXPECT_TRUE(failure.request_sent());
}

// ---- unix sockets (the Docker Engine API's local endpoint) ----

Url DockerUrl(const std::string& path) {
  Url u;
  u.scheme = "http";
  u.host = "docker";
  u.port = 80;
  u.path = path;
  return u;
}

TEST(SendHttp, AUnixSocketCarriesTheExchangeAndTheHostIsOnlyTheHostHeader) {
  outpost::testing::TempDir dir("outpost-net");
  const std::string socket = dir.Join("d.sock");
  std::mutex mu;
  std::vector<std::string> heads;
  LoopbackServer server(
      [&](const std::string& head, const std::string&) {
        std::lock_guard lock(mu);
        heads.push_back(head);
        return Answer{Ok("OK")};
      },
      socket);
  TransportOptions options;
  options.unix_socket = socket;
  for (int i = 0; i < 2; ++i) {
    auto r = SendHttp(Get(DockerUrl("/v1.41/_ping")), options);
    ASSERT_THAT(r, outpost::testing::IsOk());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "OK");
  }
  EXPECT_EQ(server.accepted(), 1);  // kept alive and reused, as over TCP
  std::lock_guard lock(mu);
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_TRUE(heads[0].starts_with("GET /v1.41/_ping HTTP/1.1\r\n")) << heads[0];
  EXPECT_NE(heads[0].find("\r\nHost: docker\r\n"), std::string::npos) << heads[0];
}

TEST(SendHttp, AConnectionToATcpHostIsNotReusedForAUnixSocketOfTheSameHostName) {
  outpost::testing::TempDir dir("outpost-net");
  LoopbackServer tcp([](const std::string&, const std::string&) { return Answer{Ok("tcp")}; });
  LoopbackServer unix_server(
      [](const std::string&, const std::string&) { return Answer{Ok("unix")}; },
      dir.Join("d.sock"));
  Url url = tcp.url("/");
  ASSERT_THAT(SendHttp(Get(url), {}), outpost::testing::IsOk());
  TransportOptions options;
  options.unix_socket = dir.Join("d.sock");
  auto r = SendHttp(Get(url), options);  // the same scheme://host:port as the TCP one
  ASSERT_THAT(r, outpost::testing::IsOk());
  EXPECT_EQ(r->body, "unix");
  auto again = SendHttp(Get(url), {});
  ASSERT_THAT(again, outpost::testing::IsOk());
  EXPECT_EQ(again->body, "tcp");
}

TEST(SendHttp, AMissingUnixSocketIsUnavailableNamingTheSocket) {
  outpost::testing::TempDir dir("outpost-net");
  TransportOptions options;
  options.unix_socket = dir.Join("nobody.sock");
  TransportFailure failure;
  auto r = SendHttp(Get(DockerUrl("/_ping")), options, &failure);
  EXPECT_THAT(r, outpost::testing::StatusIs(
                     Code::kUnavailable,
                     ::testing::HasSubstr("connecting to unix socket " + options.unix_socket)));
  EXPECT_EQ(failure.step, TransportFailure::Step::kConnect);
  EXPECT_FALSE(failure.request_sent());
}

TEST(SendHttp, ARouteLibcurlWouldMisreadIsRefusedBeforeAnythingIsSent) {
  TransportOptions relative;
  relative.unix_socket = "run/docker.sock";
  EXPECT_THAT(
      SendHttp(Get(DockerUrl("/")), relative),
      outpost::testing::StatusIs(Code::kInvalidArgument, ::testing::HasSubstr("is not absolute")));
  TransportOptions proxied;
  proxied.unix_socket = "/run/docker.sock";
  proxied.proxy = DockerUrl("/");
  EXPECT_THAT(SendHttp(Get(DockerUrl("/")), proxied),
              outpost::testing::StatusIs(Code::kInvalidArgument, ::testing::HasSubstr("proxy")));
  TransportOptions half;
  half.client_cert_file = "/etc/cert.pem";
  EXPECT_THAT(SendHttp(Get(DockerUrl("/")), half),
              outpost::testing::StatusIs(Code::kInvalidArgument,
                                         ::testing::HasSubstr("both a certificate and a key")));
}

// ---- TLS with a private CA and client certificates (Docker's tcp:// + TLS) ----

// openssl s_server demanding a client certificate of the test CA (-Verify), answering every GET
// with its status page (-www).
class TlsServer {
 public:
  TlsServer() : dir_("outpost-net-tls") {
    status_ = tls_test::MakeTestCerts(dir_.path());
    if (!status_.ok()) return;
    const std::string openssl = "/usr/bin/openssl";
    if (::access(openssl.c_str(), X_OK) != 0) {
      status_ = FailedPrecondition(openssl + " is missing");
      return;
    }
    port_ = tls_test::FreePort();
    daemon_ = std::make_unique<tls_test::ChildDaemon>(
        std::vector<std::string>{
            openssl, "s_server", "-accept", "127.0.0.1:" + std::to_string(port_), "-cert",
            dir_.Join("server.pem"), "-key", dir_.Join("server-key.pem"), "-CAfile",
            dir_.Join("ca.pem"), "-Verify", "1", "-verify_return_error", "-www"},
        dir_.Join("s_server.log"));
    if (!tls_test::WaitForListener(port_, std::chrono::seconds(10))) {
      status_ = Unavailable("openssl s_server did not listen; see " + dir_.Join("s_server.log"));
    }
  }
  const Status& status() const { return status_; }
  std::string file(const std::string& name) const { return dir_.Join(name); }
  Url url() const {
    Url u;
    u.scheme = "https";
    u.host = "127.0.0.1";
    u.port = port_;
    u.path = "/";
    return u;
  }

 private:
  outpost::testing::TempDir dir_;
  Status status_;
  std::uint16_t port_ = 0;
  std::unique_ptr<tls_test::ChildDaemon> daemon_;
};

TEST(SendHttp, AClientCertificateOfThePrivateCaIsPresentedAndAccepted) {
  TlsServer server;
  ASSERT_THAT(server.status(), outpost::testing::IsOk());
  TransportOptions options;
  options.ca_file = server.file("ca.pem");
  options.client_cert_file = server.file("cert.pem");
  options.client_key_file = server.file("key.pem");
  options.timeout = std::chrono::seconds(10);
  auto r = SendHttp(Get(server.url()), options);
  ASSERT_THAT(r, outpost::testing::IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("CN=client"), std::string::npos);  // s_server saw our certificate
  // The TLS session that certificate opened is not resumed by a caller without it (the pooled
  // handles share one session cache).
  TransportOptions none = options;
  none.client_cert_file.clear();
  none.client_key_file.clear();
  EXPECT_FALSE(SendHttp(Get(server.url()), none).ok());
  TransportOptions other = options;
  other.client_cert_file = server.file("other-cert.pem");
  other.client_key_file = server.file("other-key.pem");
  EXPECT_FALSE(SendHttp(Get(server.url()), other).ok());
}

TEST(StreamHttp, StreamsOverAUnixSocket) {
  outpost::testing::TempDir dir("outpost-net");
  LoopbackServer server(
      [](const std::string&, const std::string&) { return Answer{Ok("line 1\nline 2\n")}; },
      dir.Join("d.sock"));
  StreamOptions options;
  options.unix_socket = dir.Join("d.sock");
  std::string got;
  auto r = StreamHttp(Get(DockerUrl("/events")), options, [&](std::string_view piece) {
    got.append(piece);
    return true;
  });
  ASSERT_THAT(r, outpost::testing::IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(got, "line 1\nline 2\n");
}

TEST(SendHttp, WithoutOrWithAWrongClientCertificateTheServerRefuses) {
  TlsServer server;
  ASSERT_THAT(server.status(), outpost::testing::IsOk());
  TransportOptions none;
  none.ca_file = server.file("ca.pem");
  none.timeout = std::chrono::seconds(10);
  auto r = SendHttp(Get(server.url()), none);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().code(), ::testing::AnyOf(Code::kUnavailable, Code::kFailedPrecondition))
      << r.status().ToString();
  TransportOptions wrong = none;
  wrong.client_cert_file = server.file("other-cert.pem");
  wrong.client_key_file = server.file("other-key.pem");
  auto w = SendHttp(Get(server.url()), wrong);
  EXPECT_FALSE(w.ok());
  EXPECT_THAT(w.status().code(), ::testing::AnyOf(Code::kUnavailable, Code::kFailedPrecondition))
      << w.status().ToString();
}

TEST(SendHttp, ThePrivateCaReplacesTheSystemStore) {
  TlsServer server;
  ASSERT_THAT(server.status(), outpost::testing::IsOk());
  TransportOptions system_store;  // the test CA is in no system store
  system_store.client_cert_file = server.file("cert.pem");
  system_store.client_key_file = server.file("key.pem");
  system_store.timeout = std::chrono::seconds(10);
  EXPECT_THAT(SendHttp(Get(server.url()), system_store),
              outpost::testing::StatusIs(Code::kFailedPrecondition,
                                         ::testing::HasSubstr("certificate verify failed")));
  TransportOptions other_ca = system_store;
  other_ca.ca_file = server.file("other-ca.pem");
  EXPECT_THAT(SendHttp(Get(server.url()), other_ca),
              outpost::testing::StatusIs(Code::kFailedPrecondition,
                                         ::testing::HasSubstr("certificate verify failed")));
}

}  // namespace
}  // namespace outpost::net
