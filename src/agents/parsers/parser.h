// Output parsers: each turns one agent's stdout into the common event stream (assistant
// messages, tool calls, tool results, usage, errors) and an AgentResult — the final message,
// the token usage and, when the agent itself reported a failure (an error result, a refused
// permission), that failure's message.
//
// Formats (AgentOptions::parser): claude-stream-json (`claude -p --output-format stream-json
// --verbose`), codex-json (`codex exec --json`), gemini-stream-json (`gemini -o stream-json`),
// aider-text (aider's console text), grok (agents/grok_events.h), plain (any text).
//
// Parsers are tolerant: lines that are not the format (banners, partial lines, unknown event
// types) are skipped, never an error. Not thread-safe; one parser per output.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpost {

struct AgentEvent {
  // kRetry: the agent reports a provider error it is retrying (not a failure of the run).
  enum class Kind { kAssistant, kToolCall, kToolResult, kUsage, kError, kRetry };
  Kind kind = Kind::kAssistant;
  std::string text;       // message, tool name (+ input summary), tool output, error message
  bool is_error = false;  // kToolResult: the tool failed
  std::int64_t input_tokens = 0;   // kUsage
  std::int64_t output_tokens = 0;  // kUsage
  // kToolCall / kToolResult: the id pairing a call with its result (the agent's own id when it
  // has one, else "t1", "t2", … numbered by the parser), the tool's name and (kToolCall) its
  // input as serialized JSON ("" when the agent reports none).
  std::string tool_id;
  std::string tool_name;
  std::string tool_input;
  // kRetry: which attempt comes next and of how many, the wait before it (0 = unknown).
  std::int64_t attempt = 0;
  std::int64_t max_attempts = 0;
  std::int64_t delay_ms = 0;
};

inline AgentEvent Event(AgentEvent::Kind kind, std::string text, bool is_error = false) {
  AgentEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.is_error = is_error;
  return e;
}

// A tool call: `text` is "name summary-of-input" (for a one-line view).
AgentEvent ToolCallEvent(std::string id, std::string name, std::string input_json,
                         std::string summary);
AgentEvent ToolResultEvent(std::string id, std::string output, bool is_error);
AgentEvent RetryEvent(std::string message, std::int64_t attempt, std::int64_t max_attempts,
                      std::int64_t delay_ms);

inline AgentEvent UsageEvent(std::int64_t input_tokens, std::int64_t output_tokens) {
  AgentEvent e;
  e.kind = AgentEvent::Kind::kUsage;
  e.input_tokens = input_tokens;
  e.output_tokens = output_tokens;
  return e;
}

struct TokenUsage {
  std::int64_t input = 0;
  std::int64_t output = 0;
  bool operator==(const TokenUsage&) const = default;
};

struct AgentResult {
  std::string final_message;
  TokenUsage usage;
  bool has_usage = false;            // the output reported token counts
  std::optional<double> cost_usd;    // the agent's own figure for the run's cost (claude)
  std::optional<std::string> error;  // the agent reported a failure (exit code aside)
};

class OutputParser {
 public:
  virtual ~OutputParser() = default;
  // One line of output without its newline.
  virtual void Line(std::string_view line) = 0;
  // After the last line: the result. Call once.
  virtual AgentResult Finish() { return result_; }
  const std::vector<AgentEvent>& events() const { return events_; }
  // The usage reported so far, while the output is still coming (the shim's live cost: a run
  // over its maxCostUsd is stopped). Tokens as the result would count them if the output ended
  // here; cost_usd only when the agent reported one (claude: at its very end, in its result).
  virtual AgentResult Live() const { return result_; }
  // The events emitted since the last call, for a caller that streams them (the shim).
  std::vector<AgentEvent> TakeEvents() { return std::exchange(events_, {}); }

 protected:
  void Emit(AgentEvent e) { events_.push_back(std::move(e)); }
  // An id for a tool call the agent gave none: "t1", "t2", …
  std::string NextToolId() { return "t" + std::to_string(++tool_ids_); }
  AgentResult result_;

 private:
  std::vector<AgentEvent> events_;
  std::int64_t tool_ids_ = 0;
};

// Known parser names, as in the config.
bool IsKnownParser(std::string_view name);
// nullptr for an unknown name.
std::unique_ptr<OutputParser> MakeParser(std::string_view name);
// Feeds `output` line by line (a last line without newline included). An unknown parser name
// parses as plain. `events`, when given, receives the event stream.
AgentResult ParseAgentOutput(std::string_view parser, std::string_view output,
                             std::vector<AgentEvent>* events = nullptr);

// The final message kept on a run is at most this long (its tail).
inline constexpr std::size_t kMaxFinalMessageBytes = 16 * 1024;

}  // namespace outpost
