// gemini -p … -o stream-json: one JSON object a line (gemini-cli 0.6x).
//   {"type":"init","session_id","model"}
//   {"type":"message","role":"user"|"assistant","content","delta":true}  assistant text
//     arrives in deltas; consecutive deltas form one message
//   {"type":"tool_use","tool_name","tool_id","parameters"}
//   {"type":"tool_result","tool_id","status":"success"|"error","output","error":{"message"}}
//     `output` is absent when the tool's display is not text (write_file shows a diff object):
//     the result then says what it did, from the call ("wrote hello.txt") or its status
//   {"type":"error","severity":"warning"|"error","message"}
// gemini reports its own retries of a provider error on stderr only ("Attempt N failed …"),
// which no parser sees: its runs have no retry events.
//   {"type":"result","status":"success"|"error","error":{"type","message"},
//     "stats":{"total_tokens","input_tokens","output_tokens","duration_ms","tool_calls"}}
#include "agents/parsers/formats.h"
#include "agents/parsers/json_lines.h"

namespace outpost::parsers {
namespace json = boost::json;

void GeminiParser::Line(std::string_view line) {
  auto o = ParseObjectLine(line);
  if (!o) return;
  std::string type = Str(*o, "type");
  if (type == "message") {
    if (Str(*o, "role") != "assistant") return;
    if (!Bool(*o, "delta")) EndMessage();
    current_ += Str(*o, "content");
    if (!Bool(*o, "delta")) EndMessage();
    return;
  }
  EndMessage();
  if (type == "tool_use") {
    auto params = o->find("parameters");
    std::string id = Str(*o, "tool_id");
    if (id.empty()) id = NextToolId();
    calls_[id] = Str(*o, "tool_name");
    Emit(ToolCallEvent(id, Str(*o, "tool_name"), JsonField(*o, "parameters"),
                       params != o->end() ? Summary(params->value()) : ""));
  } else if (type == "tool_result") {
    bool failed = Str(*o, "status") == "error";
    const json::object* err = Obj(*o, "error");
    std::string output = failed && err ? Str(*err, "message") : Str(*o, "output");
    std::string id = Str(*o, "tool_id");
    if (output.empty()) {
      auto call = calls_.find(id);
      std::string name = call != calls_.end() ? call->second : "tool";
      output = name + (failed ? " failed" : " succeeded") + " (gemini reported no output)";
    }
    calls_.erase(id);
    Emit(ToolResultEvent(id, output, failed));
  } else if (type == "error") {
    Emit(Event(AgentEvent::Kind::kError, Str(*o, "message")));
    if (Str(*o, "severity") == "error") result_.error = Str(*o, "message");
  } else if (type == "result") {
    Result(*o);
  }
}

void GeminiParser::Result(const json::object& o) {
  if (const json::object* stats = Obj(o, "stats")) {
    result_.usage = {Int(*stats, "input_tokens"), Int(*stats, "output_tokens")};
    result_.has_usage = true;
    Emit(UsageEvent(result_.usage.input, result_.usage.output));
  }
  if (Str(o, "status") == "success") {
    result_.error.reset();  // warnings and retried errors before a successful end
    return;
  }
  const json::object* err = Obj(o, "error");
  std::string why = err ? Str(*err, "message") : "";
  result_.error = why.empty() ? "gemini reported an error (" + Str(o, "status") + ")" : why;
  Emit(Event(AgentEvent::Kind::kError, *result_.error));
}

void GeminiParser::EndMessage() {
  if (current_.empty()) return;
  last_message_ = std::move(current_);
  current_.clear();
  Emit(Event(AgentEvent::Kind::kAssistant, last_message_));
}

AgentResult GeminiParser::Finish() {
  EndMessage();
  result_.final_message = FinalMessage(last_message_);
  return result_;
}

}  // namespace outpost::parsers
