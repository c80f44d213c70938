#include "cli/duration.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace outpost::cli
