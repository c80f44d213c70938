// Three `outpost serve` replicas on one dynalite table, artifacts on s3rver, behind a real
// HAProxy configured like the runbook's ALB (tests/integration/balancer_fixture.h). Everything a
// client does goes through the balancer: dispatch, SSE following with reconnects that land on
// other replicas, artifacts, cancel, kill -9 of a replica under 20 followers, the runbook's
// Steps 1-3 and `outpost validate`.
//
// OUTPOST_BALANCER_RUNS (default 10) sets the number of runs of the SSE test (make bench: 50).
// OUTPOST_BALANCER_REPLICAS (default 3) sets the number of replicas: 1 proves the harness on a
// single replica, where every request reaches the replica that has the run's events.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/time_util.h"
#include "testing/fake_http_server.h"
#include "tests/integration/balancer_client.h"
#include "tests/integration/balancer_fixture.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

int RunsOfSseTest() {
  const char* v = std::getenv("OUTPOST_BALANCER_RUNS");
  return v && std::atoi(v) > 0 ? std::atoi(v) : 10;
}

// The first events a follower got and from where, for failure messages.
std::string FirstEvents(const Followed& f) {
  std::string out = "first connection to " + (f.backends.empty() ? "-" : f.backends[0]) + ":";
  for (std::size_t i = 0; i < f.events.size() && i < 4; ++i) out += "\n  " + f.events[i].data;
  return out;
}

// Every event once, in order, `end` last; then its stdout equals the output.log artifact.
void ExpectWholeStream(const Followed& f, const std::string& id) {
  EXPECT_EQ(f.Problem(), "") << id;
}
void ExpectOutputLogIsStdout(const std::string& address, const Followed& f, const std::string& id) {
  FetchedLog log = OutputLogVia(address, id);
  EXPECT_EQ(log.error, "") << id;
  EXPECT_EQ(log.body, f.Stdout()) << id;
}

// The fixture itself, against scripted servers (src/testing/fake_http_server.h).
class BalancerFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

// HAProxy cannot bind port 0 and say which port it got: the fixture picks one, and when another
// process holds it (here: a listening socket of this test), starts again on another.
TEST_F(BalancerFixtureTest, APortTakenMeanwhileIsRetriedOnAnother) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse{200, "ok", {}}; });
  int taken = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  ASSERT_EQ(::getsockname(taken, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t port = ntohs(addr.sin_port);
  {
    Balancer lb({{"fake-0", "127.0.0.1:" + std::to_string(server.port())}}, dir_, port);
    EXPECT_NE(lb.address(), "127.0.0.1:" + std::to_string(port));
    EXPECT_EQ(lb.starts(), 2);
    EXPECT_NE(ReadAll(dir_ + "/haproxy.log").find("cannot bind socket"), std::string::npos)
        << ReadAll(dir_ + "/haproxy.log");
    ASSERT_TRUE(lb.WaitAllUp());
    HttpResponse r = Http(lb.address(), "GET", "/x");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Balancer::BackendOf(r), "fake-0");
  }
  ::close(taken);
}

// Health checks on /health/live take a failing server out and bring it back. As behind the ALB,
// a request sent to a server that refuses the connection fails (it is not sent to another), and
// nothing a server received is sent twice. (The stats socket's admin commands stand in for the
// moment between a replica's death and its failed checks.)
TEST_F(BalancerFixtureTest, HealthChecksAndNoRetriesAreTheAlbs) {
  std::atomic<bool> healthy{true};
  FakeHttpServer a([](const FakeRequest&) { return FakeResponse{200, "a", {}}; });
  FakeHttpServer b([&](const FakeRequest& r) {
    if (r.target == "/health/live" && !healthy) return FakeResponse{503, "", {}};
    return FakeResponse{200, "b", {}};
  });
  const std::string dead = "127.0.0.1:" + std::to_string(UnusedPort());
  Balancer lb({{"a", "127.0.0.1:" + std::to_string(a.port())},
               {"b", "127.0.0.1:" + std::to_string(b.port())},
               {"dead", dead}},
              dir_);
  EXPECT_NE(lb.config().find("retries 0"), std::string::npos);
  EXPECT_EQ(lb.config().find("redispatch"), std::string::npos);
  auto posts = [](const FakeHttpServer& s) {
    int n = 0;
    for (const auto& r : s.requests()) n += r.method == "POST";
    return n;
  };
  ASSERT_TRUE(lb.WaitState("dead", "DOWN")) << lb.Command("show stat");
  ASSERT_TRUE(lb.WaitState("a", "UP"));
  // `dead` chosen as if its checks had not found it out yet (checks off, forced up): of 6 POSTs,
  // round-robin sends 2 to it, which fail and are sent nowhere else; a and b get theirs once.
  lb.Command("disable health replicas/dead");
  lb.Command("set server replicas/dead health up");
  ASSERT_TRUE(lb.WaitState("dead", "no check")) << lb.Command("show stat");
  int answered = 0;
  for (int i = 0; i < 6; ++i) {
    HttpResponse r = Http(lb.address(), "POST", "/dispatch", "{}");
    if (r.status == 200) {
      ++answered;
      EXPECT_NE(Balancer::BackendOf(r), "dead");
    } else {
      EXPECT_EQ(r.status, 503) << r.body;
    }
  }
  EXPECT_EQ(answered, 4);
  EXPECT_EQ(posts(a) + posts(b), 4);
  // Checked again, it is out: every request is answered.
  lb.Command("enable health replicas/dead");
  ASSERT_TRUE(lb.WaitState("dead", "DOWN")) << lb.Command("show stat");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Http(lb.address(), "POST", "/dispatch", "{}").status, 200);
  EXPECT_EQ(posts(a) + posts(b), 10);
  ASSERT_TRUE(lb.WaitState("b", "UP"));
  healthy = false;
  ASSERT_TRUE(lb.WaitState("b", "DOWN")) << lb.Command("show stat");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Http(lb.address(), "GET", "/x").body, "a");
  healthy = true;
  ASSERT_TRUE(lb.WaitState("b", "UP")) << lb.Command("show stat");
  // Back in the rotation (a server just back may be chosen several times in a row first).
  std::set<std::string> back;
  for (int i = 0; i < 20 && back.size() < 2; ++i) back.insert(Http(lb.address(), "GET", "/x").body);
  EXPECT_EQ(back, (std::set<std::string>{"a", "b"})) << lb.Command("show stat");
  int checks = 0;
  for (const auto& r : b.requests()) {
    if (r.target != "/health/live") continue;
    ++checks;
    EXPECT_EQ(r.method, "GET");
  }
  EXPECT_GT(checks, 0);
}

int Replicas() {
  const char* v = std::getenv("OUTPOST_BALANCER_REPLICAS");
  return v && std::atoi(v) > 0 ? std::atoi(v) : 3;
}

class BalancerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      ClusterOptions options;
      options.replicas = Replicas();
      cluster_ = std::make_unique<ReplicaCluster>(options);
    } catch (const std::exception& e) {
      FAIL() << "the cluster did not start: " << e.what();
    }
  }
  std::string address() const { return cluster_->address(); }
  std::unique_ptr<ReplicaCluster> cluster_;
};

// The harness itself: round-robin over the three replicas, the backend header, health checks
// that take a killed replica out (after which no request reaches it and none fails).
TEST_F(BalancerTest, RoundRobinsOverHealthyReplicasAndTakesAKilledOneOut) {
  EXPECT_NE(cluster_->balancer().config().find("option httpchk GET /health/live"),
            std::string::npos);
  std::map<std::string, int> hits;
  std::string previous;
  for (int i = 0; i < 9; ++i) {
    HttpResponse r = Http(address(), "GET", "/health/live");
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string backend = Balancer::BackendOf(r);
    EXPECT_NE(backend, previous) << "request " << i;
    ++hits[backend];
    previous = backend;
  }
  ASSERT_EQ(cluster_->size(), 3) << "the harness test needs three replicas";
  EXPECT_EQ(hits,
            (std::map<std::string, int>{{"replica-0", 3}, {"replica-1", 3}, {"replica-2", 3}}));

  cluster_->Kill(1);
  ASSERT_TRUE(cluster_->balancer().WaitState("replica-1", "DOWN", seconds(10)))
      << cluster_->balancer().Command("show stat");
  std::set<std::string> after;
  for (int i = 0; i < 6; ++i) {
    HttpResponse r = Http(address(), "GET", "/health/live");
    ASSERT_EQ(r.status, 200) << r.body;
    after.insert(Balancer::BackendOf(r));
  }
  EXPECT_EQ(after, (std::set<std::string>{"replica-0", "replica-2"}));
  // A run dispatched through the balancer is served by whichever replica answers next.
  Dispatched d = DispatchVia(address(), ShellBody("echo hi"));
  ASSERT_FALSE(d.id.empty()) << d.answer;
  EXPECT_NE(d.backend, "replica-1");
  EXPECT_EQ(Str(WaitTerminalVia(address(), d.id), "status"), "COMPLETED");
}

// (a) Runs dispatched through the balancer, each followed through it from its start (live) with
// a reconnect after every 100 events; each reconnect lands on another replica.
TEST_F(BalancerTest, EveryEventOnceInOrderAcrossReconnectsOnOtherReplicasEqualToOutputLog) {
  const int runs = RunsOfSseTest();
  constexpr int kLines = 400;
  std::set<std::string> owners;
  std::string last_id, last_owner;
  for (int n = 0; n < runs; ++n) {
    // One run at a time, so this test stays the balancer's only client: round-robin then sends
    // every connection to another replica than the one before.
    // Each replica starts some: how many requests a run takes varies (reconnects, polls), so
    // step the round-robin to the replica before the one whose turn it is.
    const int size = cluster_->size();
    const std::string before = ReplicaCluster::Name((n + size - 1) % size);
    for (int k = 0; k < 2 * size; ++k) {
      if (Balancer::BackendOf(Http(address(), "GET", "/health/live")) == before) break;
    }
    Dispatched d = DispatchVia(address(), ShellBody(NumberedLines(kLines, "0.005")));
    ASSERT_FALSE(d.id.empty()) << "dispatch " << n << " " << d.answer;
    EXPECT_EQ(d.backend, ReplicaCluster::Name(n % size));
    owners.insert(d.backend);
    last_id = d.id;
    last_owner = d.backend;
    SCOPED_TRACE(d.id + " started by " + d.backend);
    Followed f = Follow(address(), d.id, 100);
    ExpectWholeStream(f, d.id);
    // A few hundred events (lines written close together may share one), so at least two
    // reconnects; one connection per 100 events, none refused.
    EXPECT_GT(f.events.size(), 200u) << FirstEvents(f);
    EXPECT_EQ(f.backends.size(), (f.events.size() + 99) / 100);
    for (std::size_t i = 0; cluster_->size() > 1 && i < f.backends.size(); ++i) {
      EXPECT_NE(f.backends[i], i == 0 ? d.backend : f.backends[i - 1]) << "connection " << i;
    }
    EXPECT_TRUE(f.failures.empty()) << f.failures.front();
    EXPECT_EQ(f.Stdout(), ExpectedLines(kLines));
    EXPECT_EQ(Str(WaitTerminalVia(address(), d.id), "status"), "COMPLETED");
    ExpectOutputLogIsStdout(address(), f, d.id);
  }
  // Round-robin: every replica started some.
  EXPECT_EQ(owners.size(), static_cast<std::size_t>(std::min(cluster_->size(), runs)));
  // MCP's get_run and get_logs of the last run answer the same on every replica, whichever
  // started it (they read the shared store and event log, like the dashboard's live output,
  // which is the SSE route above).
  for (int i = 0; i < cluster_->size(); ++i) {
    SCOPED_TRACE(cluster_->Name(i) + " (" + last_id + " started by " + last_owner + ")");
    auto call = [&](const std::string& tool, json::object args) {
      json::object req{{"jsonrpc", "2.0"},
                       {"id", 1},
                       {"method", "tools/call"},
                       {"params", json::object{{"name", tool}, {"arguments", std::move(args)}}}};
      HttpResponse r = cluster_->replica(i)->Post("/mcp", json::serialize(req));
      EXPECT_EQ(r.status, 200) << r.body;
      json::value v = r.Json();
      EXPECT_FALSE(v.at("result").at("isError").as_bool()) << r.body;
      return v.at("result").at("structuredContent").as_object();
    };
    EXPECT_EQ(Str(call("get_run", {{"runId", last_id}}), "status"), "COMPLETED");
    json::object logs = call("get_logs", {{"runId", last_id}, {"limit", 1000}});
    std::string stdout_lines;
    for (const json::value& e : logs.at("entries").as_array()) {
      if (Str(e.as_object(), "stream") == "stdout")
        stdout_lines += Str(e.as_object(), "message") + "\n";
    }
    EXPECT_EQ(stdout_lines, ExpectedLines(kLines));
  }
}

// (b) kill -9 of one replica while 20 followers stream through the balancer (each reconnecting
// after every 100 events, and whenever its connection drops): each resumes with Last-Event-ID
// and misses nothing. The killed replica's own runs end FAILED node_lost with
// every event they had reported; the others' runs go on producing output and complete.
TEST_F(BalancerTest, KillingAReplicaUnderTwentyFollowersLosesNoEvent) {
  constexpr int kFollowers = 20;
  constexpr int kLines = 400;
  constexpr int kVictim = 1;
  ASSERT_GT(cluster_->size(), kVictim) << "needs at least two replicas";
  std::vector<Dispatched> runs;
  for (int i = 0; i < kFollowers; ++i) {
    runs.push_back(DispatchVia(address(), ShellBody(NumberedLines(kLines, "0.02"))));
    ASSERT_FALSE(runs.back().id.empty()) << "dispatch " << i << runs.back().answer;
  }
  std::vector<Followed> seen(kFollowers);
  std::vector<std::atomic<std::size_t>> count(kFollowers);
  std::vector<std::size_t> at_kill(kFollowers, 0);
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (int i = 0; i < kFollowers; ++i) {
    threads.emplace_back([&, i] {
      seen[i] = Follow(address(), runs[i].id, 100, seconds(180),
                       [&](const Followed& f) { count[i] = f.events.size(); });
      ++done;
    });
  }
  // Kill once every follower is streaming (has its first events).
  bool streaming = false;
  WaitFor(
      [&] {
        streaming = std::all_of(count.begin(), count.end(), [](const auto& c) { return c >= 20; });
        return streaming || done > 0;  // a stream that ended this early is a failure already
      },
      seconds(60));
  for (int i = 0; i < kFollowers; ++i) at_kill[i] = count[i];
  const std::string killed_at = outpost::FormatTime(std::chrono::system_clock::now());
  cluster_->Kill(kVictim);
  for (auto& t : threads) t.join();
  if (!streaming) {
    for (int i = 0; i < kFollowers; ++i) {
      EXPECT_GE(at_kill[i], 20u) << "follower " << i << " of " << runs[i].id << " (started by "
                                 << runs[i].backend << ") had not streamed before the kill; "
                                 << FirstEvents(seen[i]);
    }
  }

  int lost = 0, completed = 0;
  for (int i = 0; i < kFollowers; ++i) {
    const Dispatched& d = runs[i];
    SCOPED_TRACE(d.id + " started by " + d.backend);
    const Followed& f = seen[i];
    ExpectWholeStream(f, d.id);
    const json::object run = WaitTerminalVia(address(), d.id);
    // On a loaded machine a run of the victim may have finished before the kill (its
    // artifacts then uploaded by a survivor, from the event log): it is COMPLETED, whole.
    const bool ended_before_kill = Str(run, "status") == "COMPLETED" &&
                                   !Str(run, "endedAt").empty() && Str(run, "endedAt") < killed_at;
    if (d.backend == ReplicaCluster::Name(kVictim) && !ended_before_kill) {
      ++lost;
      EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
      EXPECT_EQ(Str(run, "reason"), "node_lost") << json::serialize(run);
      // What it had printed before the kill, in order, nothing after.
      const std::string out = f.Stdout();
      EXPECT_EQ(out, ExpectedLines(static_cast<int>(std::count(out.begin(), out.end(), '\n'))));
    } else {
      ++completed;
      EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
      EXPECT_EQ(f.Stdout(), ExpectedLines(kLines));
      EXPECT_GT(f.events.size(), at_kill[i]) << "no output after the kill";
    }
    ExpectOutputLogIsStdout(address(), f, d.id);
  }
  EXPECT_GT(lost, 0);
  EXPECT_GT(completed, 0);
  EXPECT_EQ(lost + completed, kFollowers);
}

// (c) A run started through one replica, cancelled through the balancer landing on another:
// CANCELLED within 2 s, its whole process tree gone.
TEST_F(BalancerTest, CancelThroughAnotherReplicaStopsTheRunAndItsProcessTree) {
  Dispatched d = DispatchVia(address(), ShellBody("sleep 300 & sleep 300 & echo started; wait"));
  ASSERT_FALSE(d.id.empty()) << d.answer;
  ASSERT_TRUE(WaitFor([&] { return ProcessesOf(d.id) >= 3; }, seconds(30)))
      << json::serialize(RunVia(address(), d.id));
  // Round-robin with this test its only client: after a request answered by the run's replica,
  // the next one goes to another.
  ASSERT_TRUE(WaitFor(
      [&] { return Balancer::BackendOf(Http(address(), "GET", "/health/live")) == d.backend; },
      seconds(5)));
  const auto t0 = Clock::now();
  HttpResponse r =
      Http(address(), "POST", "/runs/" + d.id + "/cancel", R"({"reason":"through the balancer"})",
           {{"Content-Type", "application/json"}});
  EXPECT_TRUE(r.status == 200 || r.status == 202) << r.status << " " << r.body;
  const std::string cancelled_by = Balancer::BackendOf(r);
  EXPECT_NE(cancelled_by, d.backend);
  EXPECT_FALSE(cancelled_by.empty());
  std::string status;
  const bool ended = WaitFor(
      [&] {
        status = Str(RunVia(address(), d.id), "status");
        return status == "CANCELLED" && ProcessesOf(d.id) == 0;
      },
      seconds(2));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  EXPECT_TRUE(ended) << "after " << took << " ms: status " << status << ", " << ProcessesOf(d.id)
                     << " processes (started by " << d.backend << ", cancelled through "
                     << cancelled_by << ")";
  EXPECT_EQ(Str(WaitTerminalVia(address(), d.id), "status"), "CANCELLED");
}

// (d) The runbook's Steps 1-3 (tests/runbook/runbook_test.sh, its endpoint the balancer) and
// `outpost validate` against the balancer.
TEST_F(BalancerTest, RunbookStepsOneToThreeAndValidateThroughTheBalancer) {
  const std::string script = std::string(OUTPOST_SOURCE_DIR) + "/tests/runbook/runbook_test.sh";
  auto [st, out] = RunShell("OUTPOST_RUNBOOK_ENDPOINT=http://" + address() + " bash " + script +
                            " " + OutpostBin() + " 2>&1");
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("== Step 3.3"), std::string::npos) << out;
  EXPECT_NE(out.find(" 0 failed"), std::string::npos) << out;

  CliResult v =
      RunOutpostSh("validate --endpoint http://" + address() + " --poll-interval 100ms --repo " +
                   cluster_->Repo() + " --branch main");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace outpost::testing
