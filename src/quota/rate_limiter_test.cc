// The token bucket stepped with a simulated clock, to the millisecond.
#include "quota/rate_limiter.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace outpost {
namespace {

TEST(RateLimiter, ABurstUpToTheLimitThenRefusedUntilOneTokenIsBack) {
  SimulatedClock clock;  // wall time 1'700'000'000 s
  RateLimiter limiter(clock);
  for (int i = 0; i < 3; ++i) {
    RateDecision d = limiter.Acquire("key:a", 3);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 3);
    EXPECT_EQ(d.remaining, 2 - i);
  }
  RateDecision refused = limiter.Acquire("key:a", 3);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.current, 3);
  EXPECT_EQ(refused.retry_after_seconds, 20);  // 3 per minute: one every 20 s
  EXPECT_EQ(refused.reset_at, 1'700'000'000 + 60);
  clock.Advance(Millis(19'999));
  refused = limiter.Acquire("key:a", 3);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);  // 1 ms left, rounded up
  clock.Advance(Millis(1));
  RateDecision again = limiter.Acquire("key:a", 3);
  EXPECT_TRUE(again.allowed);
  EXPECT_EQ(again.remaining, 0);
  EXPECT_FALSE(limiter.Acquire("key:a", 3).allowed);
}

TEST(RateLimiter, BucketsAreIndependent) {
  SimulatedClock clock;
  RateLimiter limiter(clock);
  EXPECT_TRUE(limiter.Acquire("key:a", 1).allowed);
  EXPECT_FALSE(limiter.Acquire("key:a", 1).allowed);
  EXPECT_TRUE(limiter.Acquire("key:b", 1).allowed);
  EXPECT_TRUE(limiter.Acquire("tenant:a", 1).allowed);
}

TEST(RateLimiter, AnIdleBucketRefillsToTheLimitNotBeyond) {
  SimulatedClock clock;
  RateLimiter limiter(clock);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.Acquire("k", 60).allowed);
  clock.Advance(std::chrono::hours(1));
  int allowed = 0;
  while (limiter.Acquire("k", 60).allowed) ++allowed;
  EXPECT_EQ(allowed, 60);
}

TEST(RateLimiter, FullBucketsAreDroppedPastTheBound) {
  SimulatedClock clock;
  RateLimiter limiter(clock, /*max_buckets=*/4);
  for (int i = 0; i < 4; ++i) limiter.Acquire("k" + std::to_string(i), 10);
  EXPECT_EQ(limiter.buckets(), 4u);
  clock.Advance(std::chrono::seconds(6));  // one token back each: full again
  limiter.Acquire("new", 10);
  EXPECT_EQ(limiter.buckets(), 1u);
  EXPECT_EQ(limiter.Acquire("new", 10).remaining, 8) << "the new bucket's first request counted";
}

}  // namespace
}  // namespace outpost
