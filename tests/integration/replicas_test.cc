// Several `outpost serve` replicas sharing one run store (here one SQLite file on this machine;
// the DynamoDB store gives the same across machines). Each announces itself with a heartbeat;
// a run belongs to the replica it was dispatched to. When a replica is killed: its queued runs
// are taken over by another replica and run exactly once, its started runs end FAILED
// node_lost, and when it comes back it stops the shims of those runs.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    std::ofstream(root_ + "/outpost.toml") << "[server]\nrunner = \"process\"\n"
                                           << "lease_seconds = 3\n"
                                           << "cancel_grace_seconds = 1\n"
                                           << "[agents.shell]\nmax_concurrent = 1\n";
  }
  void TearDown() override {
    for (auto& r : replicas_) r.reset();
    for (const char* name : {"a", "b"}) KillRunsUnder(root_ + "/" + name);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::unique_ptr<ServerProcess> StartReplica(const std::string& name) {
    fs::create_directories(root_ + "/" + name);
    return ServerProcess::Start(root_ + "/" + name,
                                {{"OUTPOST_CONFIG", root_ + "/outpost.toml"},
                                 {"OUTPOST_STORE", "sqlite://" + root_ + "/shared.db"},
                                 {"OUTPOST_REPLICA_ID", "replica-" + name}});
  }
  static json::object Fleet(const ServerProcess& s) {
    return s.Get("/health/fleet").Json().as_object();
  }
  static std::vector<std::string> ReplicaIds(const json::object& fleet, const char* which) {
    std::vector<std::string> ids;
    for (const auto& r : fleet.at("replicas").at(which).as_array()) {
      ids.push_back(Str(r.as_object(), "replicaId"));
    }
    return ids;
  }

  std::string root_;
  std::unique_ptr<ServerProcess> replicas_[2];
};

TEST_F(ReplicasTest, ALostReplicasQueuedRunsAreTakenOverOnceAndItsStartedRunsEndNodeLost) {
  auto& a = replicas_[0];
  auto& b = replicas_[1];
  a = StartReplica("a");
  b = StartReplica("b");
  ASSERT_TRUE(WaitFor([&] { return ReplicaIds(Fleet(*b), "live").size() == 2; }, seconds(10)))
      << json::serialize(Fleet(*b));

  // A run dispatched to B stays B's: A never starts it while B lives.
  const std::string on_b = b->Dispatch(R"({"agent":"shell","task":"echo on-b"})");
  json::object done_b = b->WaitTerminal(on_b);
  EXPECT_EQ(Str(done_b, "status"), "COMPLETED");
  EXPECT_TRUE(fs::exists(root_ + "/b/runs/" + on_b));
  EXPECT_FALSE(fs::exists(root_ + "/a/runs/" + on_b));

  // On A: one run started (shell admits one at a time per replica), one queued behind it.
  const std::string started = a->Dispatch(R"({"agent":"shell","task":"echo started; sleep 120"})");
  ASSERT_TRUE(WaitFor([&] { return Str(a->Run(started), "phase") == "running"; }, seconds(30)));
  const std::string queued = a->Dispatch(R"({"agent":"shell","task":"echo taken-over"})");
  EXPECT_EQ(Str(a->Run(queued), "status"), "PENDING");

  a->Signal(SIGKILL);
  a->Wait();
  a.reset();

  // Within a few leases: B fails the started run (node_lost) and runs the queued one itself.
  json::object lost = b->WaitTerminal(started, seconds(30));
  EXPECT_EQ(Str(lost, "status"), "FAILED");
  EXPECT_EQ(Str(lost, "reason"), "node_lost") << json::serialize(lost);
  json::object taken = b->WaitTerminal(queued, seconds(30));
  EXPECT_EQ(Str(taken, "status"), "COMPLETED") << json::serialize(taken);
  EXPECT_EQ(ReadAll(root_ + "/b/runs/" + queued + "/stdout.log"), "taken-over\n");
  EXPECT_FALSE(fs::exists(root_ + "/a/runs/" + queued));  // exactly once: only B ran it
  json::object fleet = Fleet(*b);
  EXPECT_EQ(ReplicaIds(fleet, "lost"), std::vector<std::string>{"replica-a"});
  EXPECT_EQ(ReplicaIds(fleet, "live"), std::vector<std::string>{"replica-b"});
  EXPECT_EQ(fleet.at("replicas").at("nodeLostRuns").as_int64(), 1);
  EXPECT_EQ(fleet.at("replicas").at("takenOver").as_int64(), 1);

  // A's shim of the started run is still alive on this machine: when A comes back, the run's
  // status can no longer change, so A stops it.
  EXPECT_GT(ProcessesOf(started), 0);
  a = StartReplica("a");
  EXPECT_TRUE(WaitFor([&] { return ProcessesOf(started) == 0; }, seconds(30)));
  EXPECT_EQ(Str(a->Run(started), "reason"), "node_lost");  // unchanged
  EXPECT_TRUE(WaitFor([&] { return ReplicaIds(Fleet(*b), "live").size() == 2; }, seconds(10)));
}

// Issue 24 item 2: two replicas on wildcard listeners without public_url, sharing the store,
// the artifacts directory and OUTPOST_ARTIFACT_URL_KEY. An artifact URL is based on the
// request's Host when it is an allowed name (else on 127.0.0.1, never 0.0.0.0), and a URL one
// replica signed is served by the other.
TEST_F(ReplicasTest, ArtifactUrlsUseTheRequestsAllowedHostAndWorkOnEveryReplica) {
  auto start = [&](const std::string& name) {
    fs::create_directories(root_ + "/" + name);
    return ServerProcess::Start(root_ + "/" + name,
                                {{"OUTPOST_CONFIG", root_ + "/outpost.toml"},
                                 {"OUTPOST_STORE", "sqlite://" + root_ + "/shared.db"},
                                 {"OUTPOST_REPLICA_ID", "replica-" + name},
                                 {"OUTPOST_ARTIFACTS", root_ + "/artifacts"},
                                 {"OUTPOST_ARTIFACT_URL_KEY", std::string(40, 'k')},
                                 {"OUTPOST_ALLOWED_HOSTS", "outpost.test"},
                                 {"OUTPOST_INSECURE", "1"}},
                                {"--listen", "0.0.0.0:0"});
  };
  replicas_[0] = start("a");
  replicas_[1] = start("b");
  const std::string port_a = replicas_[0]->address().substr(replicas_[0]->address().rfind(':') + 1);
  const std::string port_b = replicas_[1]->address().substr(replicas_[1]->address().rfind(':') + 1);
  const std::string local_a = "127.0.0.1:" + port_a, local_b = "127.0.0.1:" + port_b;
  // Open mode answers only its names: the requests name 127.0.0.1 (0.0.0.0 is none).
  auto get = [](const std::string& at, const std::string& path, const std::string& host) {
    return Http(at, "GET", path, "", {{"Host", host}});
  };
  HttpResponse d = Http(local_a, "POST", "/dispatch", R"({"agent":"shell","task":"echo shared"})",
                        {{"Host", local_a}, {"Content-Type", "application/json"}});
  ASSERT_EQ(d.status, 201) << d.body;
  const std::string id(d.Json().at("data").at("runId").as_string());
  ASSERT_TRUE(WaitFor(
      [&] {
        HttpResponse r = get(local_a, "/runs/" + id, local_a);
        return r.status == 200 &&
               Str(r.Json().at("data").as_object(), "artifactsStatus") == "stored";
      },
      seconds(60)));

  auto output_url = [&](const std::string& at, const std::string& host) {
    HttpResponse r = get(at, "/runs/" + id + "/artifacts", host);
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value body = r.Json();
    for (const auto& a : body.at("data").at("artifacts").as_array()) {
      if (Str(a.as_object(), "name") == "output.log") return Str(a.as_object(), "url");
    }
    ADD_FAILURE() << "no output.log in " << r.body;
    return std::string();
  };
  // The request's own allowed name, with its port.
  const std::string named = output_url(local_a, "outpost.test:" + port_a);
  EXPECT_TRUE(named.starts_with("http://outpost.test:" + port_a + "/files/")) << named;
  // 127.0.0.1 (the listener's loopback name) is allowed too; nothing is ever 0.0.0.0.
  const std::string local = output_url(local_a, local_a);
  EXPECT_TRUE(local.starts_with("http://" + local_a + "/files/")) << local;
  EXPECT_EQ(named.find("0.0.0.0"), std::string::npos);

  // The URL A signed, asked of B: the same bytes (shared key, shared artifacts).
  const std::string target = local.substr(local.find("/files/"));
  HttpResponse on_b = get(local_b, target, local_b);
  ASSERT_EQ(on_b.status, 200) << on_b.body;
  EXPECT_EQ(on_b.body, "shared\n");
  // Altered, it is refused there too.
  HttpResponse forged = get(
      local_b, target.substr(0, target.size() - 1) + (target.back() == '0' ? "1" : "0"), local_b);
  EXPECT_EQ(forged.status, 403) << forged.body;

  // A shared key too short to be one is refused at start, naming the variable.
  fs::create_directories(root_ + "/c");
  CliResult bad = RunOutpost({"serve", "--listen", "127.0.0.1:0", "--data-dir", root_ + "/c"},
                             {{"OUTPOST_ARTIFACT_URL_KEY", "short"}});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("OUTPOST_ARTIFACT_URL_KEY must be at least 32 characters"),
            std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace outpost::testing
