#include <gtest/gtest.h>

#include "agents/parsers/parser.h"

namespace outpost {
namespace {

// Shapes as printed by claude 2.1 (`-p --output-format stream-json --verbose`), trimmed.
constexpr std::string_view kInit =
    R"({"type":"system","subtype":"init","cwd":"/work","session_id":"9f1c","tools":["Write","Bash"],"model":"claude-opus-4-5-20251101","permissionMode":"bypassPermissions"})";
constexpr std::string_view kAssistantToolUse =
    R"({"type":"assistant","message":{"id":"msg_01A","type":"message","role":"assistant","model":"claude-opus-4-5-20251101","content":[{"type":"text","text":"I'll create the file."},{"type":"tool_use","id":"toolu_01X","name":"Write","input":{"file_path":"/work/hello.txt","content":"hi\n"}}],"stop_reason":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":1200,"cache_read_input_tokens":0,"output_tokens":60}},"parent_tool_use_id":null,"session_id":"9f1c"})";
constexpr std::string_view kToolResult =
    R"({"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01X","type":"tool_result","content":"File created successfully at: /work/hello.txt"}]},"parent_tool_use_id":null,"session_id":"9f1c"})";
constexpr std::string_view kAssistantDone =
    R"({"type":"assistant","message":{"id":"msg_01B","type":"message","role":"assistant","content":[{"type":"text","text":"Created hello.txt."}],"usage":{"input_tokens":5,"cache_read_input_tokens":1200,"output_tokens":8}},"parent_tool_use_id":null,"session_id":"9f1c"})";
constexpr std::string_view kResultOk =
    R"({"type":"result","subtype":"success","is_error":false,"duration_ms":5120,"num_turns":3,"result":"Created hello.txt.","session_id":"9f1c","total_cost_usd":0.0421,"usage":{"input_tokens":8,"cache_creation_input_tokens":1200,"cache_read_input_tokens":1200,"output_tokens":68,"service_tier":"standard"},"permission_denials":[]})";

std::string Lines(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (auto l : lines) out.append(l).push_back('\n');
  return out;
}

TEST(ClaudeParser, SuccessfulRunGivesFinalMessageAndTotalUsageFromTheResult) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput(
      "claude-stream-json",
      Lines({kInit, kAssistantToolUse, kToolResult, kAssistantDone, kResultOk}), &events);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "Created hello.txt.");
  ASSERT_TRUE(r.has_usage);
  EXPECT_EQ(r.usage.input, 8 + 1200 + 1200);  // cache writes and reads are input too
  EXPECT_EQ(r.usage.output, 68);
  ASSERT_TRUE(r.cost_usd);  // claude's own figure (total_cost_usd)
  EXPECT_DOUBLE_EQ(*r.cost_usd, 0.0421);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].kind, AgentEvent::Kind::kAssistant);
  EXPECT_EQ(events[1].kind, AgentEvent::Kind::kToolCall);
  EXPECT_NE(events[1].text.find("Write"), std::string::npos);
  EXPECT_EQ(events[2].kind, AgentEvent::Kind::kToolResult);
  EXPECT_EQ(events[2].text, "File created successfully at: /work/hello.txt");
  EXPECT_EQ(events[4].kind, AgentEvent::Kind::kUsage);
}

TEST(ClaudeParser, ErrorResultIsAnAgentErrorWithItsMessage) {
  AgentResult r = ParseAgentOutput(
      "claude-stream-json",
      Lines(
          {kInit,
           R"({"type":"result","subtype":"success","is_error":true,"duration_ms":310,"num_turns":1,"result":"Invalid API key · Please run /login","session_id":"9f1c","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}})"}));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "Invalid API key · Please run /login");
}

TEST(ClaudeParser, ErrorSubtypeWithoutTextStillFails) {
  AgentResult r = ParseAgentOutput(
      "claude-stream-json",
      R"({"type":"result","subtype":"error_max_turns","is_error":false,"num_turns":10,"usage":{"input_tokens":10,"output_tokens":2}})");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("error_max_turns"), std::string::npos);
}

TEST(ClaudeParser, PermissionDenialIsAnAgentErrorNamingTheTool) {
  AgentResult r = ParseAgentOutput(
      "claude-stream-json",
      Lines(
          {kInit,
           R"({"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"Claude requested permissions to write to /work/hello.txt, but you haven't granted it yet.","is_error":true,"tool_use_id":"toolu_01X"}]}})",
           R"({"type":"result","subtype":"success","is_error":false,"result":"I need permission to write the file.","usage":{"input_tokens":20,"output_tokens":30},"permission_denials":[{"tool_name":"Write","tool_use_id":"toolu_01X","tool_input":{"file_path":"/work/hello.txt","content":"hi"}}]})"}));
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("denied permission to use Write"), std::string::npos) << *r.error;
  EXPECT_EQ(r.final_message, "I need permission to write the file.");
}

TEST(ClaudeParser, WithoutAResultLineUsageIsSummedOncePerMessage) {
  // The same API message may be printed on several lines: its usage counts once.
  AgentResult r =
      ParseAgentOutput("claude-stream-json",
                       Lines({"not json", kAssistantToolUse, kAssistantToolUse, kAssistantDone}));
  EXPECT_FALSE(r.error);
  ASSERT_TRUE(r.has_usage);
  EXPECT_EQ(r.usage.input, 1203 + 1205);
  EXPECT_EQ(r.usage.output, 68);
  EXPECT_EQ(r.final_message, "Created hello.txt.");
}

// Issue 18 item 11: while claude runs, its live usage is the per-message usage so far (what a
// maxCostUsd is checked against); once its result line came, the result's totals and cost.
TEST(ClaudeParser, LiveUsageIsThePerMessageUsageUntilTheResult) {
  std::unique_ptr<OutputParser> p = MakeParser("claude-stream-json");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->Live().has_usage);
  p->Line(kInit);
  p->Line(kAssistantToolUse);
  AgentResult live = p->Live();
  ASSERT_TRUE(live.has_usage);
  EXPECT_EQ(live.usage.input, 3 + 1200);
  EXPECT_EQ(live.usage.output, 60);
  EXPECT_FALSE(live.cost_usd);
  p->Line(kToolResult);
  p->Line(kAssistantDone);
  live = p->Live();
  EXPECT_EQ(live.usage.input, 3 + 1200 + 5 + 1200);
  EXPECT_EQ(live.usage.output, 68);
  p->Line(kResultOk);
  live = p->Live();
  EXPECT_EQ(live.usage.input, 8 + 1200 + 1200);
  ASSERT_TRUE(live.cost_usd);
  EXPECT_DOUBLE_EQ(*live.cost_usd, 0.0421);
}

}  // namespace
}  // namespace outpost
