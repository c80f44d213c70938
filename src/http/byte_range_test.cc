#include "http/byte_range.h"

#include <gtest/gtest.h>

namespace outpost::http {
namespace {

using Kind = RangeDecision::Kind;

void ExpectPartial(std::string_view header, std::int64_t size, std::int64_t first,
                   std::int64_t length) {
  RangeDecision d = ResolveRange(header, size);
  EXPECT_EQ(d.kind, Kind::kPartial) << header;
  EXPECT_EQ(d.first, first) << header;
  EXPECT_EQ(d.length, length) << header;
}

TEST(ResolveRange, NoHeaderIsTheWhole) {
  EXPECT_EQ(ResolveRange(std::nullopt, 10).kind, Kind::kFull);
}

TEST(ResolveRange, ClosedOpenAndSuffixRanges) {
  ExpectPartial("bytes=0-0", 10, 0, 1);
  ExpectPartial("bytes=2-5", 10, 2, 4);
  ExpectPartial("bytes=9-9", 10, 9, 1);
  ExpectPartial("bytes=4-", 10, 4, 6);
  ExpectPartial("bytes=-3", 10, 7, 3);
  ExpectPartial(" Bytes=1-2 ", 10, 1, 2);
}

TEST(ResolveRange, LastBytePastTheEndIsClamped) {
  ExpectPartial("bytes=5-100", 10, 5, 5);
  ExpectPartial("bytes=-100", 10, 0, 10);
}

TEST(ResolveRange, FirstBytePastTheEndIsUnsatisfiable) {
  EXPECT_EQ(ResolveRange("bytes=10-", 10).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ResolveRange("bytes=10-20", 10).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ResolveRange("bytes=-0", 10).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ResolveRange("bytes=0-", 0).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ResolveRange("bytes=-5", 0).kind, Kind::kUnsatisfiable);
}

TEST(ResolveRange, MalformedOrMultiRangeHeadersServeTheWhole) {
  for (const char* header :
       {"bytes=5-2", "bytes=a-b", "bytes=-", "bytes=", "items=0-1", "bytes=0-1,3-4", "bytes 0-1",
        "bytes=1-2-3", "bytes = 1-2", "bytes=99999999999999999999-", "bytes=--1"}) {
    EXPECT_EQ(ResolveRange(header, 10).kind, Kind::kFull) << header;
  }
}

}  // namespace
}  // namespace outpost::http
