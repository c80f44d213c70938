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

// Captured from the real claude 2.1.332 (`-p --output-format stream-json --verbose`) against
// tests/fake_model_server (a Write step, then "done"; the init line left out).
constexpr std::string_view kRealWriteRun =
    R"__({"type":"assistant","message":{"id":"msg_mxc7xyg60","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"tool_use","id":"toolu_mxc7xyg61","name":"Write","input":{"file_path":"hello.txt","content":"hi\n"}}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":120,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"context_management":null},"parent_tool_use_id":null,"session_id":"d197e7b3-e19c-4096-9cfd-2888608c3da8","uuid":"5dfc8708-201e-4d39-a65d-69df03c25d35","timestamp":"2026-12-06T19:12:42.923Z"}
{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_mxc7xyg61","type":"tool_result","content":"File created successfully at: hello.txt (file state is current in your context — no need to Read it back)"}]},"parent_tool_use_id":null,"session_id":"d197e7b3-e19c-4096-9cfd-2888608c3da8","uuid":"1e427d98-7a12-443c-abcd-f9e73752d608","timestamp":"2026-12-06T19:12:43.062Z","tool_use_result":{"type":"create","filePath":"hello.txt","content":"hi\n","structuredPatch":[],"originalFile":null,"userModified":false},"tool_result_meta":[{"id":"toolu_mxc7xyg61","permission_decision":{"decision":"accept","source":"config","reason_type":"mode"}}]}
{"type":"assistant","message":{"id":"msg_mxc7xym12","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"done"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":120,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"context_management":null},"parent_tool_use_id":null,"session_id":"d197e7b3-e19c-4096-9cfd-2888608c3da8","uuid":"2eb258da-85f7-43eb-9b3c-1431a1247a37","timestamp":"2026-12-06T19:12:43.137Z"}
{"duration_api_ms":157,"stop_reason":"end_turn","session_id":"d197e7b3-e19c-4096-9cfd-2888608c3da8","total_cost_usd":0.00216,"usage":{"input_tokens":240,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":60,"output_tokens_details":{"thinking_tokens":0},"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":"standard","cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"inference_geo":"","iterations":[],"speed":"standard","fallback_credit":null},"modelUsage":{"claude-opus-5-5":{"inputTokens":240,"outputTokens":60,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"webSearchRequests":0,"costUSD":0.00216,"contextWindow":1000000,"maxOutputTokens":128000,"thinkingTokens":0,"cacheCreationEphemeral5mInputTokens":0,"cacheCreationEphemeral1hInputTokens":0,"canonicalModel":"claude-opus-5-5","provider":"firstParty","costBasis":"list"}},"permission_denials":[],"terminal_reason":"completed","fast_mode_state":"off","fast_mode_disabled_reason":"sdk_opt_in_required","subagent_stats":{"spawned":0,"requested":{"background":0,"foreground":0,"unset":0},"started_in_background":0,"max_depth":0,"spawned_by_subagents":0,"completed":0,"failed":0,"killed":{"parent":0,"user":0,"system":0},"refused":{"depth_limit":0,"concurrency_limit":0,"budget":0},"by_type":{}},"safety_stops":0,"is_error":false,"num_turns":2,"subtype":"success","api_error_status":null,"result":"done","ttft_ms":271,"type":"result","duration_ms":504,"uuid":"72dabde2-1fbe-4608-9001-caa7f979cabe","ttft_stream_ms":265,"time_to_request_ms":214,"first_content_frame_ms":266,"queued_turn_count":0,"result_index":0,"model_usage_since_last_result":{"claude-opus-5-5":{"inputTokens":240,"outputTokens":60,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"webSearchRequests":0,"costUSD":0.00216,"contextWindow":1000000,"maxOutputTokens":128000,"thinkingTokens":0,"cacheCreationEphemeral5mInputTokens":0,"cacheCreationEphemeral1hInputTokens":0,"canonicalModel":"claude-opus-5-5","provider":"firstParty","costBasis":"list"}}}
)__";
// … and with CLAUDE_CODE_MAX_RETRIES=1 against a 500: its retry notice.
constexpr std::string_view kRealRetry =
    R"__({"type":"system","subtype":"api_retry","attempt":1,"max_retries":1,"retry_delay_ms":546,"error_status":500,"error":"server_error","session_id":"64343ba0-0e38-4d9c-b993-27279e4e1367","uuid":"44cbf6b1-e5e7-4448-a8a5-59569b376d4e"}
)__";

TEST(ClaudeParser, RealOutputPairsTheToolCallWithItsResultById) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("claude-stream-json", kRealWriteRun, &events);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "done");
  std::vector<AgentEvent> tools;
  for (const AgentEvent& e : events) {
    if (e.kind == AgentEvent::Kind::kToolCall || e.kind == AgentEvent::Kind::kToolResult)
      tools.push_back(e);
  }
  ASSERT_EQ(tools.size(), 2u);
  EXPECT_EQ(tools[0].kind, AgentEvent::Kind::kToolCall);
  EXPECT_TRUE(tools[0].tool_id.starts_with("toolu_")) << tools[0].tool_id;
  EXPECT_EQ(tools[0].tool_name, "Write");
  EXPECT_EQ(tools[0].tool_input, R"({"file_path":"hello.txt","content":"hi\n"})");
  EXPECT_EQ(tools[1].kind, AgentEvent::Kind::kToolResult);
  EXPECT_EQ(tools[1].tool_id, tools[0].tool_id);
  EXPECT_TRUE(tools[1].text.starts_with("File created successfully at: hello.txt"))
      << tools[1].text;
  EXPECT_FALSE(tools[1].is_error);
}

TEST(ClaudeParser, AnApiRetryLineIsARetryEventNotAnError) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("claude-stream-json", kRealRetry, &events);
  EXPECT_FALSE(r.error);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AgentEvent::Kind::kRetry);
  EXPECT_EQ(events[0].text, "HTTP 500 server_error");
  EXPECT_EQ(events[0].attempt, 1);
  EXPECT_EQ(events[0].max_attempts, 1);
  EXPECT_EQ(events[0].delay_ms, 546);
}

}  // namespace
}  // namespace outpost
