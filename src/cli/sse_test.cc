#include "cli/sse.h"

#include <gtest/gtest.h>

namespace outpost::cli {
namespace {

std::vector<SseEvent> FeedInPieces(std::string_view stream, std::size_t piece) {
  SseParser p;
  std::vector<SseEvent> out;
  for (std::size_t i = 0; i < stream.size(); i += piece) p.Feed(stream.substr(i, piece), out);
  return out;
}

TEST(SseParser, EventsSurviveAnyChunkingAndCommentsAreSkipped) {
  const std::string stream =
      "retry: 1000\n\n"
      ": heartbeat\n\n"
      "id: 1\nevent: output\ndata: {\"a\":1}\n\n"
      "id: 2\r\nevent: end\r\ndata: x\r\ndata: y\r\n\r\n"
      "id: 3\rdata:no-space\r\r";
  for (std::size_t piece : {1u, 2u, 5u, 1000u}) {
    std::vector<SseEvent> events = FeedInPieces(stream, piece);
    ASSERT_EQ(events.size(), 3u) << piece;
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[0].event, "output");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].event, "end");
    EXPECT_EQ(events[1].data, "x\ny");
    EXPECT_EQ(events[2].id, "3");
    EXPECT_EQ(events[2].event, "message");
    EXPECT_EQ(events[2].data, "no-space");
  }
}

TEST(SseParser, AnUnfinishedEventIsNotDispatched) {
  std::vector<SseEvent> events = FeedInPieces("id: 7\nevent: output\ndata: {}\n", 3);
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace outpost::cli
