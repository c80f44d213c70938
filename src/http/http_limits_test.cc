#include "http/http_limits.h"

#include <gtest/gtest.h>

namespace outpost::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

TEST(BodyDeadline, GraceThenOneSecondPerMinRateBytes) {
  TimeLimits t;
  t.body_timeout = 10s;
  t.body_min_rate = 1000;
  const steady_clock::time_point start{};
  EXPECT_EQ(BodyDeadline(start, 0, t), start + 10s);
  EXPECT_EQ(BodyDeadline(start, 1, t), start + 10s + 1ms);
  EXPECT_EQ(BodyDeadline(start, 5000, t), start + 15s);
}

TEST(BodyDeadline, ZeroRateIsAFixedDeadline) {
  TimeLimits t;
  t.body_timeout = 3s;
  t.body_min_rate = 0;
  const steady_clock::time_point start{};
  EXPECT_EQ(BodyDeadline(start, 1 << 30, t), start + 3s);
}

TEST(ConnectionLimitFor, KeepsTheConfiguredLimitWhenDescriptorsSuffice) {
  EXPECT_EQ(FdsNeededFor(1024), 1024 * kFdsPerConnection + kFdReserve);
  EXPECT_EQ(ConnectionLimitFor(1024, FdsNeededFor(1024)), 1024u);
  EXPECT_EQ(ConnectionLimitFor(1024, 1 << 20), 1024u);
}

TEST(ConnectionLimitFor, LowersTheLimitBelowTheDescriptorLimit) {
  // 1024 descriptors (a common default): the reserve first, two per connection.
  EXPECT_EQ(ConnectionLimitFor(1024, 1024), (1024 - kFdReserve) / kFdsPerConnection);
  // Tiny limits still leave descriptors for the rest of the process, and one connection.
  EXPECT_EQ(ConnectionLimitFor(1024, 100), 25u);
  EXPECT_EQ(ConnectionLimitFor(1024, 1), 1u);
}

}  // namespace
}  // namespace outpost::http
