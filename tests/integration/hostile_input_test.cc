// Hostile input against a real `outpost serve` over raw sockets: slowloris clients are cut off at
// the header deadline while others are served, a slow body at its rate deadline; connections
// over the limit are answered 503 and served again below it; oversized targets, headers and
// bodies get their status; every JSON body route enforces the nesting and size limits; and no
// spelling of a path climbs out of the artifacts directory or reaches the filesystem with a
// malformed run id.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <thread>

#include "artifacts/local/local_artifact_store.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A raw client connection (IPv4 "IP:PORT").
class Socket {
 public:
  // Requests name `host_port` as their Host: open mode answers only its own names.
  explicit Socket(const std::string& host_port) : host_(host_port) {
    const auto colon = host_port.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
    inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Waits up to `timeout` for input; reads what is there. False once the peer closed (EOF or
  // reset), true when it is still open (with or without new input).
  bool Poll(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return true;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) in_.append(buf, static_cast<std::size_t>(n));
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
  // Reads until the peer closes or `timeout` passes; true when it closed.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!Poll(50ms)) return true;
    }
    return false;
  }
  // One response (headers + Content-Length body) read within `timeout`; status 0 if none.
  HttpResponse ReadResponse(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    HttpResponse r;
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (Clock::now() >= deadline || !Poll(50ms)) {
        if ((end = in_.find("\r\n\r\n")) != std::string::npos) break;
        if (Clock::now() >= deadline || in_.empty()) return r;
      }
    }
    std::string head = in_.substr(0, end);
    std::size_t length = 0;
    for (std::size_t pos = head.find("\r\n"); pos != std::string::npos;) {
      const std::size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? next : next - pos - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-length") length = std::stoul(value);
        r.headers[name] = value;
      }
      pos = next;
    }
    while (in_.size() < end + 4 + length && Clock::now() < deadline && Poll(50ms)) {
    }
    if (in_.size() < end + 4 + length) return r;
    r.status = std::stoi(head.substr(9, 3));
    r.body = in_.substr(end + 4, length);
    in_.erase(0, end + 4 + length);
    return r;
  }
  HttpResponse Request(const std::string& method, const std::string& target,
                       const std::string& extra = "", const std::string& body = "") {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n" + extra;
    if (!body.empty() || method == "POST") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    if (!Send(req + "\r\n" + body)) return {};
    return ReadResponse();
  }

 private:
  std::string host_;
  int fd_ = -1;
  bool connected_ = false;
  std::string in_;
};

std::string ErrorCode(const HttpResponse& r) {
  boost::system::error_code ec;
  const json::value body = r.Json();
  const json::value* code = body.find_pointer("/error/code", ec);
  return code && code->is_string() ? std::string(code->as_string()) : "";
}

std::string FirstErrorMessage(const HttpResponse& r) {
  boost::system::error_code ec;
  const json::value body = r.Json();
  const json::value* m = body.find_pointer("/error/details/errors/0/message", ec);
  return m && m->is_string() ? std::string(m->as_string()) : "";
}

std::chrono::milliseconds Since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

class HostileInputTest : public ServerTest {
 protected:
  void Start(const std::map<std::string, std::string>& env = {}) {
    server_ = ServerProcess::Start(dir_, env, {"--runner", "process"});
  }
  int RunCount() {
    HttpResponse r = server_->Get("/runs?limit=100");
    return r.status == 200 ? static_cast<int>(r.Json().at("data").at("items").as_array().size())
                           : -1;
  }
};

// ---- Slow clients -----------------------------------------------------------------------------

TEST_F(HostileInputTest, SlowlorisConnectionsAreClosedAtTheHeaderDeadlineWhileOthersAreServed) {
  Start({{"OUTPOST_HEADER_TIMEOUT_MS", "1500"}});
  constexpr int kSlow = 20;
  std::vector<std::unique_ptr<Socket>> slow;
  std::vector<Clock::time_point> opened(kSlow);
  std::vector<std::optional<std::chrono::milliseconds>> lived(kSlow);
  for (int i = 0; i < kSlow; ++i) {
    opened[i] = Clock::now();
    slow.push_back(std::make_unique<Socket>(server_->address()));
    ASSERT_TRUE(slow.back()->connected());
  }
  // Each trickles one more header byte every 300 ms: progress, but never a whole header.
  std::atomic<bool> all_closed{false};
  std::thread trickler([&] {
    const std::string header = "GET /health/live HTTP/1.1\r\nHost: " + server_->address() +
                               "\r\nX-Slow: " + std::string(1000, 'z');
    const auto give_up = Clock::now() + 20s;
    for (std::size_t sent = 0; Clock::now() < give_up; ++sent) {
      int open = 0;
      for (int i = 0; i < kSlow; ++i) {
        if (lived[i]) continue;
        if (!slow[i]->Send(header.substr(sent % header.size(), 1)) || !slow[i]->Poll(0ms)) {
          lived[i] = Since(opened[i]);
          continue;
        }
        ++open;
      }
      if (open == 0) break;
      for (int i = 0; i < 6; ++i) {  // 300 ms, watching for closes meanwhile
        for (int j = 0; j < kSlow; ++j) {
          if (!lived[j] && !slow[j]->Poll(0ms)) lived[j] = Since(opened[j]);
        }
        std::this_thread::sleep_for(50ms);
      }
    }
    all_closed = true;
  });
  // Meanwhile, and after: ordinary requests are answered promptly.
  std::chrono::milliseconds slowest{0};
  int served = 0;
  while (!all_closed) {
    const auto t = Clock::now();
    HttpResponse r = server_->Get("/health/live");
    EXPECT_EQ(r.status, 200);
    slowest = std::max(slowest, Since(t));
    ++served;
    std::this_thread::sleep_for(100ms);
  }
  trickler.join();
  EXPECT_GT(served, 5);
  EXPECT_LT(slowest, 3s) << "a normal request waited behind the slowloris connections";
  for (int i = 0; i < kSlow; ++i) {
    ASSERT_TRUE(lived[i]) << "slowloris connection " << i << " was never closed";
    EXPECT_GE(*lived[i], 1400ms) << i;
    EXPECT_LT(*lived[i], 1500ms + 8s) << i;
  }
  EXPECT_EQ(server_->Get("/health/live").status, 200);
}

TEST_F(HostileInputTest, BodyTrickledBelowTheMinimumRateIsCutOffAndDispatchesNothing) {
  Start({{"OUTPOST_BODY_TIMEOUT_MS", "1000"}, {"OUTPOST_BODY_MIN_BYTES_PER_SECOND", "1000"}});
  Socket c(server_->address());
  const std::string body = R"({"agent":"shell","task":")" + std::string(5000, 'x') + R"("})";
  ASSERT_TRUE(c.Send("POST /dispatch HTTP/1.1\r\nHost: " + server_->address() +
                     "\r\nContent-Type: application/json\r\n"
                     "Content-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  const auto start = Clock::now();
  std::optional<std::chrono::milliseconds> lived;
  for (std::size_t i = 0; i < body.size() && Since(start) < 15s; ++i) {  // 20 bytes/s
    if (!c.Send(body.substr(i, 1)) || !c.Poll(50ms)) {
      lived = Since(start);
      break;
    }
  }
  ASSERT_TRUE(lived) << "a trickled body was never cut off";
  EXPECT_GE(*lived, 900ms);
  EXPECT_LT(*lived, 9s);
  EXPECT_EQ(RunCount(), 0);
}

TEST_F(HostileInputTest, LyingContentLengthsNeitherHangNorSmuggle) {
  Start({{"OUTPOST_BODY_TIMEOUT_MS", "1000"}});
  // Longer than what is sent: the body deadline ends it.
  Socket longer(server_->address());
  ASSERT_TRUE(longer.Send("POST /dispatch HTTP/1.1\r\nHost: " + server_->address() +
                          "\r\nContent-Type: application/json\r\n"
                          "Content-Length: 500\r\n\r\n{\"agent\":\"shell\",\"task\":\"echo\"}"));
  const auto start = Clock::now();
  EXPECT_TRUE(longer.WaitClosed(10s));
  EXPECT_GE(Since(start), 900ms);
  // Shorter: the rest is read as the next request, which is malformed: 400, then closed.
  Socket shorter(server_->address());
  ASSERT_TRUE(shorter.Send(
      "POST /runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel HTTP/1.1\r\nHost: " + server_->address() +
      "\r\n"
      "Content-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
      "\"agent\":\"shell\"}\r\n\r\n"));
  HttpResponse first = shorter.ReadResponse();
  EXPECT_EQ(first.status, 404) << first.body;  // the cancel of an unknown run
  HttpResponse second = shorter.ReadResponse();
  EXPECT_EQ(second.status, 400) << second.body;
  EXPECT_EQ(ErrorCode(second), "VALIDATION_ERROR");
  EXPECT_TRUE(shorter.WaitClosed(5s));
  EXPECT_EQ(RunCount(), 0);
}

// ---- The connection limit ----------------------------------------------------------------------

TEST_F(HostileInputTest, ConnectionsOverTheLimitAre503AndProbesWorkAgainBelowIt) {
  Start({{"OUTPOST_MAX_CONNECTIONS", "8"}});
  std::vector<std::unique_ptr<Socket>> held;
  for (int i = 0; i < 8; ++i) {  // kept alive after one request each: all eight are counted
    held.push_back(std::make_unique<Socket>(server_->address()));
    ASSERT_EQ(held.back()->Request("GET", "/health/live").status, 200) << i;
  }
  for (int i = 0; i < 20; ++i) {
    Socket extra(server_->address());
    ASSERT_TRUE(extra.connected()) << "the accept loop stopped accepting";
    HttpResponse r = extra.Request("GET", "/health/live");
    EXPECT_EQ(r.status, 503) << i;
    EXPECT_EQ(ErrorCode(r), "SERVICE_UNAVAILABLE");
    EXPECT_EQ(r.headers["retry-after"], "1");
    EXPECT_TRUE(extra.WaitClosed(5s));
  }
  EXPECT_EQ(held.front()->Request("GET", "/health/live").status, 200);  // held ones still work
  held.resize(6);
  EXPECT_TRUE(WaitFor([&] { return server_->Get("/health/live").status == 200; }, 10s));
  EXPECT_EQ(server_->Get("/health/ready").status, 200);
}

// ---- Sizes
// ---------------------------------------------------------------------------------------

TEST_F(HostileInputTest, OversizedTargetsHeadersAndBodiesGetTheirStatus) {
  Start({{"OUTPOST_MAX_BODY_BYTES", "4096"}});
  HttpResponse target = server_->Get("/runs?cursor=" + std::string(9000, 'c'));
  EXPECT_EQ(target.status, 414);
  EXPECT_EQ(ErrorCode(target), "URI_TOO_LONG");
  std::map<std::string, std::string> many;
  for (int i = 0; i < 101; ++i) many["X-F" + std::to_string(i)] = "1";
  HttpResponse fields = Http(server_->address(), "GET", "/health/live", "", many);
  EXPECT_EQ(fields.status, 431);
  EXPECT_EQ(ErrorCode(fields), "REQUEST_HEADERS_TOO_LARGE");
  HttpResponse line =
      Http(server_->address(), "GET", "/health/live", "", {{"X-Big", std::string(9000, 'b')}});
  EXPECT_EQ(line.status, 431);
  HttpResponse block = Http(server_->address(), "GET", "/health/live", "",
                            {{"X-A", std::string(7000, 'a')},
                             {"X-B", std::string(7000, 'b')},
                             {"X-C", std::string(7000, 'c')}});
  EXPECT_EQ(block.status, 431);
  // The same over-limit block with fields longer than a target may be: still 431, not 414.
  HttpResponse long_fields =
      Http(server_->address(), "GET", "/health/live", "",
           {{"X-A", std::string(9000, 'a')}, {"X-B", std::string(9000, 'b')}});
  EXPECT_EQ(long_fields.status, 431);
  EXPECT_EQ(ErrorCode(long_fields), "REQUEST_HEADERS_TOO_LARGE");
  HttpResponse body = server_->Post("/dispatch", std::string(5000, ' '));
  EXPECT_EQ(body.status, 413);
  EXPECT_EQ(ErrorCode(body), "PAYLOAD_TOO_LARGE");
  std::string chunked = "POST /dispatch HTTP/1.1\r\nHost: " + server_->address() +
                        "\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
  chunked += "0\r\n\r\n";
  HttpResponse grown;
  {
    Socket c(server_->address());
    ASSERT_TRUE(c.Send(chunked));
    grown = c.ReadResponse();
  }
  EXPECT_EQ(grown.status, 413);
  EXPECT_EQ(server_->Get("/health/live").status, 200);
  EXPECT_EQ(RunCount(), 0);
}

// ---- JSON bodies
// ---------------------------------------------------------------------------------

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string Wide(int n) {
  std::string out = "[0";
  for (int i = 1; i < n; ++i) out += ",0";
  return out + "]";
}

TEST_F(HostileInputTest, EveryJsonBodyRouteEnforcesNestingAndSizeLimits) {
  Start();
  // A real run that a hostile cancel body must not cancel.
  const std::string run_id = server_->Dispatch(R"({"agent":"shell","task":"sleep 30"})");
  ASSERT_FALSE(run_id.empty());
  std::string wide_tags = R"({"agent":"shell","task":"x","tags":{)";
  for (int i = 0; i < 10'001; ++i) wide_tags += (i ? ",\"" : "\"") + std::to_string(i) + "\":\"v\"";
  wide_tags += "}}";
  const std::string deep_dispatch =
      R"({"agent":"shell","task":"x","tags":{"a":)" + Nested(40) + "}}";
  for (const std::string& body :
       {deep_dispatch, Nested(500'000) /* 1 MB: within the body limit */, wide_tags}) {
    HttpResponse r = server_->Post("/dispatch", body);
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(ErrorCode(r), "VALIDATION_ERROR");
  }
  EXPECT_EQ(FirstErrorMessage(server_->Post("/dispatch", deep_dispatch)),
            "JSON nested deeper than 32 levels");
  EXPECT_EQ(FirstErrorMessage(server_->Post("/dispatch", wide_tags)),
            "JSON document has more than 10000 values");

  for (const std::string& body :
       {R"({"reason":)" + Nested(40) + "}", R"({"reason":)" + Wide(10'001) + "}"}) {
    HttpResponse r = server_->Post("/runs/" + run_id + "/cancel", body);
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(ErrorCode(r), "VALIDATION_ERROR");
  }
  EXPECT_EQ(FirstErrorMessage(
                server_->Post("/runs/" + run_id + "/cancel", R"({"reason":)" + Nested(40) + "}")),
            "JSON nested deeper than 32 levels");
  const std::string status = Str(server_->Run(run_id), "status");
  EXPECT_TRUE(status == "PENDING" || status == "RUNNING") << status;

  const std::string wide_args = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":)"
                                R"({"name":"list_runs","arguments":{"x":)" +
                                Wide(10'001) + "}}}";
  for (const std::string& body :
       {R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"dispatch",)"
        R"("arguments":{"agent":"shell","task":"x","tags":)" +
            Nested(70) + "}}}",
        wide_args}) {
    HttpResponse r = Http(
        server_->address(), "POST", "/mcp", body,
        {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}});
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    boost::system::error_code ec;
    const json::value reply = r.Json();
    const json::value* code = reply.find_pointer("/error/code", ec);
    ASSERT_TRUE(code) << r.body.substr(0, 300);
    EXPECT_EQ(*code, -32700);
  }
  EXPECT_EQ(RunCount(), 1);
  EXPECT_EQ(server_->Get("/health/live").status, 200);
}

// ---- Paths
// ---------------------------------------------------------------------------------------

class HostilePathTest : public HostileInputTest {
 protected:
  void SetUp() override {
    HostileInputTest::SetUp();
    Start();
    auto signer = artifacts::UrlSigner::LoadOrCreate(dir_);
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    signer_ = std::make_unique<artifacts::UrlSigner>(*signer);
    key_bytes_ = ReadAll(artifacts::UrlSigner::KeyFilePath(dir_));
    ASSERT_EQ(key_bytes_.size(), 32u);
  }
  // `raw_path` as sent, signed for the path the server decodes it to (as a leaked key could).
  std::string Signed(const std::string& raw_path, const std::string& decoded_path) {
    const std::int64_t expires = std::chrono::duration_cast<std::chrono::seconds>(
                                     (std::chrono::system_clock::now() + 60s).time_since_epoch())
                                     .count();
    return raw_path + "?expires=" + std::to_string(expires) +
           "&signature=" + signer_->Signature("GET", decoded_path, expires);
  }
  void ExpectNothingLeaks(const HttpResponse& r, int status, const std::string& target) {
    EXPECT_EQ(r.status, status) << target << " " << r.body.substr(0, 300);
    EXPECT_EQ(r.body.find(key_bytes_), std::string::npos) << target;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
  }

  std::unique_ptr<artifacts::UrlSigner> signer_;
  std::string key_bytes_;
};

TEST_F(HostilePathTest, NoSpellingOfAFilesPathClimbsOutOfTheArtifactsDir) {
  struct Case {
    std::string raw, decoded;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"/files/%2e%2e/artifact-url.key", "/files/../artifact-url.key", 400},
           {"/files/%2E%2e/%2e%2E/etc/passwd", "/files/../../etc/passwd", 400},
           {"/files/%252e%252e/artifact-url.key", "/files/%2e%2e/artifact-url.key", 400},
           {"/files/..%5c..%5cartifact-url.key", "/files/..\\..\\artifact-url.key", 400},
           {"/files/..\\..\\artifact-url.key", "/files/..\\..\\artifact-url.key", 400},
           {"/files/a%00b", "/files/a", 400},  // NUL: refused before the signature matters
           {"/files/%c0%ae%c0%ae/artifact-url.key", "/files/\xc0\xae\xc0\xae/artifact-url.key",
            400},
           {"/files/%2Fetc%2Fpasswd", "/files//etc/passwd", 400},
           {"/files//etc/passwd", "/files//etc/passwd", 404},
           {"/files/%40meta/x", "/files/@meta/x", 400},
       }) {
    const std::string target = Signed(c.raw, c.decoded);
    ExpectNothingLeaks(Http(server_->address(), "GET", target), c.status, target);
  }
  // Unsigned but otherwise plain: refused before any lookup.
  ExpectNothingLeaks(Http(server_->address(), "GET", "/files/../artifact-url.key"), 400, "..");
}

TEST_F(HostilePathTest, LinksPlantedInTheArtifactsDirAreNotFollowed) {
  const std::string root = dir_ + "/artifacts";
  ASSERT_EQ(::symlink(dir_.c_str(), (root + "/dispatches").c_str()), 0);
  ASSERT_EQ(::symlink((dir_ + "/artifact-url.key").c_str(), (root + "/key").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (root + "/passwd").c_str()), 0);
  for (const char* path : {"/files/dispatches/artifact-url.key", "/files/key", "/files/passwd"}) {
    const std::string target = Signed(path, path);
    ExpectNothingLeaks(Http(server_->address(), "GET", target), 404, target);
  }
}

TEST_F(HostilePathTest, MalformedRunIdsAreRefusedBeforeTheFilesystem) {
  for (std::string target :
       {"/runs/%2e%2e/logs", "/runs/..%2f..%2fetc/events", "/runs/..%5c..%5cetc/logs",
        "/runs/%2e%2e%2f/artifacts", "/dispatch/..%00", "/artifacts/%252e%252e"}) {
    HttpResponse r = Http(server_->address(), "GET", target);
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_EQ(ErrorCode(r), "VALIDATION_ERROR") << target;
  }
  // Well-formed ids of no run: 404, not a file error.
  EXPECT_EQ(server_->Get("/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/logs").status, 404);
  EXPECT_EQ(server_->Get("/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/artifacts").status, 404);
}

}  // namespace
}  // namespace outpost::testing
