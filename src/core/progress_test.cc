#include "core/progress.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

using std::chrono::seconds;

ProgressInputs Running(int turns, Millis elapsed, int timeout = 100) {
  return {RunStatus::kRunning, RunPhase::kRunning, turns, elapsed, timeout};
}

TEST(Progress, PhasesHaveTheirBands) {
  EXPECT_EQ(EstimateProgress({RunStatus::kPending, RunPhase::kQueued, 0, Millis(0), 60}), 0);
  EXPECT_EQ(EstimateProgress({RunStatus::kRunning, RunPhase::kPreparing, 0, Millis(0), 100}), 2);
  EXPECT_EQ(EstimateProgress({RunStatus::kRunning, RunPhase::kPreparing, 0, seconds(15), 100}), 3);
  EXPECT_EQ(EstimateProgress({RunStatus::kRunning, RunPhase::kPreparing, 0, seconds(90), 100}), 4);
  EXPECT_EQ(EstimateProgress(Running(0, Millis(0))), 5);
  EXPECT_EQ(EstimateProgress({RunStatus::kRunning, RunPhase::kCollecting, 3, seconds(5), 100}), 96);
  EXPECT_EQ(EstimateProgress({RunStatus::kCompleted, RunPhase::kDone, 3, seconds(5), 100}), 100);
  EXPECT_EQ(EstimateProgress({RunStatus::kFailed, RunPhase::kRunning, 0, Millis(0), 100}), 100);
}

TEST(Progress, ElapsedTimeAloneMovesItLinearlyUpTo95) {
  EXPECT_EQ(EstimateProgress(Running(0, seconds(50))), 50);  // 5 + 90 * 0.5
  EXPECT_EQ(EstimateProgress(Running(0, seconds(100))), 95);
  EXPECT_EQ(EstimateProgress(Running(0, seconds(1000))), 95);  // past the deadline: still < 100
}

TEST(Progress, TurnsAloneMoveItWithDiminishingSteps) {
  EXPECT_EQ(EstimateProgress(Running(1, Millis(0))), 18);  // 5 + 90 * 0.15 = 18.5
  EXPECT_EQ(EstimateProgress(Running(4, Millis(0))), 48);  // 1 - 0.85^4 = 0.478
  EXPECT_EQ(EstimateProgress(Running(100, Millis(0))), 94);
  int prev = 0;
  for (int turns = 0; turns < 40; ++turns) {
    int p = EstimateProgress(Running(turns, Millis(0)));
    EXPECT_GE(p, prev);
    EXPECT_LE(p, 95);
    prev = p;
  }
}

TEST(Progress, TimeAndTurnsCombine) {
  // t = 0.5, g = 0.478: 5 + 90 * (1 - 0.5 * 0.522) = 71.5
  ProgressInputs in = Running(0, seconds(50));
  in.agent_turns = 4;  // g = 0.478
  EXPECT_EQ(EstimateProgress(in), 71);
  EXPECT_GT(EstimateProgress(in), EstimateProgress(Running(0, seconds(50))));
  EXPECT_GT(EstimateProgress(in), EstimateProgress(Running(4, Millis(0))));
}

TEST(Progress, ZeroTimeoutDoesNotDivideByZero) {
  EXPECT_EQ(EstimateProgress(Running(0, seconds(5), 0)), 95);
}

}  // namespace
}  // namespace outpost
