#include "common/time_util.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

TEST(Time, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTime(FromMillis(1'768'262'400'123)), "2026-01-13T00:00:00.123Z");
}

TEST(Time, ParsesWhatItFormats) {
  WallTime t = FromMillis(1'768'262'400'123);
  EXPECT_EQ(ParseTime(FormatTime(t)), t);
}

TEST(Time, ParsesDatesOffsetsAndSecondsOnly) {
  EXPECT_EQ(ParseTime("2026-01-13"), FromMillis(1'768'262'400'000));
  EXPECT_EQ(ParseTime("2026-01-13T01:00:00+01:00"), FromMillis(1'768'262'400'000));
  EXPECT_EQ(ParseTime("2026-01-13T00:00:00Z"), FromMillis(1'768'262'400'000));
}

TEST(Time, RejectsMalformedTimes) {
  for (const char* s :
       {"", "yesterday", "2026-13-01", "2026-01-13T00:00:00", "2026-01-13T25:00:00Z",
        "2026-01-13T00:00:00Zjunk", "2026-1-13", "2026-01-13T00:00:00.Z"}) {
    EXPECT_FALSE(ParseTime(s).has_value()) << s;
  }
}

}  // namespace
}  // namespace outpost
