// A real `outpost serve --store dynamodb://...` on a real dynalite: a missing table stops the
// start, --create-tables creates them, shell runs complete, idempotent dispatch and paged listing
// work, a run survives a kill -9 of the server and is finished after the restart, and a server
// with an empty data dir serves the same runs: the state lives in DynamoDB, not in the data dir.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "aws/dynalite_fixture.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

std::string ShellBody(const std::string& task, const std::string& key = "") {
  json::object body{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", 60}};
  if (!key.empty()) body["idempotencyKey"] = key;
  return json::serialize(body);
}

// A TCP forwarder that holds every chunk a client sends for `delay` before passing it on: a
// store that answers each request `delay` late.
class DelayProxy {
 public:
  DelayProxy(int upstream_port, std::chrono::milliseconds delay)
      : upstream_port_(upstream_port), delay_(delay) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("DelayProxy: cannot listen");
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~DelayProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : pumps_) t.join();
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void Accept() {
    while (!stopping_) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(client);
        ::close(upstream);
        continue;
      }
      std::lock_guard lock(mu_);
      fds_.push_back(client);
      fds_.push_back(upstream);
      pumps_.emplace_back([this, client, upstream] { Pump(client, upstream, delay_); });
      pumps_.emplace_back([this, client, upstream] { Pump(upstream, client, {}); });
    }
  }
  static void Pump(int from, int to, std::chrono::milliseconds delay) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(from, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      if (::send(to, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(to, SHUT_WR);
  }

  int upstream_port_;
  std::chrono::milliseconds delay_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;            // guarded by mu_
  std::vector<std::thread> pumps_;  // guarded by mu_ (joined after the acceptor ended)
};

class DynamoDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dynalite_.ok()) << dynalite_.error();
    dirs_ = {MakeTempDir(), MakeTempDir()};
  }
  void TearDown() override {
    server_.reset();
    for (const auto& d : dirs_) {
      KillRunsUnder(d);
      fs::remove_all(d);
    }
  }

  std::unique_ptr<ServerProcess> Start(const std::string& dir, bool create_tables,
                                       const std::string& endpoint = "") {
    std::vector<std::string> args = {"--runner", "process", "--store",
                                     "dynamodb://it?region=us-east-1&endpoint=" +
                                         (endpoint.empty() ? dynalite_.endpoint() : endpoint)};
    if (create_tables) args.push_back("--create-tables");
    return ServerProcess::Start(dir,
                                {{"AWS_ACCESS_KEY_ID", aws::testing::Dynalite::kAccessKey},
                                 {"AWS_SECRET_ACCESS_KEY", aws::testing::Dynalite::kSecretKey}},
                                args);
  }

  // Every run id of GET /runs?<query>, page by page through the cursors.
  std::vector<std::string> ListAll(const std::string& query) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int pages = 0; pages < 50; ++pages) {
      HttpResponse r = server_->Get("/runs?" + query + (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      const json::value body = r.Json();
      const json::object& data = body.at("data").as_object();
      for (const auto& item : data.at("items").as_array())
        ids.push_back(Str(item.as_object(), "runId"));
      if (!data.at("hasMore").as_bool()) break;
      cursor = std::string(data.at("nextCursor").as_string());
    }
    return ids;
  }

  aws::testing::Dynalite dynalite_;
  std::vector<std::string> dirs_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DynamoDbStoreTest, RunsLiveInDynamoDbAcrossRestarts) {
  // Without --create-tables the missing tables stop the start (the reason goes to stderr).
  EXPECT_THROW(Start(dirs_[0], false), std::runtime_error);

  server_ = Start(dirs_[0], true);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(server_->Dispatch(ShellBody("echo run-" + std::to_string(i))));
    ASSERT_FALSE(ids.back().empty());
  }
  for (const auto& id : ids) {
    EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED") << id;
  }
  // The same idempotency key and body: the same run.
  const std::string keyed = server_->Dispatch(ShellBody("echo keyed", "key-1"));
  ASSERT_FALSE(keyed.empty());
  HttpResponse again = server_->Post("/dispatch", ShellBody("echo keyed", "key-1"));
  EXPECT_EQ(Str(again.Json().at("data").as_object(), "runId"), keyed) << again.body;
  HttpResponse other = server_->Post("/dispatch", ShellBody("echo other", "key-1"));
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(Str(server_->WaitTerminal(keyed), "status"), "COMPLETED");
  ids.push_back(keyed);
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(ListAll("limit=2"), newest_first);
  EXPECT_EQ(ListAll("limit=3&status=COMPLETED&agent=shell"), newest_first);
  EXPECT_FALSE(fs::exists(dirs_[0] + "/outpost.db")) << "no SQLite store beside DynamoDB";

  // A run in flight when the server is killed is finished by the restarted one.
  const std::string slow = server_->Dispatch(ShellBody("sleep 2; echo slow"));
  ASSERT_FALSE(slow.empty());
  ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(slow), "status") == "RUNNING"; },
                      std::chrono::seconds(30)));
  server_->Signal(SIGKILL);
  server_->Wait();
  server_ = Start(dirs_[0], false);  // the tables exist now: no flag needed
  EXPECT_EQ(Str(server_->WaitTerminal(slow), "status"), "COMPLETED");
  newest_first.insert(newest_first.begin(), slow);
  EXPECT_EQ(ListAll("limit=4"), newest_first);

  // Another server with an empty data dir sees every run: they are in DynamoDB.
  server_.reset();
  server_ = Start(dirs_[1], false);
  EXPECT_EQ(ListAll("limit=100"), newest_first);
  json::object run = server_->Run(ids[0]);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(Str(run, "task"), "echo run-0");
  HttpResponse health = server_->Get("/health/ready");
  EXPECT_EQ(health.status, 200) << health.body;
  // The run store's DynamoDB calls are counted, by operation, on /metrics.
  HttpResponse metrics = server_->Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("outpost_dynamodb_calls_total{operation=\"Query\"} "),
            std::string::npos)
      << metrics.body;
}

// Issue 22 item 3: a store that answers every call 200 ms late stalls no HTTP io thread: while
// eight clients keep the handlers waiting on it, /health/live answers as fast as ever.
TEST_F(DynamoDbStoreTest, ASlowStoreDoesNotStallTheLiveProbe) {
  server_ = Start(dirs_[0], true);
  const std::string id = server_->Dispatch(ShellBody("true"));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  server_.reset();
  const std::string ep = dynalite_.endpoint();
  DelayProxy slow(std::stoi(ep.substr(ep.rfind(':') + 1)), std::chrono::milliseconds(200));
  server_ = Start(dirs_[0], false, slow.endpoint());
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::atomic<bool> done{false};
  std::mutex mu;
  std::vector<long> gets;  // GET /runs/{id} latencies: the store's 200 ms, really there
  std::vector<std::thread> load;
  for (int i = 0; i < 8; ++i) {
    load.emplace_back([&] {
      while (!done) {
        const auto t0 = Clock::now();
        const int status = server_->Get("/runs/" + id).status;
        std::lock_guard lock(mu);
        gets.push_back(status == 200 ? ms(Clock::now() - t0) : -1);
      }
    });
  }
  std::vector<long> live;
  for (int i = 0; i < 40; ++i) {
    const auto t0 = Clock::now();
    EXPECT_EQ(server_->Get("/health/live").status, 200);
    live.push_back(ms(Clock::now() - t0));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  done = true;
  for (auto& t : load) t.join();
  std::sort(live.begin(), live.end());
  std::sort(gets.begin(), gets.end());
  ASSERT_GE(gets.size(), 16u);
  EXPECT_GE(gets.front(), 0) << "a GET failed";
  EXPECT_GE(gets[gets.size() / 2], 200) << "the store was not slow: the test proves nothing";
  // Without the handler pool the 2 io threads wait on the store: the probe takes >= 200 ms.
  const long p99 = live[live.size() * 99 / 100];
  std::printf("live p50 %ld ms, p99 %ld ms; GET /runs/{id} p50 %ld ms (%zu calls)\n",
              live[live.size() / 2], p99, gets[gets.size() / 2], gets.size());
  EXPECT_LT(p99, 150) << "the live probe waited on the store";
}

}  // namespace
}  // namespace outpost::testing
