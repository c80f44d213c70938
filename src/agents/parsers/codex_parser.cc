// codex exec --json: one JSON object a line (codex 0.17x).
//   {"type":"thread.started","thread_id"}  {"type":"turn.started"}
//   {"type":"item.started"|"item.updated"|"item.completed","item":{"id","type",...}} with item
//     types agent_message {text}, reasoning {text}, command_execution {command,
//     aggregated_output, exit_code, status}, file_change {changes[{path, kind}]}, mcp_tool_call
//     {server, tool, status}, web_search {query}, error {message} (a non-fatal warning)
//   {"type":"turn.completed","usage":{"input_tokens","cached_input_tokens","output_tokens"}}
//   {"type":"turn.failed","error":{"message"}}   {"type":"error","message"}
// Usage is per turn and summed; cached input tokens are part of input_tokens already. A run
// whose turn failed reports the completed turns' sum (0 when none completed). An
// `error` event is fatal unless a turn still completes after it (codex reports stream retries
// that way). Those retries ("Reconnecting... 2/5 (…)", "… retrying …") are retry events.
// Tool calls are paired by the item id: item.started emits the call, item.completed the result
// (an item first seen completed emits both).
#include "agents/parsers/formats.h"
#include "agents/parsers/json_lines.h"

namespace outpost::parsers {
namespace json = boost::json;

void CodexParser::Line(std::string_view line) {
  auto o = ParseObjectLine(line);
  if (!o) return;
  std::string type = Str(*o, "type");
  if (type == "thread.started") started_ = true;
  if (type == "item.started" || type == "item.completed") {
    if (const json::object* item = Obj(*o, "item")) Item(*item, type == "item.completed");
  } else if (type == "turn.completed") {
    pending_error_.reset();
    if (const json::object* u = Obj(*o, "usage")) {
      AgentEvent e = UsageEvent(Int(*u, "input_tokens"), Int(*u, "output_tokens"));
      result_.usage.input += e.input_tokens;
      result_.usage.output += e.output_tokens;
      result_.has_usage = true;
      Emit(std::move(e));
    }
  } else if (type == "turn.failed") {
    const json::object* err = Obj(*o, "error");
    std::string why = err ? Str(*err, "message") : "";
    result_.error = why.empty() ? "codex: the turn failed" : why;
    Emit(Event(AgentEvent::Kind::kError, *result_.error));
  } else if (type == "error") {
    std::string why = Str(*o, "message");
    pending_error_ = why.empty() ? "codex reported an error" : why;
    std::int64_t attempt = 0, max = 0;
    if (why.starts_with("Reconnecting") || why.find("retrying") != std::string::npos) {
      AttemptOf(why, attempt, max);
      Emit(RetryEvent(why, attempt, max, 0));
      return;
    }
    Emit(Event(AgentEvent::Kind::kError, *pending_error_));
  }
}

void CodexParser::Item(const json::object& item, bool completed) {
  std::string type = Str(item, "type");
  std::string id = Str(item, "id");
  if (id.empty()) id = NextToolId();
  // The call once (at item.started, or at item.completed for an item never seen started).
  auto call = [&](std::string name, json::object input, std::string summary) {
    if (!open_calls_.insert(id).second) return;
    Emit(ToolCallEvent(id, std::move(name), JsonText(input), std::move(summary)));
  };
  auto result = [&](std::string output, bool failed) {
    open_calls_.erase(id);
    Emit(ToolResultEvent(id, std::move(output), failed));
  };
  if (type == "agent_message" && completed) {
    last_message_ = Str(item, "text");
    Emit(Event(AgentEvent::Kind::kAssistant, last_message_));
  } else if (type == "command_execution") {
    call("exec", {{"command", Str(item, "command")}}, Str(item, "command"));
    if (!completed) return;
    auto code = item.find("exit_code");
    bool failed = Str(item, "status") == "failed" ||
                  (code != item.end() && code->value().is_int64() && code->value().get_int64());
    std::string output = Str(item, "aggregated_output");
    if (output.empty() && code != item.end() && code->value().is_int64()) {
      output = "(no output; exit code " + std::to_string(code->value().get_int64()) + ")";
    }
    result(std::move(output), failed);
  } else if (type == "file_change" && completed) {
    std::string paths;
    json::array changes_in;
    auto changes = item.find("changes");
    if (changes != item.end() && changes->value().is_array()) {
      for (const auto& c : changes->value().get_array()) {
        if (c.is_object()) {
          paths += (paths.empty() ? "" : ", ") + Str(c.get_object(), "kind") + " " +
                   Str(c.get_object(), "path");
          changes_in.push_back(c);
        }
      }
    }
    call("patch", {{"changes", std::move(changes_in)}}, paths);
    result(Str(item, "status"), Str(item, "status") == "failed");
  } else if (type == "mcp_tool_call") {
    call(Str(item, "server") + "." + Str(item, "tool"), {}, "");
    if (completed) result(Str(item, "status"), Str(item, "status") == "failed");
  } else if (type == "web_search" && completed) {
    call("web_search", {{"query", Str(item, "query")}}, Str(item, "query"));
    result("searched", false);
  }
}

AgentResult CodexParser::Finish() {
  if (!result_.error && pending_error_) result_.error = pending_error_;
  // A failed turn carries no usage: the run consumed what its completed turns reported (none
  // before the first one completes), which is a figure, not an unknown.
  if (result_.error && started_) result_.has_usage = true;
  result_.final_message = FinalMessage(last_message_);
  return result_;
}

}  // namespace outpost::parsers
