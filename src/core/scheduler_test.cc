#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <set>

namespace outpost {
namespace {

using namespace std::chrono_literals;

const WallTime kNow = WallTime(std::chrono::seconds(1'800'000'000));

class SchedulerTest : public ::testing::Test {
 protected:
  // Runs in FIFO order, as ListActive returns them.
  void Add(std::string agent, RunStatus status = RunStatus::kPending, std::string owner = "self",
           RunPhase phase = RunPhase::kQueued, WallTime created = kNow - 1s) {
    outpost::Run r;
    r.id = RunId("run-" + std::to_string(runs_.size()));
    r.agent = std::move(agent);
    r.status = status;
    r.owner = std::move(owner);
    r.phase = phase;
    r.created_at = created;
    runs_.push_back(std::move(r));
  }
  AdmissionPlan Plan() {
    return PlanAdmission(runs_, limits_, kNow, [this](const std::string& owner) {
      asked_.push_back(owner);
      return live_others_.count(owner) > 0;
    });
  }
  static std::vector<std::string> Admitted(const AdmissionPlan& p) {
    std::vector<std::string> ids;
    for (const auto& a : p.admit) ids.push_back(a.id.str() + (a.takeover ? "*" : ""));
    return ids;
  }

  std::vector<outpost::Run> runs_;
  SchedulerLimits limits_{"self", 3, {{"a", 2}, {"b", 5}}, false};
  std::set<std::string> live_others_;
  std::vector<std::string> asked_;
};

TEST_F(SchedulerTest, AdmitsFifoUpToTheGlobalLimit) {
  for (int i = 0; i < 5; ++i) Add("b");
  AdmissionPlan p = Plan();
  EXPECT_EQ(Admitted(p), (std::vector<std::string>{"run-0", "run-1", "run-2"}));
  EXPECT_EQ(p.running, 3);
  EXPECT_EQ(p.queued, 2);
  EXPECT_EQ(p.queued_by_agent["b"], 2);
  EXPECT_TRUE(asked_.empty());  // all ours: nobody else to ask about
}

TEST_F(SchedulerTest, RunningRunsOfThisReplicaCountAgainstTheLimitsAndOthersDoNot) {
  Add("a", RunStatus::kRunning);
  Add("a", RunStatus::kRunning, "peer");  // supervised by another replica: not counted here
  Add("a");
  Add("a");
  Add("b");
  AdmissionPlan p = Plan();
  // a: 1 running + 1 admitted = its limit of 2; the global limit 3 is then reached by b.
  EXPECT_EQ(Admitted(p), (std::vector<std::string>{"run-2", "run-4"}));
  EXPECT_EQ(p.running_by_agent["a"], 2);
  EXPECT_EQ(p.running_by_agent["b"], 1);
  EXPECT_EQ(p.queued_by_agent["a"], 1);
}

TEST_F(SchedulerTest, APerAgentLimitHoldsBackOnlyItsAgentAndLaterRunsOvertakeIt) {
  limits_.max_concurrent_runs = 10;
  Add("a");
  Add("a");
  Add("a");
  Add("b");
  AdmissionPlan p = Plan();
  EXPECT_EQ(Admitted(p), (std::vector<std::string>{"run-0", "run-1", "run-3"}));
  EXPECT_EQ(p.queued_by_agent["a"], 1);
}

TEST_F(SchedulerTest, AnUnknownAgentWaits) {
  Add("gone");
  AdmissionPlan p = Plan();
  EXPECT_TRUE(p.admit.empty());
  EXPECT_EQ(p.queued_by_agent["gone"], 1);
}

TEST_F(SchedulerTest, WhileTheDiskIsLowEverythingWaits) {
  limits_.disk_low = true;
  Add("a");
  Add("b");
  AdmissionPlan p = Plan();
  EXPECT_TRUE(p.admit.empty());
  EXPECT_EQ(p.queued, 2);
}

TEST_F(SchedulerTest, HeldRunsAreNeverAdmittedAndOursExpireAfterAMinute) {
  Add("a", RunStatus::kPending, "self", RunPhase::kHeld, kNow - 30s);
  Add("a", RunStatus::kPending, "self", RunPhase::kHeld, kNow - 61s);
  Add("a", RunStatus::kPending, "peer", RunPhase::kHeld, kNow - 61s);  // the peer's to cancel
  AdmissionPlan p = Plan();
  EXPECT_TRUE(p.admit.empty());
  ASSERT_EQ(p.expired_held.size(), 1u);
  EXPECT_EQ(p.expired_held[0].str(), "run-1");
  EXPECT_EQ(p.queued, 0);
}

TEST_F(SchedulerTest, ALiveReplicasQueueIsLeftAloneAndALostOnesIsTakenOver) {
  live_others_ = {"alive"};
  Add("b", RunStatus::kPending, "alive");
  Add("b", RunStatus::kPending, "lost");
  Add("b", RunStatus::kPending, "");  // no owner: anyone's, counted as ours
  Add("b");
  AdmissionPlan p = Plan();
  EXPECT_EQ(Admitted(p), (std::vector<std::string>{"run-1*", "run-2", "run-3"}));
  EXPECT_EQ(asked_, (std::vector<std::string>{"alive", "lost"}));
  EXPECT_EQ(p.queued, 0);  // the live replica's run is not ours to count
}

TEST_F(SchedulerTest, TerminalAndRunningRunsAreNotAdmitted) {
  Add("b", RunStatus::kRunning);
  Add("b", RunStatus::kCompleted);
  EXPECT_TRUE(Plan().admit.empty());
}

}  // namespace
}  // namespace outpost
