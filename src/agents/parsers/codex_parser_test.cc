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

// Captured from the real codex 0.171.0 (`exec --json`) against tests/fake_model_server: a write
// through exec_command, then "done"; and a 500 with stream_max_retries=2.
constexpr std::string_view kRealWriteRun =
    R"__({"type":"thread.started","thread_id":"01a24cc6-3e34-77e0-a80b-be221498b1cd"}
{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `gpt-5` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc \"printf '%s' 'hi\n' > 'hello.txt'\"","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc \"printf '%s' 'hi\n' > 'hello.txt'\"","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"done"}}
{"type":"turn.completed","usage":{"input_tokens":240,"cached_input_tokens":0,"cache_write_input_tokens":0,"output_tokens":60,"reasoning_output_tokens":0}}
)__";
constexpr std::string_view kRealRetries =
    R"__({"type":"thread.started","thread_id":"01a24cc6-5089-78d2-ad6f-ed3a18425a34"}
{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `gpt-5` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}
{"type":"turn.started"}
{"type":"error","message":"Reconnecting... 1/2 (We’re currently experiencing high demand, which may cause temporary errors.)"}
{"type":"error","message":"Reconnecting... 2/2 (We’re currently experiencing high demand, which may cause temporary errors.)"}
{"type":"error","message":"We’re currently experiencing high demand, which may cause temporary errors."}
{"type":"turn.failed","error":{"message":"We’re currently experiencing high demand, which may cause temporary errors."}}
)__";

TEST(CodexParser, RealOutputPairsTheCommandWithItsResultByItemId) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("codex-json", kRealWriteRun, &events);
  EXPECT_FALSE(r.error);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].kind, AgentEvent::Kind::kToolCall);
  EXPECT_EQ(events[0].tool_id, "item_1");
  EXPECT_EQ(events[0].tool_name, "exec");
  EXPECT_EQ(events[0].tool_input,
            R"({"command":"/bin/bash -lc \"printf '%s' 'hi\n' > 'hello.txt'\""})");
  EXPECT_EQ(events[1].kind, AgentEvent::Kind::kToolResult);
  EXPECT_EQ(events[1].tool_id, "item_1");
  EXPECT_EQ(events[1].text, "(no output; exit code 0)");
  EXPECT_FALSE(events[1].is_error);
  int calls = 0;
  for (const AgentEvent& e : events) calls += e.kind == AgentEvent::Kind::kToolCall;
  EXPECT_EQ(calls, 1);  // item.started and item.completed: one call
}

TEST(CodexParser, ReconnectingLinesAreRetryEventsAndTheFinalFailureAnError) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("codex-json", kRealRetries, &events);
  ASSERT_TRUE(r.error);
  std::vector<AgentEvent> retries;
  for (const AgentEvent& e : events) {
    if (e.kind == AgentEvent::Kind::kRetry) retries.push_back(e);
  }
  ASSERT_EQ(retries.size(), 2u);
  EXPECT_EQ(retries[0].attempt, 1);
  EXPECT_EQ(retries[0].max_attempts, 2);
  EXPECT_EQ(retries[1].attempt, 2);
  EXPECT_TRUE(retries[1].text.starts_with("Reconnecting... 2/2")) << retries[1].text;
  EXPECT_EQ(events.back().kind, AgentEvent::Kind::kError);
}

}  // namespace
}  // namespace outpost
