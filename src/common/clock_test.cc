// Clock: the real clock waits for real (briefly), the simulated clock wakes exactly the threads
// whose deadline an Advance passes. Nothing here sleeps to let another thread get somewhere:
// tests wait (bounded, in real time) until a thread is blocked on the simulated clock.
#include "common/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace outpost {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

TEST(RealClock, SleepForWaitsAtLeastTheDuration) {
  const RealClock& clock = RealClock::Instance();
  const MonoTime start = std::chrono::steady_clock::now();
  clock.SleepFor(milliseconds(20));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
}

TEST(RealClock, WaitUntilTimesOutWithFalse) {
  const RealClock& clock = RealClock::Instance();
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  const MonoTime deadline = clock.Mono() + milliseconds(20);
  EXPECT_FALSE(clock.WaitUntil(lock, cv, deadline, [] { return false; }));
  EXPECT_GE(clock.Mono(), deadline);
  EXPECT_TRUE(lock.owns_lock());
}

TEST(RealClock, WaitWithoutDeadlineEndsWhenThePredicateComesTrue) {
  const RealClock& clock = RealClock::Instance();
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::thread setter([&] {
    std::lock_guard lock(mu);
    ready = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  EXPECT_TRUE(clock.WaitUntil(lock, cv, MonoTime::max(), [&] { return ready; }));
  lock.unlock();
  setter.join();
}

TEST(Clock, DeadlineAfterSaturatesAndClampsNegative) {
  SimulatedClock clock;
  clock.Advance(hours(1));
  EXPECT_EQ(clock.DeadlineAfter(Millis::max()), MonoTime::max());
  EXPECT_EQ(clock.DeadlineAfter(std::chrono::nanoseconds::max()), MonoTime::max());
  EXPECT_EQ(clock.DeadlineAfter(milliseconds(-5)), clock.Mono());
  EXPECT_EQ(clock.DeadlineAfter(milliseconds(250)), clock.Mono() + milliseconds(250));
}

TEST(SimulatedClock, SleepEndsExactlyWhenAdvanceReachesTheDeadline) {
  SimulatedClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(milliseconds(100));
    woke = true;
  });
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(clock.NextDeadline(), MonoTime(milliseconds(100)));
  clock.Advance(milliseconds(99));
  EXPECT_EQ(clock.blocked(), 1u);  // Advance unregisters synchronously: still waiting
  EXPECT_FALSE(woke);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(clock.blocked(), 0u);
  sleeper.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(clock.sleeps(), std::vector<Millis>{milliseconds(100)});
}

TEST(SimulatedClock, ASleepWhoseDeadlinePassedDoesNotBlock) {
  SimulatedClock clock;
  clock.SleepFor(milliseconds(0));
  clock.SleepFor(milliseconds(-3));
  clock.SleepUntil(clock.Mono());
  clock.Advance(milliseconds(5));
  clock.SleepUntil(MonoTime(milliseconds(1)));
  EXPECT_EQ(clock.blocked(), 0u);
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(SimulatedClock, AdvancePastSeveralDeadlinesWakesThoseAndOnlyThose) {
  SimulatedClock clock;
  std::vector<std::thread> threads;
  std::atomic<int> woken{0};
  for (int ms : {10, 20, 30}) {
    threads.emplace_back([&, ms] {
      clock.SleepFor(milliseconds(ms));
      ++woken;
    });
  }
  ASSERT_TRUE(clock.AwaitBlocked(3));
  clock.Advance(milliseconds(25));
  EXPECT_EQ(clock.blocked(), 1u);
  EXPECT_EQ(clock.NextDeadline(), MonoTime(milliseconds(30)));
  threads[0].join();
  threads[1].join();
  EXPECT_EQ(woken, 2);
  clock.Advance(milliseconds(5));
  threads[2].join();
  EXPECT_EQ(woken, 3);
}

TEST(SimulatedClock, ManyThreadsWakeInDeadlineOrderAndNeverEarly) {
  constexpr int kThreads = 40;
  SimulatedClock clock;
  std::vector<std::thread> threads;
  std::vector<MonoTime> woke_at(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      clock.SleepUntil(MonoTime(milliseconds(i + 1)));
      woke_at[i] = clock.Mono();
    });
  }
  ASSERT_TRUE(clock.AwaitBlocked(kThreads));
  for (int step = 1; step <= kThreads / 10; ++step) {
    clock.Advance(milliseconds(10));
    EXPECT_EQ(clock.blocked(), static_cast<std::size_t>(kThreads - 10 * step));
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_GE(woke_at[i], MonoTime(milliseconds(i + 1))) << i;
  }
}

TEST(SimulatedClock, WaitEndsWhenThePredicateComesTrueWithoutAdvance) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  bool result = false;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.WaitFor(lock, cv, hours(1), [&] { return ready; });
  });
  ASSERT_TRUE(clock.AwaitBlocked(1));
  {
    std::lock_guard lock(mu);
    ready = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_TRUE(result);
  EXPECT_EQ(clock.blocked(), 0u);  // it unregistered itself
  EXPECT_EQ(clock.Mono(), MonoTime());
  clock.Advance(hours(2));  // nothing left to fire at a dead waiter
}

TEST(SimulatedClock, SpuriousWakesDoNotEndTheWaitBeforeItsDeadline) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool result = true;
  MonoTime returned_at;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.WaitUntil(lock, cv, MonoTime(milliseconds(50)), [] { return false; });
    returned_at = clock.Mono();
  });
  ASSERT_TRUE(clock.AwaitBlocked(1));
  for (int i = 0; i < 200; ++i) {
    std::lock_guard lock(mu);
    cv.notify_all();
  }
  EXPECT_EQ(clock.blocked(), 1u);
  clock.Advance(milliseconds(50));
  waiter.join();
  EXPECT_FALSE(result);
  EXPECT_EQ(returned_at, MonoTime(milliseconds(50)));  // not a moment earlier
}

TEST(SimulatedClock, WaitersOnOneConditionVariableTimeOutSeparately) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> timed_out{0};
  auto wait = [&](int ms) {
    std::unique_lock lock(mu);
    if (!clock.WaitFor(lock, cv, milliseconds(ms), [] { return false; })) ++timed_out;
  };
  std::thread a(wait, 10), b(wait, 20);
  ASSERT_TRUE(clock.AwaitBlocked(2));
  clock.Advance(milliseconds(10));
  a.join();
  EXPECT_EQ(timed_out, 1);
  EXPECT_EQ(clock.blocked(), 1u);
  clock.Advance(milliseconds(10));
  b.join();
  EXPECT_EQ(timed_out, 2);
}

TEST(SimulatedClock, WaitWithoutDeadlineIsNotWokenByAdvance) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    EXPECT_TRUE(clock.WaitUntil(lock, cv, MonoTime::max(), [&] { return ready; }));
  });
  ASSERT_TRUE(clock.AwaitBlocked(1));
  clock.Advance(hours(24 * 365));
  EXPECT_EQ(clock.blocked(), 1u);
  {
    std::lock_guard lock(mu);
    ready = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(clock.blocked(), 0u);
}

TEST(SimulatedClock, WaitWhosePredicateIsAlreadyTrueDoesNotBlock) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  EXPECT_TRUE(clock.WaitFor(lock, cv, hours(1), [] { return true; }));
  EXPECT_FALSE(clock.WaitUntil(lock, cv, clock.Mono(), [] { return false; }));
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(SimulatedClock, AdvanceOnSleepJumpsToTheDeadlineAndRecordsIt) {
  SimulatedClock clock;
  clock.set_advance_on_sleep(true);
  const WallTime wall = clock.Now();
  clock.SleepFor(milliseconds(100));
  clock.SleepFor(milliseconds(250));
  EXPECT_EQ(clock.Mono(), MonoTime(milliseconds(350)));
  EXPECT_EQ(clock.Now(), wall + milliseconds(350));
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  EXPECT_FALSE(clock.WaitFor(lock, cv, milliseconds(50), [] { return false; }));
  EXPECT_EQ(clock.Mono(), MonoTime(milliseconds(400)));
  EXPECT_EQ(clock.sleeps(),
            (std::vector<Millis>{milliseconds(100), milliseconds(250), milliseconds(50)}));
}

TEST(SimulatedClock, AdvanceOnSleepWakesTheOthersItPasses) {
  SimulatedClock clock;
  std::thread other([&] { clock.SleepFor(milliseconds(30)); });
  ASSERT_TRUE(clock.AwaitBlocked(1));
  clock.set_advance_on_sleep(true);
  clock.SleepFor(milliseconds(40));
  other.join();
  EXPECT_EQ(clock.blocked(), 0u);
  EXPECT_EQ(clock.Mono(), MonoTime(milliseconds(40)));
}

TEST(SimulatedClock, AwaitBlockedGivesUpAfterItsTimeout) {
  SimulatedClock clock;
  EXPECT_FALSE(clock.AwaitBlocked(1, milliseconds(10)));
  EXPECT_TRUE(clock.AwaitBlocked(0, milliseconds(10)));
}

TEST(SimulatedClock, AdvanceStillMovesBackwardsWhenAskedTo) {
  SimulatedClock clock;
  clock.Advance(milliseconds(10));
  clock.Advance(milliseconds(-4));
  EXPECT_EQ(clock.Mono(), MonoTime(milliseconds(6)));
}

// Threads waiting and being woken over and over while the clock moves: no wake is lost (every
// thread finishes) and none deadlocks with the advancing thread.
TEST(SimulatedClock, ManyShortWaitsAgainstAConcurrentAdvancer) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  SimulatedClock clock;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::mutex mu;
      std::condition_variable cv;
      for (int r = 0; r < kRounds; ++r) {
        if ((r + i) % 2 == 0) {
          clock.SleepFor(milliseconds(1 + r % 3));
        } else {
          std::unique_lock lock(mu);
          clock.WaitFor(lock, cv, milliseconds(2), [] { return false; });
        }
      }
      ++done;
    });
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done < kThreads && std::chrono::steady_clock::now() < give_up) {
    clock.Advance(milliseconds(1));
    std::this_thread::yield();
  }
  EXPECT_EQ(done, kThreads) << "lost wake-ups: threads still blocked after 60 s";
  // Whatever happened, let them finish (every later wait jumps) rather than hang in join.
  clock.set_advance_on_sleep(true);
  clock.Advance(hours(1));
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.blocked(), 0u);
}

}  // namespace
}  // namespace outpost
