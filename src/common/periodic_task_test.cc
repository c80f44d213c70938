// PeriodicTask on a SimulatedClock: when it runs is decided by Advance and Wake alone. The test
// waits (bounded, in real time) for the task's thread to be blocked on the clock or for a run to
// have happened, never for a guessed while.
#include "common/periodic_task.h"

#include <gtest/gtest.h>

#include <atomic>

namespace outpost {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
constexpr Millis kBound{10'000};  // real time a test waits for the task's thread at most

// Counts runs; a test waits for a count.
class Runs {
 public:
  void Add() {
    std::lock_guard lock(mu_);
    ++n_;
    cv_.notify_all();
  }
  int count() const {
    std::lock_guard lock(mu_);
    return n_;
  }
  bool AwaitCount(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kBound, [&] { return n_ >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

TEST(PeriodicTask, RunsAtStartThenEveryIntervalAfterTheRunEnds) {
  SimulatedClock clock;
  Runs runs;
  PeriodicTask task("test", clock, milliseconds(100), [&] { runs.Add(); });
  task.Start();
  ASSERT_TRUE(runs.AwaitCount(1));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(clock.NextDeadline(), MonoTime(milliseconds(100)));
  clock.Advance(milliseconds(99));
  EXPECT_EQ(clock.blocked(), 1u);
  EXPECT_EQ(runs.count(), 1);
  clock.Advance(milliseconds(1));
  ASSERT_TRUE(runs.AwaitCount(2));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(clock.NextDeadline(), MonoTime(milliseconds(200)));
  clock.Advance(milliseconds(100));
  ASSERT_TRUE(runs.AwaitCount(3));
  task.Stop();
  EXPECT_EQ(runs.count(), 3);
}

TEST(PeriodicTask, TheIntervalCountsFromTheEndOfASlowRun) {
  SimulatedClock clock;
  Runs runs;
  PeriodicTask task("test", clock, milliseconds(100), [&] {
    runs.Add();
    clock.SleepFor(milliseconds(30));  // the run itself takes 30 ms of clock time
  });
  task.Start();
  ASSERT_TRUE(clock.AwaitBlocked(1));  // in the run's own sleep
  clock.Advance(milliseconds(30));
  ASSERT_TRUE(clock.AwaitBlocked(1));  // between runs
  EXPECT_EQ(clock.NextDeadline(), MonoTime(milliseconds(130)));
  task.Stop();
  EXPECT_EQ(runs.count(), 1);
}

TEST(PeriodicTask, WakeRunsItNowWithoutTimePassing) {
  SimulatedClock clock;
  Runs runs;
  PeriodicTask task("test", clock, hours(1), [&] { runs.Add(); });
  task.Start();
  ASSERT_TRUE(runs.AwaitCount(1));
  task.Wake();
  ASSERT_TRUE(runs.AwaitCount(2));
  // The run happened before the thread blocked again: now the wait is the new one.
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(clock.Mono(), MonoTime());
  EXPECT_EQ(clock.NextDeadline(), MonoTime(hours(1)));
}

TEST(PeriodicTask, WakesDuringARunMakeOneMoreRun) {
  SimulatedClock clock;
  Runs runs;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  PeriodicTask* self = nullptr;
  PeriodicTask task("test", clock, hours(1), [&] {
    runs.Add();
    if (runs.count() > 1) return;
    self->Wake();
    self->Wake();
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  self = &task;
  task.Start();
  ASSERT_TRUE(runs.AwaitCount(1));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(runs.AwaitCount(2));
  ASSERT_TRUE(clock.AwaitBlocked(1));  // waiting for the interval: no third run is owed
  EXPECT_EQ(runs.count(), 2);
}

TEST(PeriodicTask, WithoutRunAtStartTheFirstRunIsAnIntervalLater) {
  SimulatedClock clock;
  Runs runs;
  PeriodicTask task(
      "test", clock, milliseconds(500), [&] { runs.Add(); },
      PeriodicTask::Options{.run_at_start = false});
  task.Start();
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(runs.count(), 0);
  clock.Advance(milliseconds(500));
  ASSERT_TRUE(runs.AwaitCount(1));
}

TEST(PeriodicTask, AnEndlessIntervalRunsOnlyOnWake) {
  SimulatedClock clock;
  Runs runs;
  PeriodicTask task("test", clock, Millis::max(), [&] { runs.Add(); });
  task.Start();
  ASSERT_TRUE(runs.AwaitCount(1));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(clock.NextDeadline(), MonoTime::max());
  clock.Advance(hours(24 * 365));
  EXPECT_EQ(clock.blocked(), 1u);
  EXPECT_EQ(runs.count(), 1);
  task.Wake();
  ASSERT_TRUE(runs.AwaitCount(2));
}

TEST(PeriodicTask, StopIsPromptOnTheRealClockWhateverTheInterval) {
  Runs runs;
  PeriodicTask task("test", RealClock::Instance(), hours(1), [&] { runs.Add(); });
  task.Start();
  ASSERT_TRUE(runs.AwaitCount(1));
  const auto start = std::chrono::steady_clock::now();
  task.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(task.running());
  EXPECT_EQ(runs.count(), 1);
}

TEST(PeriodicTask, StopLetsTheRunInProgressFinishAndStartsNoOther) {
  SimulatedClock clock;
  Runs runs;
  std::atomic<bool> saw_stopping{false};
  PeriodicTask* self = nullptr;
  PeriodicTask task("test", clock, milliseconds(1), [&] {
    runs.Add();
    // A long run polls stopping() to end early.
    while (!self->stopping()) std::this_thread::yield();
    saw_stopping = true;
  });
  self = &task;
  task.Start();
  ASSERT_TRUE(runs.AwaitCount(1));
  task.Stop();
  EXPECT_TRUE(saw_stopping);
  EXPECT_EQ(runs.count(), 1);
  task.Stop();  // idempotent
}

TEST(PeriodicTask, WakeBeforeStartIsIgnoredAndAStoppedTaskCanStartAgain) {
  SimulatedClock clock;
  Runs runs;
  PeriodicTask task(
      "test", clock, hours(1), [&] { runs.Add(); }, PeriodicTask::Options{.run_at_start = false});
  task.Wake();
  task.Start();
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(runs.count(), 0);
  task.Stop();
  EXPECT_EQ(clock.blocked(), 0u);
  task.Start();
  ASSERT_TRUE(clock.AwaitBlocked(1));
  task.Wake();
  ASSERT_TRUE(runs.AwaitCount(1));
}

TEST(PeriodicTask, TheDestructorStopsTheThread) {
  SimulatedClock clock;
  Runs runs;
  {
    PeriodicTask task("test", clock, hours(1), [&] { runs.Add(); });
    task.Start();
    ASSERT_TRUE(clock.AwaitBlocked(1));
  }
  EXPECT_EQ(clock.blocked(), 0u);
  EXPECT_EQ(runs.count(), 1);
}

}  // namespace
}  // namespace outpost
