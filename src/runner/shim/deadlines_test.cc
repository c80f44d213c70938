#include "runner/shim/deadlines.h"

#include <gtest/gtest.h>

namespace outpost::shim {
namespace {

using std::chrono::seconds;

TEST(ShimDeadlines, TotalDeadlineExpiresExactlyAtTimeout) {
  SimulatedClock clock;
  const MonoTime start = clock.Mono();
  Deadlines d = MakeDeadlines(start, 10, std::nullopt);
  clock.Advance(seconds(10) - Millis(1));
  EXPECT_EQ(CheckDeadlines(d, clock.Mono(), start, true), Expired::kNone);
  EXPECT_EQ(PollTimeoutMs(d, clock.Mono(), start, true, 60'000), 1);
  clock.Advance(Millis(1));
  EXPECT_EQ(CheckDeadlines(d, clock.Mono(), start, true), Expired::kTotal);
  EXPECT_EQ(PollTimeoutMs(d, clock.Mono(), start, true, 60'000), 0);
}

TEST(ShimDeadlines, InactivityCountsFromTheLastOutput) {
  SimulatedClock clock;
  const MonoTime start = clock.Mono();
  Deadlines d = MakeDeadlines(start, 600, 5);
  clock.Advance(seconds(4));
  const MonoTime last_output = clock.Mono();
  clock.Advance(seconds(4));
  EXPECT_EQ(CheckDeadlines(d, clock.Mono(), last_output, true), Expired::kNone);
  EXPECT_EQ(PollTimeoutMs(d, clock.Mono(), last_output, true, 60'000), 1000);
  clock.Advance(seconds(1));
  EXPECT_EQ(CheckDeadlines(d, clock.Mono(), last_output, true), Expired::kInactive);
}

TEST(ShimDeadlines, InactivityIsIgnoredWhileNotWatched) {
  SimulatedClock clock;
  const MonoTime start = clock.Mono();
  Deadlines d = MakeDeadlines(start, 600, 5);
  clock.Advance(seconds(60));
  EXPECT_EQ(CheckDeadlines(d, clock.Mono(), start, false), Expired::kNone);
  EXPECT_EQ(PollTimeoutMs(d, clock.Mono(), start, false, 1000), 1000);
}

TEST(ShimDeadlines, TotalWinsWhenBothHaveExpired) {
  SimulatedClock clock;
  const MonoTime start = clock.Mono();
  Deadlines d = MakeDeadlines(start, 2, 1);
  clock.Advance(seconds(3));
  EXPECT_EQ(CheckDeadlines(d, clock.Mono(), start, true), Expired::kTotal);
}

TEST(ShimDeadlines, PollTimeoutRoundsUpSubMillisecondRemainders) {
  SimulatedClock clock;
  const MonoTime start = clock.Mono();
  Deadlines d = MakeDeadlines(start, 1, std::nullopt);
  clock.Advance(seconds(1) - std::chrono::microseconds(300));
  EXPECT_EQ(PollTimeoutMs(d, clock.Mono(), start, true), 1);
}

TEST(ShimDeadlines, ZeroInactivityMeansNone) {
  Deadlines d = MakeDeadlines(MonoTime{}, 10, 0);
  EXPECT_FALSE(d.inactivity.has_value());
}

}  // namespace
}  // namespace outpost::shim
