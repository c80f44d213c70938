#include "agents/parsers/parser.h"

#include "agents/parsers/formats.h"

namespace outpost {

AgentEvent ToolCallEvent(std::string id, std::string name, std::string input_json,
                         std::string summary) {
  AgentEvent e;
  e.kind = AgentEvent::Kind::kToolCall;
  e.text = summary.empty() ? name : name + " " + summary;
  e.tool_id = std::move(id);
  e.tool_name = std::move(name);
  e.tool_input = std::move(input_json);
  return e;
}

AgentEvent ToolResultEvent(std::string id, std::string output, bool is_error) {
  AgentEvent e = Event(AgentEvent::Kind::kToolResult, std::move(output), is_error);
  e.tool_id = std::move(id);
  return e;
}

AgentEvent RetryEvent(std::string message, std::int64_t attempt, std::int64_t max_attempts,
                      std::int64_t delay_ms) {
  AgentEvent e = Event(AgentEvent::Kind::kRetry, std::move(message));
  e.attempt = attempt;
  e.max_attempts = max_attempts;
  e.delay_ms = delay_ms;
  return e;
}

bool IsKnownParser(std::string_view name) { return MakeParser(name) != nullptr; }

std::unique_ptr<OutputParser> MakeParser(std::string_view name) {
  using namespace parsers;
  if (name == "claude-stream-json") return std::make_unique<ClaudeParser>();
  if (name == "codex-json") return std::make_unique<CodexParser>();
  if (name == "gemini-stream-json") return std::make_unique<GeminiParser>();
  if (name == "aider-text") return std::make_unique<AiderParser>();
  if (name == "grok") return std::make_unique<GrokParser>();
  if (name == "plain") return std::make_unique<PlainParser>();
  return nullptr;
}

AgentResult ParseAgentOutput(std::string_view parser, std::string_view output,
                             std::vector<AgentEvent>* events) {
  std::unique_ptr<OutputParser> p = MakeParser(parser);
  if (!p) p = std::make_unique<parsers::PlainParser>();
  while (!output.empty()) {
    std::size_t nl = output.find('\n');
    p->Line(output.substr(0, nl));
    output = nl == std::string_view::npos ? std::string_view{} : output.substr(nl + 1);
  }
  AgentResult r = p->Finish();
  if (events) *events = p->events();
  return r;
}

}  // namespace outpost
