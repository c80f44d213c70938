// The Supervisor driven step by step: a real SQLite store, a FakeRunner for the shims, a
// SimulatedClock, and Tick() called by the test (no loop thread, no sleeps).
#include "core/supervisor.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/ids.h"
#include "core/fake_runner_for_test.h"
#include "core/run_service.h"
#include "store/sqlite/sqlite_run_store.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("supervisor-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_ + "/runs");
    auto s = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    opts_ = DefaultOptions();
    opts_.data_dir = root_;
    opts_.runner = RunnerKind::kProcess;
    opts_.replica_id = "replica-a";
    opts_.max_concurrent_runs = 16;
    opts_.lease_seconds = 15;
    AgentOptions other = opts_.agents.at("shell");
    other.name = "other";
    opts_.agents["other"] = other;
    runner_ = std::make_unique<FakeRunner>(root_ + "/runs");
  }
  void TearDown() override { fs::remove_all(root_); }

  // A supervisor for `opts` (kept alive by the fixture), recovered and ready to Tick.
  std::unique_ptr<Supervisor> Make(const Options& given) {
    const Options& opts = *options_.emplace_back(std::make_unique<Options>(given));
    registries_.push_back(std::make_unique<AgentRegistry>(opts));
    auto s = std::make_unique<Supervisor>(*store_, *runner_, *registries_.back(), clock_, opts);
    Status st = s->Recover();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  std::unique_ptr<Supervisor> Make() { return Make(opts_); }
  Options OptionsOf(std::string replica) {
    Options o = opts_;
    o.replica_id = std::move(replica);
    return o;
  }

  // A dispatched run, as RunService creates it: PENDING, queued at `owner`.
  RunId Queue(std::string agent = "shell", std::string owner = "replica-a",
              RunPhase phase = RunPhase::kQueued) {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(1ms);  // ids, and so FIFO order, follow dispatch order
    r.agent = std::move(agent);
    r.model_id = "shell";
    r.task = "echo hi";
    r.timeout_seconds = 300;
    r.inactivity_timeout_seconds = 60;
    r.created_at = clock_.Now();
    r.owner = std::move(owner);
    r.phase = phase;
    auto c = store_->Create(r);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return r.id;
  }
  outpost::Run Get(const RunId& id) {
    auto r = store_->Get(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : outpost::Run{};
  }
  RunStatus StatusOf(const RunId& id) { return Get(id).status; }
  static std::vector<std::string> Ids(std::initializer_list<RunId> ids) {
    std::vector<std::string> out;
    for (const RunId& id : ids) out.push_back(id.str());
    return out;
  }
  ExitRecord Exited(int code) {
    ExitRecord rec;
    rec.outcome = ExitOutcome::kExited;
    rec.exit_code = code;
    rec.started_at = clock_.Now() - 2s;
    rec.ended_at = clock_.Now();
    return rec;
  }
  ExitRecord Outcome(ExitOutcome outcome) {
    ExitRecord rec;
    rec.outcome = outcome;
    rec.started_at = clock_.Now() - 2s;
    rec.ended_at = clock_.Now();
    return rec;
  }

  std::string root_;
  SimulatedClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<SqliteRunStore> store_;
  Options opts_;
  std::vector<std::unique_ptr<Options>> options_;  // a Supervisor keeps a reference to its own
  std::vector<std::unique_ptr<AgentRegistry>> registries_;
  std::unique_ptr<FakeRunner> runner_;
};

TEST_F(SupervisorTest, AdmitsInDispatchOrderUpToTheGlobalLimit) {
  opts_.max_concurrent_runs = 2;
  auto sup = Make();
  RunId a = Queue(), b = Queue(), c = Queue();
  sup->Tick();
  EXPECT_EQ(runner_->started(), Ids({a, b}));
  EXPECT_EQ(StatusOf(a), RunStatus::kRunning);
  EXPECT_EQ(StatusOf(b), RunStatus::kRunning);
  EXPECT_EQ(StatusOf(c), RunStatus::kPending);
  outpost::Run admitted = Get(a);
  EXPECT_EQ(admitted.phase, RunPhase::kPreparing);
  EXPECT_EQ(admitted.owner, "replica-a");
  EXPECT_EQ(admitted.progress, 2);
  SupervisorSnapshot snap = sup->Snapshot();
  EXPECT_EQ(snap.running, 2);
  EXPECT_EQ(snap.queued, 1);
  EXPECT_EQ(snap.queued_by_agent["shell"], 1);

  // The first one finishes: its room goes to the next in line, in the same pass.
  runner_->Exit(a.str(), Exited(0));
  sup->Tick();
  EXPECT_EQ(StatusOf(a), RunStatus::kCompleted);
  EXPECT_EQ(runner_->started(), Ids({a, b, c}));
  EXPECT_EQ(sup->Snapshot().queued, 0);
}

TEST_F(SupervisorTest, PerAgentLimitsHoldBackOnlyThatAgent) {
  opts_.agents["shell"].max_concurrent = 1;
  opts_.agents["other"].max_concurrent = 2;
  auto sup = Make();
  RunId s1 = Queue("shell"), s2 = Queue("shell"), o1 = Queue("other"), o2 = Queue("other"),
        o3 = Queue("other");
  sup->Tick();
  EXPECT_EQ(runner_->started(), Ids({s1, o1, o2}));
  EXPECT_EQ(StatusOf(s2), RunStatus::kPending);
  EXPECT_EQ(StatusOf(o3), RunStatus::kPending);
  SupervisorSnapshot snap = sup->Snapshot();
  EXPECT_EQ(snap.running_by_agent["shell"], 1);
  EXPECT_EQ(snap.running_by_agent["other"], 2);
  EXPECT_EQ(snap.queued_by_agent["shell"], 1);
  EXPECT_EQ(snap.queued_by_agent["other"], 1);

  runner_->Exit(o1.str(), Exited(1));
  sup->Tick();
  EXPECT_EQ(StatusOf(o1), RunStatus::kFailed);
  EXPECT_EQ(runner_->started(), Ids({s1, o1, o2, o3}));  // shell still waits for s1
  EXPECT_EQ(StatusOf(s2), RunStatus::kPending);
}

TEST_F(SupervisorTest, ARunGoesThroughItsPhasesToCompleted) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  std::optional<RunSpec> spec = runner_->spec(id.str());
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->limits.timeout_seconds, 300);
  EXPECT_EQ(spec->limits.inactivity_timeout_seconds, 60);
  EXPECT_EQ(spec->argv.back(), "echo hi");

  const WallTime agent_start = clock_.Now() + 1s;
  runner_->AgentStarted(id.str(), agent_start);
  clock_.Advance(2s);
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.phase, RunPhase::kRunning);
  EXPECT_EQ(r.started_at, agent_start);
  EXPECT_GE(r.progress, 5);

  // Progress comes from what the run reports (Runner::Progress), not from reading its files.
  const int before = r.progress;
  runner_->Report(id.str(), RunProgress{6, true});
  clock_.Advance(30s);
  sup->Tick();
  EXPECT_GT(Get(id).progress, before);

  ExitRecord rec = Exited(0);
  runner_->Exit(id.str(), rec);
  sup->Tick();
  r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.reason, std::string(reason::kSucceeded));
  EXPECT_EQ(r.phase, RunPhase::kDone);
  EXPECT_EQ(r.progress, 100);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.ended_at, rec.ended_at);
  EXPECT_EQ(r.artifacts_state, ArtifactsState::kNone);  // no uploader
  EXPECT_FALSE(r.error_message);
}

TEST_F(SupervisorTest, TotalAndInactivityTimeoutsEndTheRunAsTimeout) {
  auto sup = Make();
  RunId total = Queue(), inactive = Queue();
  sup->Tick();
  // The shim enforces both limits; the supervisor classifies what it reports.
  runner_->Exit(total.str(), Outcome(ExitOutcome::kTimeoutTotal));
  runner_->Exit(inactive.str(), Outcome(ExitOutcome::kTimeoutInactive));
  sup->Tick();
  outpost::Run t = Get(total), i = Get(inactive);
  EXPECT_EQ(t.status, RunStatus::kTimeout);
  EXPECT_EQ(t.reason, std::string(reason::kTimeoutTotal));
  EXPECT_EQ(t.error_message, "the run exceeded timeoutSeconds");
  EXPECT_EQ(i.status, RunStatus::kTimeout);
  EXPECT_EQ(i.reason, std::string(reason::kTimeoutInactive));
  EXPECT_EQ(i.error_message, "no output for inactivityTimeoutSeconds");
}

TEST_F(SupervisorTest, CancelOfAPendingRunEndsItAndItNeverStarts) {
  auto sup = Make();
  RunService service(*store_, *registries_.back(), clock_, opts_, sup.get());
  RunId id = Queue();
  auto out = service.Cancel(id.str(), std::string("changed my mind"), RequestContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE(out->in_progress);
  EXPECT_EQ(out->run.status, RunStatus::kCancelled);
  sup->Tick();
  EXPECT_TRUE(runner_->started().empty());
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kCancelled);
  EXPECT_EQ(r.reason, std::string(reason::kCancelled));
  EXPECT_EQ(r.phase, RunPhase::kDone);
  EXPECT_EQ(r.cancel_reason, "changed my mind");
  EXPECT_EQ(r.progress, 100);
  // Once over, a cancel is refused with the status it ended with... unless it was cancelled.
  auto again = service.Cancel(id.str(), std::nullopt, RequestContext{});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->in_progress);
}

TEST_F(SupervisorTest, CancelOfARunningRunReachesItsShimAndEndsWithItsRecord) {
  auto sup = Make();
  RunService service(*store_, *registries_.back(), clock_, opts_, sup.get());
  RunId id = Queue();
  sup->Tick();
  auto out = service.Cancel(id.str(), std::string("stop"), RequestContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->in_progress);
  EXPECT_EQ(out->run.status, RunStatus::kRunning);
  EXPECT_EQ(runner_->cancels(id.str()), std::vector<std::string>{"stop"});
  sup->Tick();  // the loop delivers a stored request once too (idempotent at the shim)
  sup->Tick();
  EXPECT_EQ(runner_->cancels(id.str()).size(), 2u);
  ExitRecord rec = Outcome(ExitOutcome::kCancelled);
  rec.cancel_reason = "stop";
  runner_->Exit(id.str(), rec);
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kCancelled);
  EXPECT_EQ(r.cancel_reason, "stop");
  // A finished run cannot be cancelled: 409 with the status it has.
  RunId done = Queue();
  sup->Tick();
  runner_->Exit(done.str(), Exited(0));
  sup->Tick();
  auto refused = service.Cancel(done.str(), std::nullopt, RequestContext{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_EQ(refused.status().details().at("currentStatus").as_string(), "COMPLETED");
}

TEST_F(SupervisorTest, ACancelRequestedElsewhereIsDeliveredOnce) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  outpost::Run r = Get(id);
  r.cancel_reason = "from another replica";
  r.cancel_requested_at = clock_.Now();
  ASSERT_TRUE(store_->Update(r).ok());
  sup->Tick();
  sup->Tick();
  EXPECT_EQ(runner_->cancels(id.str()), std::vector<std::string>{"from another replica"});
}

TEST_F(SupervisorTest, ARunThatCannotStartFailsAsInfraError) {
  auto sup = Make();
  runner_->FailStarts(Internal("no shim today"));
  RunId id = Queue();
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.reason, std::string(reason::kInfraError));
  EXPECT_EQ(r.error_message, "the run could not be started: no shim today");
  EXPECT_EQ(r.phase, RunPhase::kDone);
}

TEST_F(SupervisorTest, AFanOutRunHeldTooLongIsCancelled) {
  auto sup = Make();
  RunId held = Queue("shell", "replica-a", RunPhase::kHeld);
  sup->Tick();
  EXPECT_EQ(StatusOf(held), RunStatus::kPending);  // its fan-out may still be being created
  clock_.Advance(61s);
  sup->Tick();
  outpost::Run r = Get(held);
  EXPECT_EQ(r.status, RunStatus::kCancelled);
  EXPECT_EQ(r.cancel_reason, "the fan-out dispatch that created it was interrupted");
  EXPECT_TRUE(runner_->started().empty());
}

TEST_F(SupervisorTest, ALostReplicasRunsAreTakenOverOnceItsLeaseExpires) {
  auto a = Make(OptionsOf("replica-a"));
  RunId running = Queue("shell", "replica-a");
  a->Tick();  // replica-a starts it
  ASSERT_EQ(StatusOf(running), RunStatus::kRunning);
  RunId queued = Queue("shell", "replica-a");
  // replica-a stops heartbeating (it died) before it admits the second run.
  a.reset();
  auto b = Make(OptionsOf("replica-b"));
  b->Tick();
  EXPECT_EQ(StatusOf(queued), RunStatus::kPending);  // replica-a is still within its lease
  EXPECT_EQ(StatusOf(running), RunStatus::kRunning);
  clock_.Advance(14s);
  b->Tick();
  EXPECT_EQ(StatusOf(queued), RunStatus::kPending);
  EXPECT_EQ(StatusOf(running), RunStatus::kRunning);

  // Past the 15 s lease. A replica is judged lost only on a fresh read of its record, and
  // fresh reads are at most 500 ms apart: the judgement lands within a few passes.
  for (int pass = 0; pass < 3; ++pass) {
    clock_.Advance(1s);
    b->Tick();
  }
  outpost::Run lost = Get(running);
  EXPECT_EQ(lost.status, RunStatus::kFailed);
  EXPECT_EQ(lost.reason, std::string(reason::kNodeLost));
  EXPECT_NE(lost.error_message.value_or("").find("replica replica-a"), std::string::npos);
  outpost::Run taken = Get(queued);
  EXPECT_EQ(taken.status, RunStatus::kRunning);
  EXPECT_EQ(taken.owner, "replica-b");
  EXPECT_EQ(runner_->started().back(), queued.str());
  SupervisorSnapshot snap = b->Snapshot();
  EXPECT_EQ(snap.taken_over, 1);
  EXPECT_EQ(snap.node_lost, 1);
  bool saw_a = false;
  for (const ReplicaView& v : snap.replicas) {
    if (v.info.id == "replica-a") {
      saw_a = true;
      EXPECT_FALSE(v.live);
    }
  }
  EXPECT_TRUE(saw_a);
}

TEST_F(SupervisorTest, ALiveReplicasQueueIsLeftToIt) {
  auto a = Make(OptionsOf("replica-a"));
  auto b = Make(OptionsOf("replica-b"));
  RunId queued = Queue("shell", "replica-a");
  for (int pass = 0; pass < 3; ++pass) {
    clock_.Advance(1s);
    b->Tick();
  }
  EXPECT_EQ(StatusOf(queued), RunStatus::kPending);
  EXPECT_TRUE(runner_->started().empty());
  a->Tick();
  EXPECT_EQ(StatusOf(queued), RunStatus::kRunning);
  EXPECT_EQ(Get(queued).owner, "replica-a");
  EXPECT_EQ(b->Snapshot().taken_over, 0);
}

TEST_F(SupervisorTest, ARestartAdoptsLiveRunsFinishesExitedOnesAndFailsLostOnes) {
  RunId live, exited, lost, never;
  {
    auto first = Make();
    live = Queue();
    exited = Queue();
    lost = Queue();
    first->Tick();
    ASSERT_EQ(runner_->started(), Ids({live, exited, lost}));
  }  // the server stops; the shims keep going
  runner_->Exit(exited.str(), Exited(0));
  runner_->Lose(lost.str(), 2);
  // Admitted, then the server died before it launched the shim.
  never = Queue();
  outpost::Run r = Get(never);
  ASSERT_TRUE(run_state::Admit(r, "replica-a", clock_.Now()).ok());
  ASSERT_TRUE(store_->Update(r).ok());

  auto second = Make();  // Recover
  EXPECT_EQ(StatusOf(live), RunStatus::kRunning);
  EXPECT_EQ(StatusOf(exited), RunStatus::kCompleted);
  outpost::Run l = Get(lost);
  EXPECT_EQ(l.status, RunStatus::kFailed);
  EXPECT_EQ(l.reason, std::string(reason::kSupervisorLost));
  EXPECT_EQ(l.error_message,
            "the run's supervisor (shim) died without an exit record; 2 leftover process(es) "
            "killed");
  EXPECT_EQ(StatusOf(never), RunStatus::kRunning);
  EXPECT_EQ(runner_->started().back(), never.str());  // started now rather than failed
  ReaperStats stats = second->Snapshot().reaper;
  EXPECT_EQ(stats.recovered_on_start, 1);
  EXPECT_EQ(stats.supervisor_lost, 1);
  EXPECT_EQ(stats.leftovers_killed, 2);
  EXPECT_EQ(stats.adopted_on_start, 2);  // live, and never (running, started at recovery)

  // The adopted run is supervised as any other.
  runner_->Exit(live.str(), Exited(3));
  second->Tick();
  outpost::Run done = Get(live);
  EXPECT_EQ(done.status, RunStatus::kFailed);
  EXPECT_EQ(done.reason, std::string(reason::kExitNonzero));
  EXPECT_EQ(done.error_message, "exited with code 3");
}

TEST_F(SupervisorTest, TheReaperKillsProcessesOfRunsThatAreOverOnTheSecondSweep) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  runner_->Exit(id.str(), Exited(0));
  sup->Tick();
  ASSERT_EQ(StatusOf(id), RunStatus::kCompleted);
  runner_->Orphan(id.str(), 3);  // something of it is still alive
  const std::string unknown = NewUlid(clock_.Now());
  runner_->Orphan(unknown, 1);  // and of a run the store never heard of
  clock_.Advance(6s);
  sup->Tick();  // first sight: suspects only
  EXPECT_FALSE(runner_->reaped(id.str()));
  clock_.Advance(6s);
  sup->Tick();
  EXPECT_TRUE(runner_->reaped(id.str()));
  EXPECT_TRUE(runner_->reaped(unknown));
  ReaperStats stats = sup->Snapshot().reaper;
  EXPECT_EQ(stats.orphan_runs_reaped, 2);
  EXPECT_EQ(stats.orphan_processes_killed, 4);
}

}  // namespace
}  // namespace outpost
