// Three `outpost serve` replicas on one dynalite table: 300 shell runs dispatched round-robin,
// each appending its run id to one shared file; one replica is kill -9'd midway. Every run must
// reach exactly one terminal status, no run id may appear twice in the file (nothing ran twice),
// and every run the killed replica owned ends as documented: its queued runs taken over and
// COMPLETED elsewhere, its started ones FAILED node_lost.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "aws/dynalite_fixture.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

constexpr int kRuns = 300;
constexpr int kReplicas = 3;

TEST(ReplicasOnDynamoDb, ThreeReplicasKillOneEveryRunEndsOnceAndNothingRunsTwice) {
  aws::testing::Dynalite dynalite;
  ASSERT_TRUE(dynalite.ok()) << dynalite.error();
  const std::string root = MakeTempDir();
  const std::string shared = root + "/ran.txt";
  std::ofstream(root + "/outpost.toml") << "[server]\nrunner = \"process\"\nlease_seconds = 6\n"
                                        << "[agents.shell]\nmax_concurrent = 8\n";
  auto start = [&](int i, bool create) {
    const std::string dir = root + "/r" + std::to_string(i);
    fs::create_directories(dir);
    std::vector<std::string> args = {
        "--store", "dynamodb://rep?region=us-east-1&endpoint=" + dynalite.endpoint()};
    if (create) args.push_back("--create-tables");
    return ServerProcess::Start(dir,
                                {{"AWS_ACCESS_KEY_ID", aws::testing::Dynalite::kAccessKey},
                                 {"AWS_SECRET_ACCESS_KEY", aws::testing::Dynalite::kSecretKey},
                                 {"OUTPOST_CONFIG", root + "/outpost.toml"},
                                 {"OUTPOST_REPLICA_ID", "replica-" + std::to_string(i)}},
                                args);
  };
  std::unique_ptr<ServerProcess> replicas[kReplicas];
  replicas[0] = start(0, true);
  for (int i = 1; i < kReplicas; ++i) replicas[i] = start(i, false);

  // Short runs that append their id (one O_APPEND write each). Until the gate file exists none
  // gets past its first line, so when the replica dies it has exactly its 8 (max_concurrent)
  // runs started and the rest of its share queued: both kinds of run it owned are there.
  const std::string gate = root + "/gate";
  const std::string task = "while [ ! -e " + gate + " ]; do sleep 0.05; done; sleep 0.2; echo " +
                           "\"$OUTPOST_RUN_ID\" >> " + shared;
  constexpr int kStartedPerReplica = 8;
  std::map<std::string, int> owner_of;  // run id -> replica index it was dispatched to
  constexpr int kill_after = kRuns / 2;
  int owned_by_killed = 0;
  for (int n = 0; n < kRuns; ++n) {
    const int i = n % kReplicas;
    if (n == kill_after) {
      ASSERT_TRUE(WaitFor(
          [&] {
            int running = 0;
            for (const auto& [id, to] : owner_of) {
              if (to == 1 && Str(replicas[0]->Run(id), "status") == "RUNNING") ++running;
            }
            return running == kStartedPerReplica;
          },
          seconds(60)));
      replicas[1]->Signal(SIGKILL);
      replicas[1]->Wait();
      replicas[1].reset();
      std::ofstream(gate) << "open\n";
    }
    // A load balancer sends the dead replica's share to the next one.
    const int to = replicas[i] ? i : (i + 1) % kReplicas;
    const std::string id = replicas[to]->Dispatch(
        json::serialize(json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", 60}}));
    ASSERT_FALSE(id.empty()) << "dispatch " << n << " to replica " << to;
    owner_of[id] = to;
    if (to == 1) ++owned_by_killed;
  }

  // Every run reaches a terminal status, read through a surviving replica.
  std::map<std::string, json::object> final;
  for (const auto& [id, i] : owner_of) {
    final[id] = replicas[0]->WaitTerminal(id, seconds(180));
    ASSERT_FALSE(Str(final[id], "status").empty()) << id;
  }
  // ... and keeps it: read again after everything settled.
  for (const auto& [id, run] : final) {
    EXPECT_EQ(Str(replicas[2]->Run(id), "status"), Str(run, "status")) << id;
  }

  std::ifstream in(shared);
  std::map<std::string, int> appended;
  for (std::string line; std::getline(in, line);) ++appended[line];
  int completed = 0, node_lost = 0, taken_over = 0;
  for (const auto& [id, run] : final) {
    EXPECT_LE(appended[id], 1) << id << " ran twice";
    const std::string status = Str(run, "status");
    if (status == "COMPLETED") {
      ++completed;
      EXPECT_EQ(appended[id], 1) << id << " COMPLETED without running";
      if (owner_of[id] == 1) ++taken_over;
    } else {
      // Only the killed replica's started runs may end otherwise, and only as node_lost.
      EXPECT_EQ(owner_of[id], 1) << id << " " << json::serialize(run);
      EXPECT_EQ(status, "FAILED") << json::serialize(run);
      EXPECT_EQ(Str(run, "reason"), "node_lost") << json::serialize(run);
      ++node_lost;
    }
  }
  for (const auto& [id, count] : appended) EXPECT_TRUE(owner_of.count(id)) << "unknown id " << id;
  EXPECT_EQ(static_cast<int>(owner_of.size()), kRuns);
  EXPECT_EQ(completed + node_lost, kRuns);
  // The kill mattered: the started ones were lost, every queued one was taken over and ran.
  EXPECT_EQ(node_lost, kStartedPerReplica);
  EXPECT_EQ(taken_over, owned_by_killed - kStartedPerReplica);
  EXPECT_GT(taken_over, 0);
  std::printf(
      "replicas: %zu runs, %d completed (%d taken over from the killed replica), %d node_lost\n",
      owner_of.size(), completed, taken_over, node_lost);

  json::object fleet = replicas[0]->Get("/health/fleet").Json().as_object();
  const json::array& lost = fleet.at("replicas").at("lost").as_array();
  ASSERT_EQ(lost.size(), 1u) << json::serialize(fleet);
  EXPECT_EQ(Str(lost[0].as_object(), "replicaId"), "replica-1");

  for (auto& r : replicas) r.reset();
  for (int i = 0; i < kReplicas; ++i) KillRunsUnder(root + "/r" + std::to_string(i));
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace outpost::testing
