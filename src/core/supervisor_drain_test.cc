// The SIGTERM drain (supervisor_drain.cc) on the simulated clock: two replicas on one SQLite
// store, a FakeRunner for the shims, Tick() called by the test.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/ids.h"
#include "core/fake_runner_for_test.h"
#include "core/supervisor.h"
#include "store/sqlite/sqlite_run_store.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SupervisorDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("drain-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_ + "/runs");
    auto s = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    opts_ = DefaultOptions();
    opts_.data_dir = root_;
    opts_.runner = RunnerKind::kProcess;
    opts_.max_concurrent_runs = 16;
    opts_.lease_seconds = 15;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<Supervisor> Make(std::string replica) {
    Options& opts = *options_.emplace_back(std::make_unique<Options>(opts_));
    opts.replica_id = std::move(replica);
    registries_.push_back(std::make_unique<AgentRegistry>(opts));
    auto s = std::make_unique<Supervisor>(*store_, runner_, *registries_.back(), clock_, opts);
    Status st = s->Recover();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  // A dispatched run, as RunService creates it: PENDING, queued at `owner`.
  RunId Queue(std::string owner) {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(1ms);
    r.agent = "shell";
    r.model_id = "shell";
    r.task = "echo hi";
    r.timeout_seconds = 300;
    r.inactivity_timeout_seconds = 60;
    r.created_at = clock_.Now();
    r.owner = std::move(owner);
    auto c = store_->Create(r);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return r.id;
  }
  outpost::Run Get(const RunId& id) {
    auto r = store_->Get(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : outpost::Run{};
  }
  ExitRecord Exited(int code) {
    ExitRecord rec;
    rec.outcome = ExitOutcome::kExited;
    rec.exit_code = code;
    rec.started_at = clock_.Now() - 2s;
    rec.ended_at = clock_.Now();
    return rec;
  }
  ReplicaInfo RecordOf(const std::string& id) {
    auto all = store_->ListReplicas();
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    for (const ReplicaInfo& r : all.ok() ? *all : std::vector<ReplicaInfo>{}) {
      if (r.id == id) return r;
    }
    ADD_FAILURE() << "no record of " << id;
    return {};
  }

  std::string root_;
  SimulatedClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<SqliteRunStore> store_;
  Options opts_;
  std::vector<std::unique_ptr<Options>> options_;
  std::vector<std::unique_ptr<AgentRegistry>> registries_;
  FakeRunner runner_;
};

TEST_F(SupervisorDrainTest, QueuedRunsAreReleasedAtOnceAndRunningOnesEndHereNormally) {
  auto a = Make("replica-a");
  auto b = Make("replica-b");
  RunId running = Queue("replica-a");
  a->Tick();
  ASSERT_EQ(Get(running).status, RunStatus::kRunning);
  RunId queued = Queue("replica-a");

  a->BeginDrain();
  EXPECT_TRUE(a->Draining());
  EXPECT_FALSE(a->DrainRemaining());            // no drain pass yet: not known to be drained
  EXPECT_TRUE(RecordOf("replica-a").draining);  // said at once, not at the next heartbeat
  a->Tick();
  EXPECT_EQ(Get(queued).status, RunStatus::kPending);  // not admitted here...
  EXPECT_EQ(Get(queued).owner, "");                    // ...but anyone's
  EXPECT_EQ(a->DrainRemaining(), 1);
  // A dispatch answered by the draining replica is released on its next pass.
  RunId late = Queue("replica-a");
  a->Tick();
  EXPECT_EQ(Get(late).owner, "");
  EXPECT_EQ(Get(late).status, RunStatus::kPending);

  // The other replica admits both at once: well within replica-a's lease, no takeover.
  b->Tick();
  EXPECT_EQ(Get(queued).status, RunStatus::kRunning);
  EXPECT_EQ(Get(queued).owner, "replica-b");
  EXPECT_EQ(Get(late).owner, "replica-b");
  EXPECT_EQ(b->Snapshot().taken_over, 0);

  // The local run goes on under replica-a, and ends there as it would have.
  EXPECT_EQ(Get(running).owner, "replica-a");
  runner_.Exit(running.str(), Exited(0));
  a->Tick();
  EXPECT_EQ(Get(running).status, RunStatus::kCompleted);
  EXPECT_EQ(a->DrainRemaining(), 0);
}

TEST_F(SupervisorDrainTest, ADrainingReplicasLeftoverQueueIsTakenOverWithoutWaitingForTheLease) {
  auto a = Make("replica-a");
  a->BeginDrain();
  a->Tick();
  // Dispatched to replica-a after its last pass (it stops without another one).
  RunId queued = Queue("replica-a");
  auto b = Make("replica-b");  // reads replica-a's "draining" record
  b->Tick();
  EXPECT_EQ(Get(queued).status, RunStatus::kRunning);
  EXPECT_EQ(Get(queued).owner, "replica-b");
  EXPECT_EQ(b->Snapshot().taken_over, 1);
}

TEST_F(SupervisorDrainTest, AReplicaThatLeftKeepsItsRunningRunsLeasedUntilTheLeasePasses) {
  auto a = Make("replica-a");
  RunId running = Queue("replica-a");
  a->Tick();
  a->BeginDrain();
  a->Tick();
  a->Stop();
  a->Leave();
  EXPECT_TRUE(RecordOf("replica-a").left);
  auto b = Make("replica-b");
  b->Tick();
  bool saw_a = false;
  for (const ReplicaView& v : b->Snapshot().replicas) {
    if (v.info.id != "replica-a") continue;
    saw_a = true;
    EXPECT_FALSE(v.live);  // it left: not counted as live capacity
    EXPECT_TRUE(v.info.left);
  }
  EXPECT_TRUE(saw_a);
  // Its shim runs on on replica-a's machine: a replica of the same id would re-adopt it.
  clock_.Advance(10s);
  b->Tick();
  EXPECT_EQ(Get(running).status, RunStatus::kRunning);
  for (int pass = 0; pass < 8; ++pass) {  // past the 15 s lease: as for any lost replica
    clock_.Advance(1s);
    b->Tick();
  }
  EXPECT_EQ(Get(running).status, RunStatus::kFailed);
  EXPECT_EQ(Get(running).reason, std::string(reason::kNodeLost));
}

TEST_F(SupervisorDrainTest, ARestartUnderTheSameIdServesAgainAndReadoptsItsRuns) {
  auto a = Make("replica-a");
  RunId running = Queue("replica-a");
  a->Tick();
  a->BeginDrain();
  a->Tick();
  a->Stop();
  a->Leave();
  a.reset();
  auto again = Make("replica-a");  // the in-place upgrade
  const ReplicaInfo rec = RecordOf("replica-a");
  EXPECT_FALSE(rec.left);
  EXPECT_FALSE(rec.draining);
  runner_.Exit(running.str(), Exited(0));
  again->Tick();
  EXPECT_EQ(Get(running).status, RunStatus::kCompleted);
}

// A runner whose runs outlive the machine (none yet: container runners) has them handed over.
TEST_F(SupervisorDrainTest, RunsThatOutliveTheMachineAreHandedToALiveReplica) {
  runner_.SetRunsOutliveMachine(true);
  auto a = Make("replica-a");
  RunId running = Queue("replica-a");
  a->Tick();
  ASSERT_EQ(Get(running).status, RunStatus::kRunning);
  auto b = Make("replica-b");
  clock_.Advance(6s);  // a's next refresh (every lease/3) sees replica-b
  a->Tick();
  a->BeginDrain();
  a->Tick();
  EXPECT_EQ(Get(running).owner, "replica-b");
  EXPECT_EQ(Get(running).status, RunStatus::kRunning);
  EXPECT_EQ(a->DrainRemaining(), 0);
  runner_.Exit(running.str(), Exited(0));
  b->Tick();  // supervised by replica-b now
  EXPECT_EQ(Get(running).status, RunStatus::kCompleted);
}

TEST_F(SupervisorDrainTest, LocalRunsAreNotHandedOver) {
  auto a = Make("replica-a");
  auto b = Make("replica-b");
  RunId running = Queue("replica-a");
  clock_.Advance(6s);
  a->Tick();
  a->BeginDrain();
  a->Tick();
  EXPECT_EQ(Get(running).owner, "replica-a");
  EXPECT_EQ(a->DrainRemaining(), 1);
}

}  // namespace
}  // namespace outpost
