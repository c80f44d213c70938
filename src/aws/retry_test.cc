// The Retrier's schedule on a simulated clock: what is retried, how long it waits, when it gives
// up. Nothing here sleeps for real.
#include "aws/retry.h"

#include <gtest/gtest.h>

namespace outpost::aws {
namespace {

// Records each sleep and advances the simulated clock by it.
struct FakeSleeper {
  SimulatedClock clock;
  std::vector<Millis> sleeps;
  Sleeper fn() {
    return [this](Millis d) {
      sleeps.push_back(d);
      clock.Advance(d);
    };
  }
};

TEST(Retrier, RetriesUnavailableUntilSuccess) {
  FakeSleeper s;
  Retrier r(RetryPolicy{}, s.clock, s.fn(), [] { return 0.5; });
  int calls = 0;
  auto out = r.Run<int>("op", [&]() -> Result<int> {
    if (++calls < 3) return Unavailable("503");
    return 42;
  });
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(s.sleeps.size(), 2u);
}

TEST(Retrier, OtherErrorsAreNotRetried) {
  FakeSleeper s;
  Retrier r(RetryPolicy{}, s.clock, s.fn());
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
  EXPECT_TRUE(s.sleeps.empty());
}

TEST(Retrier, GivesUpWithUnavailableNamingTheAttempts) {
  FakeSleeper s;
  RetryPolicy p;
  p.max_attempts = 4;
  Retrier r(p, s.clock, s.fn());
  int calls = 0;
  Status st = r.RunStatus("S3 GetObject s3://b/k", [&] {
    ++calls;
    return Unavailable("HTTP 503 SlowDown");
  });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(s.sleeps.size(), 3u);
  EXPECT_NE(st.message().find("gave up after 4 attempts"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("SlowDown"), std::string::npos);
}

TEST(Retrier, BackoffIsExponentialJitteredAndCapped) {
  SimulatedClock clock;
  RetryPolicy p;
  p.base_delay = Millis(100);
  p.max_delay = Millis(1000);
  Retrier low(p, clock, nullptr, [] { return 0.0; });
  Retrier high(p, clock, nullptr, [] { return 0.999999; });
  EXPECT_EQ(low.Delay(1), Millis(50));
  EXPECT_EQ(low.Delay(2), Millis(100));
  EXPECT_EQ(low.Delay(3), Millis(200));
  EXPECT_EQ(low.Delay(10), Millis(500));
  EXPECT_EQ(high.Delay(1), Millis(99));
  EXPECT_EQ(high.Delay(4), Millis(799));
  EXPECT_EQ(high.Delay(30), Millis(999));
  Retrier real(p, clock, nullptr);
  for (int i = 0; i < 100; ++i) {
    Millis d = real.Delay(2);
    EXPECT_GE(d, Millis(100));
    EXPECT_LT(d, Millis(200));
  }
}

TEST(Retrier, StopsWhenTheElapsedBudgetWouldBeExceeded) {
  FakeSleeper s;
  RetryPolicy p;
  p.max_attempts = 100;
  p.base_delay = Millis(1000);
  p.max_delay = Millis(1000);
  p.max_elapsed = Millis(3000);
  Retrier r(p, s.clock, s.fn(), [] { return 0.999; });
  int calls = 0;
  Status st = r.RunStatus("op", [&] {
    ++calls;
    return Unavailable("down");
  });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 4);  // sleeps of ~999 ms: a 4th would end after 3 s
  EXPECT_LE(s.clock.Mono().time_since_epoch(), std::chrono::milliseconds(3000));
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
