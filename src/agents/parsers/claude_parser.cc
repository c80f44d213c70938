// claude -p --output-format stream-json --verbose: one JSON object a line.
//   {"type":"system","subtype":"init",...}
//   {"type":"assistant","message":{"content":[{"type":"text","text"},{"type":"tool_use","name",
//     "input"}],"usage":{...}}}
//   {"type":"user","message":{"content":[{"type":"tool_result","tool_use_id","content",
//     "is_error"}]}}    (tool_use carries "id"; its result names it in tool_use_id)
//   {"type":"system","subtype":"api_retry","attempt","max_retries","retry_delay_ms",
//     "error_status","error"}   a provider error claude retries
//   {"type":"result","subtype":"success"|"error_*","is_error","result","usage":{...},
//     "total_cost_usd", "permission_denials":[{"tool_name","tool_input"}]}
// The result's usage is the run's total; per-message usage is only a fallback when the run
// ended without a result line (killed, crashed). Cache reads and writes count as input.
#include "agents/parsers/formats.h"
#include "agents/parsers/json_lines.h"

namespace outpost::parsers {
namespace json = boost::json;
namespace {

TokenUsage UsageOf(const json::object& u) {
  return {Int(u, "input_tokens") + Int(u, "cache_creation_input_tokens") +
              Int(u, "cache_read_input_tokens"),
          Int(u, "output_tokens")};
}

std::string ToolResultText(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (part.is_object()) out += Str(part.get_object(), "text");
    }
  }
  return out;
}

}  // namespace

void ClaudeParser::Line(std::string_view line) {
  auto o = ParseObjectLine(line);
  if (!o) return;
  std::string type = Str(*o, "type");
  if (type == "assistant" || type == "user") {
    Message(*o, type == "assistant");
  } else if (type == "system" && Str(*o, "subtype") == "api_retry") {
    std::string why = Str(*o, "error");
    if (std::int64_t status = Int(*o, "error_status"); status > 0) {
      why = "HTTP " + std::to_string(status) + (why.empty() ? "" : " " + why);
    }
    Emit(RetryEvent(why.empty() ? "provider error" : why, Int(*o, "attempt"),
                    Int(*o, "max_retries"), Int(*o, "retry_delay_ms")));
  } else if (type == "result") {
    Result(*o);
  }
}

void ClaudeParser::Message(const json::object& o, bool assistant) {
  const json::object* msg = Obj(o, "message");
  if (!msg) return;
  if (assistant) {
    if (const json::object* u = Obj(*msg, "usage")) {
      // Streamed assistant lines of one API message repeat its id and usage: count it once.
      std::string id = Str(*msg, "id");
      if (id.empty() || id != last_message_id_) {
        TokenUsage t = UsageOf(*u);
        message_usage_.input += t.input;
        message_usage_.output += t.output;
      }
      last_message_id_ = id;
    }
  }
  auto it = msg->find("content");
  if (it == msg->end() || !it->value().is_array()) return;
  for (const auto& part : it->value().get_array()) {
    if (!part.is_object()) continue;
    const auto& p = part.get_object();
    std::string kind = Str(p, "type");
    if (kind == "text" && assistant) {
      last_text_ = Str(p, "text");
      Emit(Event(AgentEvent::Kind::kAssistant, last_text_));
    } else if (kind == "tool_use") {
      auto input = p.find("input");
      std::string id = Str(p, "id");
      Emit(ToolCallEvent(id.empty() ? NextToolId() : id, Str(p, "name"), JsonField(p, "input"),
                         input != p.end() ? Summary(input->value()) : ""));
    } else if (kind == "tool_result") {
      auto content = p.find("content");
      Emit(ToolResultEvent(Str(p, "tool_use_id"),
                           content != p.end() ? ToolResultText(content->value()) : "",
                           Bool(p, "is_error")));
    }
  }
}

void ClaudeParser::Result(const json::object& o) {
  saw_result_ = true;
  std::string text = Str(o, "result");
  if (!text.empty()) last_text_ = text;
  if (const json::object* u = Obj(o, "usage")) {
    result_.usage = UsageOf(*u);
    result_.has_usage = true;
    Emit(UsageEvent(result_.usage.input, result_.usage.output));
  }
  // What claude itself says the run cost: its own price list, cache reads and writes included.
  if (auto c = o.find("total_cost_usd"); c != o.end() && c->value().is_number()) {
    result_.cost_usd = c->value().to_number<double>();
  }
  std::string subtype = Str(o, "subtype");
  if (Bool(o, "is_error") || subtype.starts_with("error")) {
    std::string why = !text.empty() ? text : "claude reported an error (" + subtype + ")";
    result_.error = why;
    Emit(Event(AgentEvent::Kind::kError, why));
    return;
  }
  // Without permission the tool is refused and yet the run "succeeds": it did not do the job.
  auto denials = o.find("permission_denials");
  if (denials != o.end() && denials->value().is_array() && !denials->value().get_array().empty()) {
    std::string tools;
    for (const auto& d : denials->value().get_array()) {
      if (!d.is_object()) continue;
      std::string name = Str(d.get_object(), "tool_name");
      if (!name.empty() && tools.find(name) == std::string::npos) {
        tools += (tools.empty() ? "" : ", ") + name;
      }
    }
    std::string why = "claude was denied permission to use " +
                      (tools.empty() ? std::string("a tool") : tools) + " (" +
                      std::to_string(denials->value().get_array().size()) + " denial(s))";
    result_.error = why;
    Emit(Event(AgentEvent::Kind::kError, why));
  }
}

AgentResult ClaudeParser::Live() const {
  AgentResult live = result_;
  if (!saw_result_ && (message_usage_.input > 0 || message_usage_.output > 0)) {
    live.usage = message_usage_;
    live.has_usage = true;
  }
  return live;
}

AgentResult ClaudeParser::Finish() {
  if (!saw_result_ && (message_usage_.input > 0 || message_usage_.output > 0)) {
    result_.usage = message_usage_;
    result_.has_usage = true;
  }
  result_.final_message = FinalMessage(last_text_);
  return result_;
}

}  // namespace outpost::parsers
