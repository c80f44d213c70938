#include "model/run_state.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <vector>

namespace outpost {
namespace {

using namespace std::chrono_literals;

const WallTime kCreated = WallTime(std::chrono::seconds(1'800'000'000));
const WallTime kNow = kCreated + 30s;

struct From {
  std::string name;
  RunStatus status;
  RunPhase phase;
};

// Every status, and every phase a non-terminal run is stored in (collecting included).
const std::vector<From> kFrom = {
    {"PENDING/queued", RunStatus::kPending, RunPhase::kQueued},
    {"PENDING/held", RunStatus::kPending, RunPhase::kHeld},
    {"RUNNING/preparing", RunStatus::kRunning, RunPhase::kPreparing},
    {"RUNNING/running", RunStatus::kRunning, RunPhase::kRunning},
    {"RUNNING/collecting", RunStatus::kRunning, RunPhase::kCollecting},
    {"COMPLETED", RunStatus::kCompleted, RunPhase::kDone},
    {"FAILED", RunStatus::kFailed, RunPhase::kDone},
    {"TIMEOUT", RunStatus::kTimeout, RunPhase::kDone},
    {"CANCELLED", RunStatus::kCancelled, RunPhase::kDone},
};

Run RunIn(const From& f) {
  Run r;
  r.id = RunId("01JB0000000000000000000000");
  r.agent = "shell";
  r.status = f.status;
  r.phase = f.phase;
  r.created_at = kCreated;
  r.owner = "replica-a";
  r.progress = f.status == RunStatus::kRunning ? 40 : 0;
  if (f.status != RunStatus::kPending) r.started_at = kCreated + 1s;
  if (IsTerminal(f.status)) {
    r.ended_at = kCreated + 2s;
    r.progress = 100;
    r.reason = std::string(reason::kSucceeded);
    r.error_message = "earlier";
  }
  r.version = 3;
  return r;
}

run_state::Ending Ends(RunStatus status, std::string_view why,
                       std::optional<std::string> message = std::nullopt) {
  return {status, why, std::move(message), kNow, ArtifactsState::kPending};
}

struct Transition {
  std::string name;
  std::function<Status(Run&)> apply;
  // The names of the from-states (kFrom) where it is legal; empty: illegal everywhere.
  std::set<std::string> legal_from;
  // Checks the fields a legal application set (given the run before it).
  std::function<void(const Run& before, const Run& after)> check;
  // The refusal code out of a non-terminal state (out of a terminal one it is kConflict), or
  // kInvalidArgument for a request wrong whatever the run.
  Code refusal = Code::kFailedPrecondition;
};

void CheckEnded(const Run& after, RunStatus status, std::string_view why) {
  EXPECT_EQ(after.status, status);
  EXPECT_EQ(after.reason, std::string(why));
  EXPECT_EQ(after.phase, RunPhase::kDone);
  EXPECT_EQ(after.ended_at, kNow);
  EXPECT_EQ(after.progress, 100);
  EXPECT_EQ(after.artifacts_state, ArtifactsState::kPending);
}

const std::set<std::string> kActive = {"PENDING/queued", "PENDING/held", "RUNNING/preparing",
                                       "RUNNING/running", "RUNNING/collecting"};
const std::set<std::string> kRunningStates = {"RUNNING/preparing", "RUNNING/running",
                                              "RUNNING/collecting"};

std::vector<Transition> Table() {
  std::vector<Transition> t;
  t.push_back({"Release",
               [](Run& r) { return run_state::Release(r); },
               {"PENDING/held"},
               [](const Run&, const Run& a) {
                 EXPECT_EQ(a.status, RunStatus::kPending);
                 EXPECT_EQ(a.phase, RunPhase::kQueued);
               }});
  t.push_back({"Admit",
               [](Run& r) { return run_state::Admit(r, "replica-b", kNow); },
               {"PENDING/queued"},
               [](const Run&, const Run& a) {
                 EXPECT_EQ(a.status, RunStatus::kRunning);
                 EXPECT_EQ(a.phase, RunPhase::kPreparing);
                 EXPECT_EQ(a.owner, "replica-b");
                 EXPECT_EQ(a.started_at, kNow);
                 EXPECT_EQ(a.progress, 2);
               }});
  t.push_back({"MarkStarted",
               [](Run& r) { return run_state::MarkStarted(r, kNow); },
               {"RUNNING/preparing", "RUNNING/collecting"},
               [](const Run& b, const Run& a) {
                 EXPECT_EQ(a.status, RunStatus::kRunning);
                 EXPECT_EQ(a.phase, RunPhase::kRunning);
                 EXPECT_EQ(a.started_at, kNow);
                 EXPECT_EQ(a.progress, std::max(b.progress, 5));
               }});
  t.push_back({"EnterPhase(running)",
               [](Run& r) { return run_state::EnterPhase(r, RunPhase::kRunning); },
               {"RUNNING/preparing"},
               [](const Run& b, const Run& a) {
                 EXPECT_EQ(a.phase, RunPhase::kRunning);
                 EXPECT_EQ(a.started_at, b.started_at);
               }});
  t.push_back({"EnterPhase(collecting)",
               [](Run& r) { return run_state::EnterPhase(r, RunPhase::kCollecting); },
               {"RUNNING/preparing", "RUNNING/running"},
               [](const Run&, const Run& a) { EXPECT_EQ(a.phase, RunPhase::kCollecting); }});
  for (RunPhase p : {RunPhase::kQueued, RunPhase::kHeld, RunPhase::kPreparing, RunPhase::kDone}) {
    t.push_back({"EnterPhase(" + std::string(ToString(p)) + ")",
                 [p](Run& r) { return run_state::EnterPhase(r, p); },
                 {},
                 nullptr});
  }
  t.push_back({"RequestCancel",
               [](Run& r) { return run_state::RequestCancel(r, "no longer needed", kNow); },
               kActive,
               [](const Run& b, const Run& a) {
                 EXPECT_EQ(a.status, b.status);
                 EXPECT_EQ(a.phase, b.phase);
                 EXPECT_EQ(a.cancel_reason, "no longer needed");
                 EXPECT_EQ(a.cancel_requested_at, kNow);
               }});
  t.push_back(
      {"End(COMPLETED, succeeded)",
       [](Run& r) { return run_state::End(r, Ends(RunStatus::kCompleted, reason::kSucceeded)); },
       kRunningStates,
       [](const Run&, const Run& a) {
         CheckEnded(a, RunStatus::kCompleted, reason::kSucceeded);
         EXPECT_FALSE(a.error_message);  // no message: left as it was
       }});
  for (std::string_view why : {reason::kInfraError, reason::kSupervisorLost, reason::kNodeLost,
                               reason::kExitNonzero, reason::kOom}) {
    t.push_back({"End(FAILED, " + std::string(why) + ")",
                 [why](Run& r) { return run_state::End(r, Ends(RunStatus::kFailed, why, "boom")); },
                 kActive,
                 [why](const Run&, const Run& a) {
                   CheckEnded(a, RunStatus::kFailed, why);
                   EXPECT_EQ(a.error_message, "boom");
                 }});
  }
  for (std::string_view why : {reason::kTimeoutTotal, reason::kTimeoutInactive}) {
    t.push_back(
        {"End(TIMEOUT, " + std::string(why) + ")",
         [why](Run& r) { return run_state::End(r, Ends(RunStatus::kTimeout, why, "slow")); },
         kRunningStates,
         [why](const Run&, const Run& a) {
           CheckEnded(a, RunStatus::kTimeout, why);
           EXPECT_EQ(a.error_message, "slow");
         }});
  }
  t.push_back(
      {"End(CANCELLED, cancelled)",
       [](Run& r) { return run_state::End(r, Ends(RunStatus::kCancelled, reason::kCancelled)); },
       kActive,
       [](const Run&, const Run& a) { CheckEnded(a, RunStatus::kCancelled, reason::kCancelled); }});
  // Wrong whatever the run.
  auto invalid = [&t](std::string name, run_state::Ending e) {
    t.push_back({std::move(name),
                 [e](Run& r) { return run_state::End(r, e); },
                 {},
                 nullptr,
                 Code::kInvalidArgument});
  };
  invalid("End(RUNNING)", Ends(RunStatus::kRunning, reason::kSucceeded));
  invalid("End(PENDING)", Ends(RunStatus::kPending, reason::kCancelled));
  invalid("End(COMPLETED, cancelled)", Ends(RunStatus::kCompleted, reason::kCancelled));
  invalid("End(COMPLETED, exit_nonzero)", Ends(RunStatus::kCompleted, reason::kExitNonzero));
  invalid("End(FAILED, succeeded)", Ends(RunStatus::kFailed, reason::kSucceeded));
  invalid("End(FAILED, timeout_total)", Ends(RunStatus::kFailed, reason::kTimeoutTotal));
  invalid("End(TIMEOUT, oom)", Ends(RunStatus::kTimeout, reason::kOom));
  invalid("End(CANCELLED, infra_error)", Ends(RunStatus::kCancelled, reason::kInfraError));
  invalid("End(FAILED, made_up)", Ends(RunStatus::kFailed, "made_up"));
  run_state::Ending stored = Ends(RunStatus::kFailed, reason::kInfraError);
  stored.artifacts_state = ArtifactsState::kStored;
  invalid("End(FAILED) with artifacts stored", stored);
  return t;
}

TEST(RunStateTest, EveryTransitionFromEveryState) {
  int legal = 0, refused = 0;
  for (const Transition& t : Table()) {
    for (const From& f : kFrom) {
      SCOPED_TRACE(t.name + " from " + f.name);
      const outpost::Run before = RunIn(f);
      outpost::Run run = before;
      Status st = t.apply(run);
      if (t.legal_from.count(f.name)) {
        ++legal;
        ASSERT_TRUE(st.ok()) << st.ToString();
        t.check(before, run);
        EXPECT_EQ(run.version, before.version);  // the store bumps it, not the transition
        EXPECT_EQ(run.created_at, before.created_at);
      } else {
        ++refused;
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(run, before) << "a refused transition changed the run";
        Code want = t.refusal == Code::kInvalidArgument ? Code::kInvalidArgument
                    : IsTerminal(f.status)              ? Code::kConflict
                                                        : Code::kFailedPrecondition;
        EXPECT_EQ(st.code(), want) << st.ToString();
        if (want == Code::kConflict) {
          EXPECT_EQ(st.details().at("currentStatus").as_string(), ToString(f.status));
        }
        if (want == Code::kFailedPrecondition) {
          EXPECT_NE(st.message().find(std::string(ToString(f.status))), std::string::npos)
              << st.message();
        }
      }
    }
  }
  // The table is what it says: nothing out of a terminal status, and a good number of each.
  EXPECT_EQ(legal, 1 + 1 + 2 + 1 + 2 + 5 + 3 + 5 * 5 + 2 * 3 + 5);
  EXPECT_GT(refused, 200);
}

TEST(RunStateTest, EndKeepsAnEarlierMessageWhenGivenNone) {
  outpost::Run r = RunIn(kFrom[3]);
  r.error_message = "the agent said so";
  ASSERT_TRUE(run_state::End(r, Ends(RunStatus::kCancelled, reason::kCancelled)).ok());
  EXPECT_EQ(r.error_message, "the agent said so");
}

TEST(RunStateTest, EndWithoutAnUploaderLeavesArtifactsStateEmpty) {
  outpost::Run r = RunIn(kFrom[0]);
  run_state::Ending e = Ends(RunStatus::kFailed, reason::kInfraError, "no uid");
  e.artifacts_state = ArtifactsState::kNone;
  ASSERT_TRUE(run_state::End(r, e).ok());
  EXPECT_EQ(r.artifacts_state, ArtifactsState::kNone);
}

TEST(RunStateTest, PhasesAndArtifactsStatesKeepTheirStrings) {
  for (RunPhase p : {RunPhase::kQueued, RunPhase::kHeld, RunPhase::kPreparing, RunPhase::kRunning,
                     RunPhase::kCollecting, RunPhase::kDone}) {
    EXPECT_EQ(ParseRunPhase(ToString(p)), p);
  }
  EXPECT_EQ(ToString(RunPhase::kCollecting), "collecting");
  EXPECT_EQ(ParseRunPhase("Running"), std::nullopt);
  for (ArtifactsState s : {ArtifactsState::kNone, ArtifactsState::kPending, ArtifactsState::kStored,
                           ArtifactsState::kPartial}) {
    EXPECT_EQ(ParseArtifactsState(ToString(s)), s);
  }
  EXPECT_EQ(ToString(ArtifactsState::kNone), "");
  EXPECT_EQ(ToString(ArtifactsState::kPartial), "partial");
  EXPECT_EQ(ParseArtifactsState("lost"), std::nullopt);
}

}  // namespace
}  // namespace outpost
