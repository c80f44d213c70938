// The Retrier's schedule on a simulated clock: what is retried, how long it waits, when it gives
// up. Nothing here sleeps for real.
#include "aws/retry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace outpost::aws {
namespace {

// The retrier runs inline: each backoff moves the simulated clock (clock.sleeps() lists them).
struct InlineClock {
  InlineClock() { clock.set_advance_on_sleep(true); }
  SimulatedClock clock;
};

TEST(Retrier, RetriesUnavailableUntilSuccess) {
  InlineClock s;
  Retrier r(RetryPolicy{}, s.clock, [] { return 0.5; });
  int calls = 0;
  auto out = r.Run<int>("op", [&]() -> Result<int> {
    if (++calls < 3) return Unavailable("503");
    return 42;
  });
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(s.clock.sleeps().size(), 2u);
}

TEST(Retrier, OtherErrorsAreNotRetried) {
  InlineClock s;
  Retrier r(RetryPolicy{}, s.clock);
  for (Code c : {Code::kInvalidArgument, Code::kNotFound, Code::kPermissionDenied,
                 Code::kFailedPrecondition, Code::kInternal}) {
    int calls = 0;
    Status st = r.RunStatus("op", [&] {
      ++calls;
      return Status(c, "no");
    });
    EXPECT_EQ(st.code(), c);
    EXPECT_EQ(calls, 1);
  }
  EXPECT_TRUE(s.clock.sleeps().empty());
}

TEST(Retrier, GivesUpWithUnavailableNamingTheAttempts) {
  InlineClock s;
  RetryPolicy p;
  p.max_attempts = 4;
  Retrier r(p, s.clock);
  int calls = 0;
  Status st = r.RunStatus("S3 GetObject s3://b/k", [&] {
    ++calls;
    return Unavailable("HTTP 503 SlowDown");
  });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(s.clock.sleeps().size(), 3u);
  EXPECT_NE(st.message().find("gave up after 4 attempts"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("SlowDown"), std::string::npos);
}

TEST(Retrier, BackoffIsExponentialJitteredAndCapped) {
  SimulatedClock clock;
  RetryPolicy p;
  p.base_delay = Millis(100);
  p.max_delay = Millis(1000);
  Retrier low(p, clock, [] { return 0.0; });
  Retrier high(p, clock, [] { return 0.999999; });
  EXPECT_EQ(low.Delay(1), Millis(50));
  EXPECT_EQ(low.Delay(2), Millis(100));
  EXPECT_EQ(low.Delay(3), Millis(200));
  EXPECT_EQ(low.Delay(10), Millis(500));
  EXPECT_EQ(high.Delay(1), Millis(99));
  EXPECT_EQ(high.Delay(4), Millis(799));
  EXPECT_EQ(high.Delay(30), Millis(999));
  Retrier real(p, clock);
  for (int i = 0; i < 100; ++i) {
    Millis d = real.Delay(2);
    EXPECT_GE(d, Millis(100));
    EXPECT_LT(d, Millis(200));
  }
}

TEST(Retrier, StopsWhenTheElapsedBudgetWouldBeExceeded) {
  InlineClock s;
  RetryPolicy p;
  p.max_attempts = 100;
  p.base_delay = Millis(1000);
  p.max_delay = Millis(1000);
  p.max_elapsed = Millis(3000);
  Retrier r(p, s.clock, [] { return 0.999; });
  int calls = 0;
  Status st = r.RunStatus("op", [&] {
    ++calls;
    return Unavailable("down");
  });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 4);  // sleeps of ~999 ms: a 4th would end after 3 s
  EXPECT_LE(s.clock.Mono().time_since_epoch(), std::chrono::milliseconds(3000));
}

// On its own thread, as in the server: the retrier blocks on the clock for exactly each backoff.
TEST(Retrier, EachRetryWaitsItsBackoffOnTheClock) {
  SimulatedClock clock;
  RetryPolicy p;
  p.base_delay = Millis(100);
  Retrier r(p, clock, [] { return 0.5; });  // delays 75, 150, 300 ms
  std::atomic<int> calls{0};
  Status result = Internal("not run");
  std::thread t([&] {
    result = r.RunStatus("op", [&] { return ++calls < 4 ? Unavailable("503") : Status::Ok(); });
  });
  MonoTime at = clock.Mono();
  for (Millis delay : {Millis(75), Millis(150), Millis(300)}) {
    ASSERT_TRUE(clock.AwaitBlocked(1));
    const int before = calls;
    at += delay;
    EXPECT_EQ(clock.NextDeadline(), at);
    clock.Advance(delay - Millis(1));
    EXPECT_EQ(clock.blocked(), 1u);
    EXPECT_EQ(calls, before);
    clock.Advance(Millis(1));
  }
  t.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(calls, 4);
}

TEST(RetryClassification, ThrottlingCodesAndStatuses) {
  for (const char* c :
       {"SlowDown", "Throttling", "ThrottlingException", "ProvisionedThroughputExceededException",
        "RequestLimitExceeded", "TooManyRequestsException"}) {
    EXPECT_TRUE(IsThrottlingCode(c)) << c;
  }
  EXPECT_FALSE(IsThrottlingCode("AccessDenied"));
  EXPECT_FALSE(IsThrottlingCode("NoSuchKey"));
  EXPECT_TRUE(IsRetryableHttpStatus(429));
  EXPECT_TRUE(IsRetryableHttpStatus(500));
  EXPECT_TRUE(IsRetryableHttpStatus(503));
  for (int s : {200, 400, 403, 404, 409, 412}) EXPECT_FALSE(IsRetryableHttpStatus(s)) << s;
}

}  // namespace
}  // namespace outpost::aws
