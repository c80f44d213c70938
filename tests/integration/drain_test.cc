// SIGTERM drain (README "Draining a replica"): two `outpost serve` replicas on one SQLite store.
// The terminated replica answers /health/ready 503 "draining" at once, releases its queued runs
// (the other replica runs them well before the lease would have let it), lets its running run
// end COMPLETED, and exits 0.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/integration/server_fixture.h"
#include "tests/integration/sse_client.h"

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

constexpr int kLeaseSeconds = 15;

class DrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    std::ofstream(root_ + "/outpost.toml") << "[server]\nrunner = \"process\"\n"
                                           << "lease_seconds = " << kLeaseSeconds << "\n"
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
                                 {"OUTPOST_REPLICA_ID", "replica-" + name},
                                 {"OUTPOST_DRAIN_SECONDS", "60"}});
  }
  static json::object Fleet(const ServerProcess& s) {
    return s.Get("/health/fleet").Json().as_object();
  }
  // The replica `id` in /health/fleet's capacity.replicas.
  static json::object ReplicaIn(const json::object& fleet, const std::string& id) {
    for (const auto& r : fleet.at("capacity").at("replicas").as_array()) {
      if (Str(r.as_object(), "replicaId") == id) return r.as_object();
    }
    return {};
  }

  std::string root_;
  std::unique_ptr<ServerProcess> replicas_[2];
};

TEST_F(DrainTest, SigtermReleasesTheQueueFinishesTheRunningRunAndExitsZero) {
  auto& a = replicas_[0];
  auto& b = replicas_[1];
  a = StartReplica("a");
  b = StartReplica("b");
  auto sees_both = [](const ServerProcess& s) {
    return Fleet(s).at("capacity").at("replicas").as_array().size() == 2;
  };
  ASSERT_TRUE(WaitFor([&] { return sees_both(*a) && sees_both(*b); }, seconds(kLeaseSeconds)))
      << json::serialize(Fleet(*a));
  ASSERT_EQ(a->Get("/health/ready").status, 200);

  // On A: one run started (one shell run at a time per replica), one queued behind it.
  const std::string running =
      a->Dispatch(R"({"agent":"shell","task":"echo started; sleep 4; echo finished"})");
  ASSERT_TRUE(WaitFor([&] { return Str(a->Run(running), "phase") == "running"; }, seconds(30)));
  const std::string queued = a->Dispatch(R"({"agent":"shell","task":"echo released"})");
  ASSERT_EQ(Str(a->Run(queued), "status"), "PENDING");

  const auto t0 = std::chrono::steady_clock::now();
  a->Signal(SIGTERM);
  // At once: not ready (the balancer routes elsewhere), still alive, still answering.
  HttpResponse ready;
  ASSERT_TRUE(WaitFor(
      [&] {
        ready = a->Get("/health/ready");
        return ready.status == 503;
      },
      seconds(3)));
  EXPECT_EQ(Str(ready.Json().as_object(), "status"), "draining") << ready.body;
  EXPECT_EQ(a->Get("/health/live").status, 200);
  EXPECT_EQ(Str(a->Run(running), "status"), "RUNNING");  // the drain is still on
  // Its own /health/fleet says so, and counts it out of the fleet's capacity to take work.
  json::object own = Fleet(*a);
  EXPECT_EQ(Str(ReplicaIn(own, "replica-a"), "state"), "draining") << json::serialize(own);
  EXPECT_TRUE(ReplicaIn(own, "replica-a").at("draining").as_bool());
  EXPECT_EQ(own.at("capacity").at("maxConcurrent").as_int64(),
            own.at("capacity").at("thisReplica").at("maxConcurrent").as_int64());  // B's only

  // B runs A's queued run promptly: not a lease later.
  json::object released = b->WaitTerminal(queued, seconds(kLeaseSeconds));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(Str(released, "status"), "COMPLETED") << json::serialize(released);
  EXPECT_EQ(ReadAll(root_ + "/b/runs/" + queued + "/stdout.log"), "released\n");
  EXPECT_FALSE(fs::exists(root_ + "/a/runs/" + queued));
  RecordProperty("queued_run_done_after_sigterm_s", std::to_string(took));
  std::printf(
      "queued run of the draining replica completed on the other %.2f s after SIGTERM "
      "(lease %d s)\n",
      took, kLeaseSeconds);
  EXPECT_LT(took, kLeaseSeconds / 3.0);

  // A dispatch the balancer still sends to A is accepted (it only writes PENDING) and run by B.
  const std::string late = a->Dispatch(R"({"agent":"shell","task":"echo late"})");
  ASSERT_FALSE(late.empty());
  EXPECT_EQ(Str(b->WaitTerminal(late, seconds(kLeaseSeconds / 3)), "status"), "COMPLETED");
  EXPECT_FALSE(fs::exists(root_ + "/a/runs/" + late));

  // A's running run ends normally, on A, within the drain period; then A exits 0.
  json::object done = b->WaitTerminal(running, seconds(30));
  EXPECT_EQ(Str(done, "status"), "COMPLETED") << json::serialize(done);
  EXPECT_EQ(ReadAll(root_ + "/a/runs/" + running + "/stdout.log"), "started\nfinished\n");
  EXPECT_EQ(a->Wait(seconds(30)), 0);
  a.reset();
  // Its artifacts were uploaded before A exited (its files are on A's machine).
  json::object after = b->Run(running);
  EXPECT_EQ(Str(after, "artifactsStatus"), "stored") << json::serialize(after);

  // B sees that A left (not lost) at its next read of the records (every lease/3).
  json::object gone;
  EXPECT_TRUE(WaitFor(
      [&] {
        gone = ReplicaIn(Fleet(*b), "replica-a");
        return !gone.empty() && Str(gone, "state") == "left";
      },
      seconds(kLeaseSeconds / 2)))
      << json::serialize(gone);
  EXPECT_FALSE(gone.contains("live") && gone.at("live").as_bool());
}

// /health/fleet's capacity is fleet-wide: every live replica's runs and room, on any replica.
TEST_F(DrainTest, FleetCapacitySumsEveryLiveReplica) {
  auto& a = replicas_[0];
  auto& b = replicas_[1];
  a = StartReplica("a");
  b = StartReplica("b");
  const std::string on_a = a->Dispatch(R"({"agent":"shell","task":"sleep 60"})");
  const std::string on_b = b->Dispatch(R"({"agent":"shell","task":"sleep 60"})");
  ASSERT_TRUE(WaitFor([&] { return Str(a->Run(on_a), "phase") == "running"; }, seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return Str(b->Run(on_b), "phase") == "running"; }, seconds(30)));
  // The other's count arrives with its next heartbeat (every lease/3).
  json::object fleet;
  ASSERT_TRUE(WaitFor(
      [&] {
        fleet = Fleet(*b);
        return fleet.at("capacity").at("running").as_int64() == 2;
      },
      seconds(kLeaseSeconds)))
      << json::serialize(fleet);
  const json::object& cap = fleet.at("capacity").as_object();
  EXPECT_EQ(Str(cap, "scope"), "fleet");
  const std::int64_t per_replica = cap.at("thisReplica").at("maxConcurrent").as_int64();
  EXPECT_EQ(cap.at("maxConcurrent").as_int64(), 2 * per_replica);
  EXPECT_EQ(cap.at("available").as_int64(), 2 * per_replica - 2);
  EXPECT_EQ(cap.at("thisReplica").at("running").as_int64(), 1);  // B's own
  EXPECT_EQ(cap.at("replicas").as_array().size(), 2u);
  for (const std::string id : {"replica-a", "replica-b"}) {
    json::object r = ReplicaIn(fleet, id);
    EXPECT_EQ(Str(r, "state"), "serving") << id;
    EXPECT_EQ(r.at("running").as_int64(), 1) << id;
    EXPECT_EQ(r.at("capacity").as_int64(), per_replica) << id;
    EXPECT_TRUE(r.at("live").as_bool()) << id;
    EXPECT_FALSE(r.at("draining").as_bool()) << id;
    EXPECT_FALSE(Str(r, "address").empty()) << id;
    EXPECT_FALSE(Str(r, "version").empty()) << id;
  }
}

// A run still running when drain_seconds are over stays leased to this replica id: its shim
// goes on, followers' streams are closed (they reconnect elsewhere with Last-Event-ID), the
// process exits 0, and a replica of the same id (an in-place upgrade) re-adopts the run.
TEST_F(DrainTest, ARunOutlastingTheDrainStaysLeasedAndItsFollowersAreDisconnected) {
  auto& a = replicas_[0];
  fs::create_directories(root_ + "/a");
  a = ServerProcess::Start(root_ + "/a", {{"OUTPOST_CONFIG", root_ + "/outpost.toml"},
                                          {"OUTPOST_STORE", "sqlite://" + root_ + "/shared.db"},
                                          {"OUTPOST_REPLICA_ID", "replica-a"},
                                          {"OUTPOST_DRAIN_SECONDS", "2"}});
  const std::string id =
      a->Dispatch(R"({"agent":"shell","task":"echo begun; sleep 6; echo finished"})");
  ASSERT_TRUE(WaitFor([&] { return Str(a->Run(id), "phase") == "running"; }, seconds(30)));
  SseClient follower(a->address(), "/runs/" + id + "/events");
  ASSERT_EQ(follower.ReadHeader(), 200);
  std::int64_t last = 0;
  bool got_end = false;
  const auto t0 = std::chrono::steady_clock::now();
  a->Signal(SIGTERM);
  // The stream is closed by the server (no `end`: the run goes on), after the 2 s drain.
  EXPECT_TRUE(follower.Read(
      [&](const SseMessage& m) {
        if (m.id > 0) last = m.id;
        got_end = got_end || m.event == "end";
        return true;
      },
      seconds(20)));
  EXPECT_FALSE(got_end);
  EXPECT_GT(last, 0);
  EXPECT_EQ(a->Wait(seconds(20)), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, seconds(2));
  a.reset();
  // Started again under the same id: the run was never lost, and ends COMPLETED here.
  a = StartReplica("a");
  json::object done = a->WaitTerminal(id, seconds(30));
  EXPECT_EQ(Str(done, "status"), "COMPLETED") << json::serialize(done);
  EXPECT_EQ(ReadAll(root_ + "/a/runs/" + id + "/stdout.log"), "begun\nfinished\n");
  // A follower resuming with Last-Event-ID gets the rest, `end` last.
  SseClient resumed(a->address(), "/runs/" + id + "/events", last);
  ASSERT_EQ(resumed.ReadHeader(), 200);
  std::string last_event;
  EXPECT_TRUE(resumed.Read([&](const SseMessage& m) {
    EXPECT_GT(m.id, last);
    last_event = m.event;
    return true;
  }));
  EXPECT_EQ(last_event, "end");
}

TEST_F(DrainTest, ASecondSigtermStopsAtOnce) {
  auto& a = replicas_[0];
  a = StartReplica("a");
  const std::string running = a->Dispatch(R"({"agent":"shell","task":"sleep 120"})");
  ASSERT_TRUE(WaitFor([&] { return Str(a->Run(running), "phase") == "running"; }, seconds(30)));
  a->Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return a->Get("/health/ready").status == 503; }, seconds(3)));
  const auto t0 = std::chrono::steady_clock::now();
  a->Signal(SIGTERM);
  EXPECT_EQ(a->Wait(seconds(10)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));  // not the 60 s drain
  a.reset();
  // The run goes on under its shim; a replica of the same id re-adopts it.
  a = StartReplica("a");
  EXPECT_EQ(Str(a->Run(running), "status"), "RUNNING");
  EXPECT_EQ(a->Get("/health/ready").status, 200);
}

}  // namespace
}  // namespace outpost::testing
