#include <gtest/gtest.h>

#include "agents/parsers/parser.h"

namespace outpost {
namespace {

TEST(GrokParser, EventsOfTheBuiltInAgentGiveMessageUsageAndFileEvents) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("grok", R"({"type":"assistant","text":"Here is hello.txt"}
{"type":"file_written","path":"hello.txt","bytes":3}
{"type":"file_refused","path":"../etc/passwd","reason":"path escapes the workspace"}
{"type":"usage","input_tokens":1500,"output_tokens":320}
{"type":"result","status":"success","files_applied":1}
)",
                                   &events);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "Here is hello.txt");
  EXPECT_EQ(r.usage.input, 1500);
  EXPECT_EQ(r.usage.output, 320);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_FALSE(events[2].is_error);
  EXPECT_TRUE(events[4].is_error);
  EXPECT_EQ(events[4].text, "path escapes the workspace");
  // Each file block: a "write" call and its result, paired by id.
  EXPECT_EQ(events[1].tool_name, "write");
  EXPECT_EQ(events[1].tool_input, R"({"path":"hello.txt"})");
  EXPECT_EQ(events[2].tool_id, events[1].tool_id);
  EXPECT_EQ(events[4].tool_id, events[3].tool_id);
  EXPECT_NE(events[1].tool_id, events[3].tool_id);
}

TEST(GrokParser, ErrorEventIsAnAgentErrorWithItsMessage) {
  AgentResult r =
      ParseAgentOutput("grok", R"({"type":"error","message":"HTTP 401: Incorrect API key"}
{"type":"result","status":"error","files_applied":0}
)");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "HTTP 401: Incorrect API key");
}

}  // namespace
}  // namespace outpost
