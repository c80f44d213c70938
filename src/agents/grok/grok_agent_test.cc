// End-to-end tests of `outpost grok-agent` against a scripted chat-completions server on
// 127.0.0.1:0 (testing/'s FakeHttpServer), through the real HTTP transport. https is covered up to
// the TLS handshake: a raw CONNECT proxy checks the tunnel request and the SNI in the ClientHello
// (there is no TLS server in the tests, so certificate verification is not exercised here).
#include "agents/grok/grok_agent.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "testing/fake_http_server.h"
#include "testing/temp_dir.h"

namespace outpost::agents::grok {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;

std::string Completion(const std::string& content, int in = 11, int out = 7) {
  json::object o{{"id", "c1"},
                 {"object", "chat.completion"},
                 {"choices", json::array{json::object{
                                 {"index", 0},
                                 {"message", {{"role", "assistant"}, {"content", content}}},
                                 {"finish_reason", "stop"}}}},
                 {"usage", {{"prompt_tokens", in}, {"completion_tokens", out}}}};
  return json::serialize(o);
}

FakeResponse Reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  return FakeResponse{status, std::move(body), std::move(headers)};
}

std::vector<json::object> Events(const std::string& out) {
  std::vector<json::object> events;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) events.push_back(json::parse(line).as_object());
  return events;
}

std::vector<json::object> OfType(const std::vector<json::object>& events, std::string_view type) {
  std::vector<json::object> out;
  for (const auto& e : events) {
    if (e.at("type").as_string() == type) out.push_back(e);
  }
  return out;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class GrokAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = base_ / "work";
    outside_ = base_ / "outside";
    fs::create_directories(ws_);
    fs::create_directories(outside_);
  }
  EnvMap Env(const std::string& base_url) {
    return {{"XAI_API_KEY", "xai-test-key"}, {"XAI_BASE_URL", base_url}};
  }
  int Run(const EnvMap& env,
          std::vector<std::string> args = {"--model", "grok-test", "--", "Add two files"}) {
    out_.str("");
    clock_.set_advance_on_sleep(true);  // inline: a backoff moves the clock (clock_.sleeps())
    return RunGrokAgentWith(args, env, ws_.string(), out_, clock_);
  }
  std::vector<std::chrono::milliseconds> sleeps() const { return clock_.sleeps(); }

  outpost::testing::TempDir dir_{"grok-agent"};
  fs::path base_ = dir_.path();
  fs::path ws_, outside_;
  std::ostringstream out_;
  SimulatedClock clock_;
};

TEST_F(GrokAgentTest, TwoFencedFilesAreWrittenAndReported) {
  std::ofstream(ws_ / "README.md") << "# Demo project\n";
  FakeHttpServer server([](const FakeRequest&) {
    return Reply(200, Completion("Done.\n```python:src/a.py\nprint('a')\n```\n"
                                 "File: docs/b.md\n```markdown\n# B\n```\n",
                                 123, 45));
  });
  ASSERT_EQ(Run(Env(server.endpoint() + "/v1")), 0) << out_.str();

  EXPECT_EQ(Slurp(ws_ / "src/a.py"), "print('a')\n");
  EXPECT_EQ(Slurp(ws_ / "docs/b.md"), "# B\n");
  auto events = Events(out_.str());
  ASSERT_EQ(OfType(events, "assistant").size(), 1u);
  auto written = OfType(events, "file_written");
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].at("path").as_string(), "src/a.py");
  EXPECT_EQ(written[0].at("bytes").to_number<int>(), 11);
  EXPECT_EQ(written[1].at("path").as_string(), "docs/b.md");
  auto usage = OfType(events, "usage");
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].at("input_tokens").to_number<int>(), 123);
  EXPECT_EQ(usage[0].at("output_tokens").to_number<int>(), 45);
  EXPECT_EQ(json::serialize(events.back()),
            R"({"type":"result","status":"success","files_applied":2})");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/chat/completions");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer xai-test-key");
  auto body = json::parse(requests[0].body).as_object();
  EXPECT_EQ(body.at("model").as_string(), "grok-test");
  EXPECT_EQ(body.at("max_tokens").to_number<int>(), 8192);
  EXPECT_DOUBLE_EQ(body.at("temperature").to_number<double>(), 0.7);
  EXPECT_FALSE(body.at("stream").as_bool());
  const auto& messages = body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("role").as_string(), "system");
  std::string user(messages[1].at("content").as_string());
  EXPECT_NE(user.find("Add two files"), std::string::npos);
  EXPECT_NE(user.find("- README.md"), std::string::npos);
  EXPECT_NE(user.find("# Demo project"), std::string::npos);
}

TEST_F(GrokAgentTest, EscapingPathsAreRefusedAndNothingIsWrittenOutside) {
  fs::create_directory_symlink(outside_, ws_ / "link");
  FakeHttpServer server([](const FakeRequest&) {
    return Reply(200, Completion("```txt:../escape.txt\nx\n```\n```txt:/etc/x\nx\n```\n"
                                 "```txt:link/evil\nx\n```\n```txt:ok.txt\nfine\n```\n"));
  });
  ASSERT_EQ(Run(Env(server.endpoint())), 0) << out_.str();

  auto events = Events(out_.str());
  auto refused = OfType(events, "file_refused");
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(refused[0].at("path").as_string(), "../escape.txt");
  EXPECT_EQ(refused[1].at("path").as_string(), "/etc/x");
  EXPECT_EQ(refused[2].at("path").as_string(), "link/evil");
  for (const auto& r : refused) EXPECT_FALSE(r.at("reason").as_string().empty());
  EXPECT_FALSE(fs::exists(base_ / "escape.txt"));
  EXPECT_FALSE(fs::exists("/etc/x"));
  EXPECT_TRUE(fs::is_empty(outside_));
  EXPECT_EQ(Slurp(ws_ / "ok.txt"), "fine\n");
  EXPECT_EQ(events.back().at("files_applied").to_number<int>(), 1);
}

TEST_F(GrokAgentTest, UnauthorizedExitsOneWithTheStatusAndNoRetry) {
  FakeHttpServer server([](const FakeRequest&) {
    return Reply(401, R"({"error":{"message":"Incorrect API key provided"}})");
  });
  EXPECT_EQ(Run(Env(server.endpoint())), 1);
  auto events = Events(out_.str());
  auto errors = OfType(events, "error");
  ASSERT_EQ(errors.size(), 1u);
  std::string message(errors[0].at("message").as_string());
  EXPECT_NE(message.find("HTTP 401"), std::string::npos) << message;
  EXPECT_NE(message.find("Incorrect API key provided"), std::string::npos) << message;
  EXPECT_EQ(json::serialize(events.back()),
            R"({"type":"result","status":"error","files_applied":0})");
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(sleeps().empty());
}

TEST_F(GrokAgentTest, ServerErrorIsRetriedThenSucceeds) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    if (calls++ == 0) return Reply(500, R"({"error":"overloaded"})");
    return Reply(200, Completion("```txt:a.txt\nA\n```\n", 5, 6));
  });
  ASSERT_EQ(Run(Env(server.endpoint())), 0) << out_.str();
  EXPECT_EQ(server.requests().size(), 2u);
  ASSERT_EQ(sleeps().size(), 1u);
  EXPECT_EQ(sleeps()[0], std::chrono::milliseconds(1000));
  EXPECT_EQ(Slurp(ws_ / "a.txt"), "A\n");
  EXPECT_TRUE(OfType(Events(out_.str()), "error").empty());
}

TEST_F(GrokAgentTest, RateLimitHonoursRetryAfterAndGivesUp) {
  FakeHttpServer server([](const FakeRequest&) {
    return Reply(429, R"({"error":"slow down"})", {{"Retry-After", "3"}});
  });
  EXPECT_EQ(Run(Env(server.endpoint())), 1);
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(sleeps(), std::vector<std::chrono::milliseconds>(3, std::chrono::seconds(3)));
  auto errors = OfType(Events(out_.str()), "error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].at("message").as_string().find("HTTP 429"), std::string::npos);
}

TEST_F(GrokAgentTest, LaterTurnsReportWhatWasAppliedAndStopWithoutBlocks) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    if (calls++ == 0) return Reply(200, Completion("```txt:a.txt\nA\n```\n", 10, 1));
    return Reply(200, Completion("All done.", 20, 2));
  });
  EnvMap env = Env(server.endpoint());
  env["GROK_MAX_TURNS"] = "5";
  ASSERT_EQ(Run(env), 0) << out_.str();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  json::value second_body = json::parse(requests[1].body);
  const auto& second = second_body.at("messages").as_array();
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(second[2].at("role").as_string(), "assistant");
  EXPECT_NE(second[3].at("content").as_string().find("a.txt"), std::string::npos);
  auto usage = OfType(Events(out_.str()), "usage");
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].at("input_tokens").to_number<int>(), 30);
  EXPECT_EQ(usage[0].at("output_tokens").to_number<int>(), 3);
}

TEST_F(GrokAgentTest, HttpGoesThroughTheProxyInAbsoluteForm) {
  // The fake server plays the proxy: it sees the absolute-form target of the real API.
  FakeHttpServer proxy([](const FakeRequest&) { return Reply(200, Completion("ok")); });
  EnvMap env = Env("http://api.example.test:8000/v1");
  env["HTTP_PROXY"] = proxy.endpoint();
  ASSERT_EQ(Run(env), 0) << out_.str();
  auto requests = proxy.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "http://api.example.test:8000/v1/chat/completions");
  EXPECT_EQ(requests[0].headers.at("host"), "api.example.test:8000");
}

TEST_F(GrokAgentTest, NoProxyBypassesTheProxy) {
  FakeHttpServer server([](const FakeRequest&) { return Reply(200, Completion("ok")); });
  EnvMap env = Env(server.endpoint());
  env["HTTP_PROXY"] = "http://127.0.0.1:1";  // nothing listens there
  env["NO_PROXY"] = "127.0.0.1";
  ASSERT_EQ(Run(env), 0) << out_.str();
  EXPECT_EQ(server.requests().size(), 1u);
}

// A raw TCP "proxy" for https: answers CONNECT with 200 (or `status`), then records the first
// bytes of the tunnel (the TLS ClientHello) and hangs up.
class RawConnectProxy {
 public:
  explicit RawConnectProxy(int status) : status_(status) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawConnectProxy() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string head() {
    std::lock_guard lock(mu_);
    return head_;
  }
  std::string hello() {
    std::lock_guard lock(mu_);
    return hello_;
  }

 private:
  void Serve() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      std::string reply = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Length: 0\r\n\r\n";
      (void)!::write(c, reply.data(), reply.size());
      std::string hello;
      if (status_ == 200) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n > 0) hello.assign(buf, static_cast<std::size_t>(n));
      }
      ::close(c);
      std::lock_guard lock(mu_);
      if (head_.empty()) head_ = head, hello_ = hello;
    }
  }

  int status_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::string head_, hello_;  // guarded by mu_; the first connection's
};

TEST_F(GrokAgentTest, HttpsTunnelsThroughConnectWithSni) {
  RawConnectProxy proxy(200);
  EnvMap env = Env("https://api.example.test/v1");
  env["HTTPS_PROXY"] = proxy.url();
  EXPECT_EQ(Run(env), 1);  // the "server" hangs up instead of finishing the handshake
  EXPECT_TRUE(proxy.head().starts_with("CONNECT api.example.test:443 HTTP/1.1\r\n"))
      << proxy.head();
  EXPECT_NE(proxy.hello().find("api.example.test"), std::string::npos) << "no SNI in ClientHello";
  ASSERT_FALSE(proxy.hello().empty());
  EXPECT_EQ(proxy.hello()[0], 0x16);                                // a TLS handshake record
  EXPECT_EQ(proxy.head().find("xai-test-key"), std::string::npos);  // the key stays in the tunnel
}

TEST_F(GrokAgentTest, RefusedConnectIsAnErrorNamingTheProxyStatus) {
  RawConnectProxy proxy(403);
  EnvMap env = Env("https://api.example.test/v1");
  env["HTTPS_PROXY"] = proxy.url();
  EXPECT_EQ(Run(env), 1);
  auto errors = OfType(Events(out_.str()), "error");
  ASSERT_EQ(errors.size(), 1u);
  std::string message(errors[0].at("message").as_string());
  EXPECT_NE(message.find("CONNECT"), std::string::npos) << message;
  EXPECT_NE(message.find("403"), std::string::npos) << message;
  EXPECT_TRUE(sleeps().empty());  // a policy refusal is not retried
}

TEST_F(GrokAgentTest, BadUsageExitsTwo) {
  EnvMap env = Env("http://127.0.0.1:1");
  EXPECT_EQ(Run(env, {"--model", "m"}), 2);  // no task
  EXPECT_EQ(Run(env, {"task", "extra"}), 2);
  EXPECT_EQ(Run(env, {"--bogus", "task"}), 2);
  EXPECT_EQ(Run({{"XAI_BASE_URL", "http://127.0.0.1:1"}}, {"task"}), 2);  // no key
  EnvMap bad = env;
  bad["GROK_MAX_TURNS"] = "0";
  EXPECT_EQ(Run(bad, {"task"}), 2);
  auto events = Events(out_.str());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().at("status").as_string(), "error");
  EXPECT_EQ(Run(env, {"--", "--looks-like-a-flag"}), 1);  // a task after "--"; nothing listens
}

}  // namespace
}  // namespace outpost::agents::grok

namespace outpost::agents::grok {
namespace {

TEST(HttpTransport, SilentServerTimesOutAsUnavailable) {
  // A listener that never accepts: connect and write succeed (backlog), the read never does.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  HttpRequest request{
      "POST", *ParseUrl("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))), {}, "{}"};
  auto start = std::chrono::steady_clock::now();
  auto r = SendHttp(request, {std::nullopt, std::chrono::milliseconds(200)});
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("timed out reading the response"), std::string::npos)
      << r.status().message();
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(HttpTransport, RefusedConnectionIsUnavailable) {
  auto r = SendHttp({"POST", *ParseUrl("http://127.0.0.1:1/"), {}, ""}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("connecting to 127.0.0.1:1"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace outpost::agents::grok
