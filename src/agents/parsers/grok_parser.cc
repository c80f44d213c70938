// The built-in grok agent's JSON lines; the format is defined in agents/grok_events.h.
#include "agents/grok_events.h"
#include "agents/parsers/formats.h"
#include "agents/parsers/json_lines.h"

namespace outpost::parsers {
namespace ev = outpost::agents::grok_events;

void GrokParser::Line(std::string_view line) {
  auto o = ParseObjectLine(line);
  if (!o) return;
  std::string type = Str(*o, "type");
  if (type == ev::kAssistant) {
    last_message_ = Str(*o, "text");
    Emit(Event(AgentEvent::Kind::kAssistant, last_message_));
  } else if (type == ev::kFileWritten || type == ev::kFileRefused) {
    // A file block is the grok agent's one tool: a call and its result at once.
    std::string id = NextToolId();
    boost::json::object input{{"path", Str(*o, "path")}};
    Emit(ToolCallEvent(id, "write", JsonText(input), Str(*o, "path")));
    if (type == ev::kFileWritten) {
      Emit(ToolResultEvent(id, std::to_string(Int(*o, "bytes")) + " bytes written", false));
    } else {
      Emit(ToolResultEvent(id, Str(*o, "reason"), true));
    }
  } else if (type == ev::kUsage) {
    // Totals over the run, emitted once.
    result_.usage = {Int(*o, "input_tokens"), Int(*o, "output_tokens")};
    result_.has_usage = true;
    Emit(UsageEvent(result_.usage.input, result_.usage.output));
  } else if (type == ev::kError) {
    std::string why = Str(*o, "message");
    result_.error = why.empty() ? "grok reported an error" : why;
    Emit(Event(AgentEvent::Kind::kError, *result_.error));
  } else if (type == ev::kResult && Str(*o, "status") == ev::kStatusError && !result_.error) {
    result_.error = "grok reported an error";
    Emit(Event(AgentEvent::Kind::kError, *result_.error));
  }
}

AgentResult GrokParser::Finish() {
  result_.final_message = FinalMessage(last_message_);
  return result_;
}

}  // namespace outpost::parsers
