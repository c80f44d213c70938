// Streamed response bodies (BodyStream) through a real HttpServer: wake-ups from other threads,
// a client that never reads, and graceful shutdown with streams open.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "http/http_server.h"
#include "http/test_client.h"

namespace outpost::http {
namespace {

using testing::RawClient;
using namespace std::chrono_literals;

// A stream fed by the test: Push() from any thread, End() to finish.
class FedStream : public BodyStream {
 public:
  void Start(std::function<void()> wake) override {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
  }
  State Pull(std::string& out, std::size_t max_bytes) override {
    std::lock_guard lock(mu_);
    std::size_t n = std::min(max_bytes, pending_.size());
    out.append(pending_, 0, n);
    pending_.erase(0, n);
    ++pulls_;
    if (!pending_.empty()) return State::kMore;
    return ended_ ? State::kEnd : State::kWait;
  }
  std::chrono::milliseconds WaitLimit() const override { return 60s; }

  void Push(std::string data, bool end = false) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mu_);
      pending_ += data;
      ended_ = end;
      wake = wake_;
    }
    if (wake) wake();
  }
  bool Started() {
    std::lock_guard lock(mu_);
    return static_cast<bool>(wake_);
  }

 private:
  std::mutex mu_;
  std::string pending_;
  bool ended_ = false;
  int pulls_ = 0;
  std::function<void()> wake_;
};

class HttpStreamTest : public ::testing::Test {
 protected:
  void StartServer(int threads = 1) {
    router_.Add("GET", "/stream/{n}", [this](const Request&, const PathParams& p) {
      Response r;
      r.content_type = "text/event-stream";
      r.stream = streams_.at(std::stoul(p.at("n")));
      return r;
    });
    HttpServerOptions opts;
    opts.port = 0;
    opts.threads = threads;
    opts.idle_timeout = 30s;
    server_ = std::make_unique<HttpServer>(router_, opts);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  bool WaitStarted(FedStream& s) {
    for (int i = 0; i < 500 && !s.Started(); ++i) std::this_thread::sleep_for(10ms);
    return s.Started();
  }

  std::vector<std::shared_ptr<FedStream>> streams_{std::make_shared<FedStream>(),
                                                   std::make_shared<FedStream>()};
  Router router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpStreamTest, BodyIsSentAsItComesAndTheConnectionClosesAtItsEnd) {
  StartServer();
  RawClient c(server_->BoundAddress());
  ASSERT_TRUE(c.Send("GET /stream/0 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n"));
  const std::string head = c.buffered();
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(head.find("Connection: close"), std::string::npos);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  ASSERT_TRUE(WaitStarted(*streams_[0]));
  std::thread producer([&] { streams_[0]->Push("first\n"); });
  producer.join();
  ASSERT_TRUE(c.ReadUntil("first\n"));  // delivered on the wake, long before WaitLimit
  streams_[0]->Push("last\n", /*end=*/true);
  std::string rest = c.ReadToClose();
  EXPECT_EQ(rest.substr(rest.size() - 11), "first\nlast\n");
}

// One io thread: a client that never reads must not hold up another one.
TEST_F(HttpStreamTest, AStalledClientDoesNotBlockOtherStreams) {
  StartServer(/*threads=*/1);
  RawClient stalled(server_->BoundAddress());
  int small = 4096;
  ::setsockopt(stalled.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_TRUE(stalled.Send("GET /stream/0 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(WaitStarted(*streams_[0]));
  streams_[0]->Push(std::string(32 << 20, 'x'));  // far more than the socket buffers hold

  RawClient reader(server_->BoundAddress());
  ASSERT_TRUE(reader.Send("GET /stream/1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(WaitStarted(*streams_[1]));
  for (int i = 0; i < 100; ++i) streams_[1]->Push("line " + std::to_string(i) + "\n");
  streams_[1]->Push("done\n", /*end=*/true);
  std::string body = reader.ReadToClose();
  EXPECT_NE(body.find("line 99\ndone\n"), std::string::npos);
}

TEST_F(HttpStreamTest, StopEndsOpenStreamsPromptly) {
  StartServer(2);
  RawClient c(server_->BoundAddress());
  ASSERT_TRUE(c.Send("GET /stream/0 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(WaitStarted(*streams_[0]));
  streams_[0]->Push("x");
  ASSERT_TRUE(c.ReadUntil("x"));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();  // shutdown_grace is 10 s: a stream must not use it up
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(c.PeerClosed());
}

TEST_F(HttpStreamTest, HeadGetsTheHeadersOnly) {
  StartServer();
  RawClient c(server_->BoundAddress());
  auto r = c.Request("HEAD", "/stream/0");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.PeerClosed());
}

}  // namespace
}  // namespace outpost::http
