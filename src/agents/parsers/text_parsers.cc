// The text formats: aider's console output and plain text.
//
// aider prints, after each model reply, a line like
//   Tokens: 4,532 sent, 1,234 received. Cost: $0.01 message, $0.02 session.
// (newer versions abbreviate: "Tokens: 4.5k sent, 1.2k cache hit, 12k received.") — summed over
// the run. A model API failure surfaces as a "litellm.<Kind>Error: …" line; one aider retries
// is followed by "Retrying in 0.2 seconds..." (a retry event, and the failure is not final).
// An edit it applied prints "Applied edit to PATH" (a tool call "edit" and its result).
#include <cctype>
#include <cmath>

#include "agents/parsers/formats.h"
#include "agents/parsers/json_lines.h"

namespace outpost::parsers {
namespace {

// "4,532" -> 4532, "4.5k" -> 4500, "12k" -> 12000, "1.2M" -> 1200000; nullopt otherwise.
std::optional<std::int64_t> AiderCount(std::string_view s) {
  std::string digits;
  double scale = 1;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      digits += c;
    } else if (c == ',') {
      continue;
    } else if ((c == 'k' || c == 'K') && scale == 1) {
      scale = 1e3;
    } else if ((c == 'm' || c == 'M') && scale == 1) {
      scale = 1e6;
    } else {
      return std::nullopt;
    }
  }
  if (digits.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(v * scale));
}

// The "<count> <label>" parts of a "Tokens: …" line, up to the first '.' that ends it.
bool ParseTokensLine(std::string_view line, TokenUsage& out) {
  constexpr std::string_view kPrefix = "Tokens: ";
  if (!line.starts_with(kPrefix)) return false;
  line.remove_prefix(kPrefix.size());
  if (auto end = line.find(". "); end != std::string_view::npos) line = line.substr(0, end);
  if (line.ends_with('.')) line.remove_suffix(1);
  TokenUsage t;
  bool any = false;
  while (!line.empty()) {
    std::size_t comma = line.find(", ");
    std::string_view part = line.substr(0, comma);
    line = comma == std::string_view::npos ? std::string_view{} : line.substr(comma + 2);
    std::size_t sp = part.find(' ');
    if (sp == std::string_view::npos) continue;
    auto n = AiderCount(part.substr(0, sp));
    std::string_view label = part.substr(sp + 1);
    if (!n) continue;
    if (label == "sent") t.input += *n, any = true;
    if (label == "received") t.output += *n, any = true;
  }
  if (!any) return false;
  out = t;
  return true;
}

}  // namespace

void AiderParser::Line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  TokenUsage t;
  if (ParseTokensLine(line, t)) {
    result_.usage.input += t.input;
    result_.usage.output += t.output;
    result_.has_usage = true;
    Emit(UsageEvent(t.input, t.output));
    return;
  }
  constexpr std::string_view kApplied = "Applied edit to ";
  constexpr std::string_view kRetrying = "Retrying in ";
  if (line.starts_with(kApplied)) {
    std::string path(line.substr(kApplied.size()));
    std::string id = NextToolId();
    boost::json::object input{{"path", path}};
    Emit(ToolCallEvent(id, "edit", JsonText(input), path));
    Emit(ToolResultEvent(id, std::string(line), false));
  } else if (line.starts_with(kRetrying)) {
    std::string_view rest = line.substr(kRetrying.size());
    double seconds = std::strtod(std::string(rest).c_str(), nullptr);
    Emit(RetryEvent(result_.error.value_or("provider error"), 0, 0,
                    static_cast<std::int64_t>(std::llround(seconds * 1000))));
    result_.error.reset();  // retried: not final unless it fails again
  }
  if (line.starts_with("litellm.") && line.find("Error") != std::string_view::npos) {
    result_.error = std::string(line);
    Emit(Event(AgentEvent::Kind::kError, std::string(line)));
  }
  text_.append(line).push_back('\n');
  if (text_.size() > 2 * kMaxFinalMessageBytes)
    text_.erase(0, text_.size() - kMaxFinalMessageBytes);
}

AgentResult AiderParser::Finish() {
  result_.final_message = FinalMessage(text_);
  if (!result_.final_message.empty()) {
    Emit(Event(AgentEvent::Kind::kAssistant, result_.final_message));
  }
  return result_;
}

void PlainParser::Line(std::string_view line) {
  tail_.append(line).push_back('\n');
  if (tail_.size() > 2 * kMaxFinalMessageBytes)
    tail_.erase(0, tail_.size() - kMaxFinalMessageBytes);
}

AgentResult PlainParser::Finish() {
  result_.final_message = FinalMessage(tail_);
  return result_;
}

}  // namespace outpost::parsers
