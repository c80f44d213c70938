#include <gtest/gtest.h>

#include "agents/parsers/parser.h"

namespace outpost {
namespace {

// Shapes as printed by `gemini -p … -o stream-json` (gemini-cli 0.6x), trimmed.
constexpr std::string_view kSuccess =
    R"({"type":"init","timestamp":"2026-11-28T09:00:00.000Z","session_id":"s1","model":"gemini-3-pro-preview"}
{"type":"message","timestamp":"2026-11-28T09:00:00.100Z","role":"user","content":"Create hello.txt"}
{"type":"message","timestamp":"2026-11-28T09:00:01.000Z","role":"assistant","content":"I will create ","delta":true}
{"type":"message","timestamp":"2026-11-28T09:00:01.100Z","role":"assistant","content":"the file.","delta":true}
{"type":"tool_use","timestamp":"2026-11-28T09:00:01.200Z","tool_name":"write_file","tool_id":"write_file-1","parameters":{"file_path":"hello.txt","content":"hi"}}
{"type":"tool_result","timestamp":"2026-11-28T09:00:01.300Z","tool_id":"write_file-1","status":"success","output":"Successfully created and wrote to new file: /work/hello.txt."}
{"type":"message","timestamp":"2026-11-28T09:00:02.000Z","role":"assistant","content":"Created hello.txt.","delta":true}
{"type":"result","timestamp":"2026-11-28T09:00:02.100Z","status":"success","stats":{"total_tokens":9012,"input_tokens":8800,"output_tokens":212,"duration_ms":2100,"tool_calls":1}}
)";

TEST(GeminiParser, SuccessfulRunJoinsDeltasAndReadsStats) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("gemini-stream-json", kSuccess, &events);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "Created hello.txt.");
  ASSERT_TRUE(r.has_usage);
  EXPECT_EQ(r.usage.input, 8800);
  EXPECT_EQ(r.usage.output, 212);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].kind, AgentEvent::Kind::kAssistant);
  EXPECT_EQ(events[0].text, "I will create the file.");
  EXPECT_EQ(events[1].kind, AgentEvent::Kind::kToolCall);
  EXPECT_EQ(events[2].kind, AgentEvent::Kind::kToolResult);
  EXPECT_EQ(events[4].kind, AgentEvent::Kind::kUsage);
}

TEST(GeminiParser, ErrorResultIsAnAgentErrorWithItsMessage) {
  AgentResult r = ParseAgentOutput(
      "gemini-stream-json", R"({"type":"init","session_id":"s1","model":"gemini-3-pro-preview"}
{"type":"result","status":"error","error":{"type":"FatalAuthenticationError","message":"API key not valid. Please pass a valid API key."},"stats":{"total_tokens":0,"input_tokens":0,"output_tokens":0}}
)");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "API key not valid. Please pass a valid API key.");
}

TEST(GeminiParser, FailedToolCallIsAToolResultErrorNotARunError) {
  AgentResult r = ParseAgentOutput(
      "gemini-stream-json",
      R"({"type":"tool_result","tool_id":"t","status":"error","error":{"type":"invalid_tool_params","message":"File path must be within the workspace"}}
{"type":"error","severity":"warning","message":"Loop detected"}
{"type":"result","status":"success","stats":{"input_tokens":5,"output_tokens":1}}
)");
  EXPECT_FALSE(r.error);
}

// Captured from the real gemini-cli 0.61.0 (`-o stream-json`) against tests/fake_model_server
// (a write_file step, then "done"): its tool_result has no "output" for write_file.
constexpr std::string_view kRealWriteRun =
    R"__({"type":"init","timestamp":"2026-12-06T19:13:05.223Z","session_id":"464e8c37-1f0e-4820-83a7-91ef5a0cc46f","model":"gemini-3-pro-preview"}
{"type":"message","timestamp":"2026-12-06T19:13:05.236Z","role":"user","content":"hi"}
{"type":"tool_use","timestamp":"2026-12-06T19:13:05.646Z","tool_name":"write_file","tool_id":"write_file__write_file_1796584385438_0","parameters":{"file_path":"hello.txt","content":"hi\n"}}
{"type":"tool_result","timestamp":"2026-12-06T19:13:05.885Z","tool_id":"write_file__write_file_1796584385438_0","status":"success"}
{"type":"message","timestamp":"2026-12-06T19:13:05.957Z","role":"assistant","content":"do","delta":true}
{"type":"message","timestamp":"2026-12-06T19:13:05.958Z","role":"assistant","content":"ne","delta":true}
{"type":"result","timestamp":"2026-12-06T19:13:05.980Z","status":"success","stats":{"total_tokens":300,"input_tokens":240,"output_tokens":60,"cached":0,"input":240,"duration_ms":758,"tool_calls":1,"models":{"fake-model":{"total_tokens":300,"input_tokens":240,"output_tokens":60,"cached":0,"input":240}}}}
)__";

TEST(GeminiParser, RealOutputPairsTheCallAndGivesTheResultAText) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("gemini-stream-json", kRealWriteRun, &events);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "done");
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].kind, AgentEvent::Kind::kToolCall);
  EXPECT_EQ(events[0].tool_id, "write_file__write_file_1796584385438_0");
  EXPECT_EQ(events[0].tool_name, "write_file");
  EXPECT_EQ(events[0].tool_input, R"({"file_path":"hello.txt","content":"hi\n"})");
  EXPECT_EQ(events[1].kind, AgentEvent::Kind::kToolResult);
  EXPECT_EQ(events[1].tool_id, events[0].tool_id);
  EXPECT_EQ(events[1].text, "write_file succeeded (gemini reported no output)");
  EXPECT_FALSE(events[1].is_error);
}

}  // namespace
}  // namespace outpost
