#include "cli/duration.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace outpost::cli {
namespace {

TEST(ParseDuration, UnitsAndBareSeconds) {
  const Millis lo(0), hi(86'400'000);
  EXPECT_EQ(*ParseDuration("300s", lo, hi), Millis(300'000));
  EXPECT_EQ(*ParseDuration("5m", lo, hi), Millis(300'000));
  EXPECT_EQ(*ParseDuration("1h", lo, hi), Millis(3'600'000));
  EXPECT_EQ(*ParseDuration("250ms", lo, hi), Millis(250));
  EXPECT_EQ(*ParseDuration("2.5", lo, hi), Millis(2'500));
}

TEST(ParseDuration, RefusesGarbageAndOutOfRange) {
  for (const char* bad : {"", "s", "5 m", "-1s", "1d", "fast", "1e999"}) {
    auto d = ParseDuration(bad, Millis(0), Millis(1'000'000));
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
  }
  auto small = ParseDuration("10ms", Millis(1'000), Millis(5'000));
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().message(), "'10ms' must be from 1000 ms to 5000 ms");
}

TEST(ParseDuration, DaysToo) {
  EXPECT_EQ(*ParseDuration("2d", Millis(0), Millis(std::int64_t{7} * 86'400'000)),
            Millis(172'800'000));
}

TEST(ParseSince, ADurationAgoOrATime) {
  const WallTime now = FromMillis(1'800'000'000'000);
  EXPECT_EQ(*ParseSince("10m", now), now - Millis(600'000));
  EXPECT_EQ(*ParseSince("7d", now), now - Millis(std::int64_t{7} * 86'400'000));
  EXPECT_EQ(*ParseSince("2026-01-13", now), *ParseTime("2026-01-13"));
  EXPECT_EQ(*ParseSince("2026-01-13T08:00:00+01:00", now), *ParseTime("2026-01-13T07:00:00Z"));
  for (const char* bad : {"", "yesterday", "-5m", "2026-13-45"}) {
    auto t = ParseSince(bad, now);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("duration ago"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace outpost::cli
