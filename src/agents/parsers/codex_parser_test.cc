#include <gtest/gtest.h>

#include "agents/parsers/parser.h"

namespace outpost {
namespace {

// Shapes as printed by `codex exec --json` (0.17x), trimmed.
constexpr std::string_view kSuccess =
    R"({"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Creating the file**"}}
{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'echo hi > hello.txt'","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'echo hi > hello.txt'","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Created `hello.txt`."}}
{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}
)";

TEST(CodexParser, SuccessfulTurnGivesTheAgentMessageAndUsage) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("codex-json", kSuccess, &events);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "Created `hello.txt`.");
  ASSERT_TRUE(r.has_usage);
  EXPECT_EQ(r.usage.input, 24763);
  EXPECT_EQ(r.usage.output, 122);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, AgentEvent::Kind::kToolCall);
  EXPECT_EQ(events[1].kind, AgentEvent::Kind::kToolResult);
  EXPECT_FALSE(events[1].is_error);
  EXPECT_EQ(events[2].kind, AgentEvent::Kind::kAssistant);
  EXPECT_EQ(events[3].kind, AgentEvent::Kind::kUsage);
}

TEST(CodexParser, UsageOfSeveralTurnsIsSummed) {
  std::string two = std::string(kSuccess) +
                    R"({"type":"turn.completed","usage":{"input_tokens":100,"output_tokens":7}})";
  AgentResult r = ParseAgentOutput("codex-json", two);
  EXPECT_EQ(r.usage.input, 24863);
  EXPECT_EQ(r.usage.output, 129);
}

TEST(CodexParser, FailedTurnIsAnAgentErrorWithItsMessage) {
  AgentResult r = ParseAgentOutput("codex-json", R"({"type":"thread.started","thread_id":"t"}
{"type":"turn.started"}
{"type":"error","message":"unexpected status 401 Unauthorized: Incorrect API key provided"}
{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: Incorrect API key provided"}}
)");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "unexpected status 401 Unauthorized: Incorrect API key provided");
  // No turn completed: it consumed nothing, which is usage, not an unknown.
  EXPECT_TRUE(r.has_usage);
  EXPECT_EQ(r.usage, (TokenUsage{0, 0}));
}

TEST(CodexParser, AFailedLaterTurnReportsTheCompletedTurnsUsage) {
  AgentResult r = ParseAgentOutput("codex-json", R"({"type":"thread.started","thread_id":"t"}
{"type":"turn.started"}
{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":0,"output_tokens":7}}
{"type":"turn.started"}
{"type":"turn.failed","error":{"message":"stream disconnected"}}
)");
  ASSERT_TRUE(r.error);
  ASSERT_TRUE(r.has_usage);
  EXPECT_EQ(r.usage, (TokenUsage{100, 7}));
}

TEST(CodexParser, ErrorEventFollowedByACompletedTurnIsNotAFailure) {
  AgentResult r = ParseAgentOutput("codex-json", R"({"type":"turn.started"}
{"type":"error","message":"Reconnecting... 1/5"}
{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"Done."}}
{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":2}}
)");
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "Done.");
}

TEST(CodexParser, TrailingErrorEventIsAnAgentError) {
  AgentResult r = ParseAgentOutput("codex-json", R"({"type":"turn.started"}
{"type":"error","message":"stream disconnected before completion"})");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "stream disconnected before completion");
}

}  // namespace
}  // namespace outpost
