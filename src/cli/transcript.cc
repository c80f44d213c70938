#include "cli/transcript.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "common/encoding.h"
#include "common/json_util.h"

namespace outpost::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kGreen = "\x1b[32m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kBlue = "\x1b[34m";
constexpr std::string_view kCyan = "\x1b[36m";

// The first line of `text` (trimmed) and how many more lines follow.
std::pair<std::string, int> FirstLine(std::string_view text) {
  while (!text.empty() && (text.front() == '\n' || text.front() == ' ' || text.front() == '\r'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
    text.remove_suffix(1);
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return {std::string(text), 0};
  int more = 0;
  for (std::size_t i = nl; i < text.size(); ++i) more += text[i] == '\n';
  std::string first(text.substr(0, nl));
  if (!first.empty() && first.back() == '\r') first.pop_back();
  return {first, more};
}

std::string Folded(std::string_view text) {
  auto [first, more] = FirstLine(text);
  if (more > 0) first += " (+" + std::to_string(more) + (more == 1 ? " line)" : " lines)");
  return first;
}

// A short argument of a tool call: the first of the usual keys, else the whole input.
std::string ShortArgument(const json::object& e) {
  const json::value* input = e.if_contains("input");
  if (input != nullptr && input->is_object()) {
    const json::object& in = input->as_object();
    for (std::string_view key : {"command", "cmd", "file_path", "path", "pattern", "query", "url",
                                 "description", "prompt"}) {
      if (auto v = GetString(in, key); v && !v->empty()) return *v;
    }
    if (in.empty()) return "";
    return json::serialize(in);
  }
  if (input != nullptr && input->is_string()) return std::string(input->as_string());
  // An event of an older server: "name summary" in `text`.
  std::string text = GetString(e, "text").value_or("");
  std::string name = GetString(e, "name").value_or("");
  if (!name.empty() && text.starts_with(name)) text = text.substr(name.size());
  return text;
}

std::string Flat(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

// Terminal escape sequences and other control characters out of text from the agent (it must
// not move the cursor or recolour the terminal); ESC [ … letter sequences are dropped whole.
std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {
      if (i + 1 < s.size() && s[i + 1] == '[') {
        i += 2;
        while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      }
      continue;
    }
    if (c < 0x20 && c != '\t') continue;
    if (c == 0x7f) continue;
    out += s[i];
  }
  return out;
}

std::string Seconds(std::int64_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  std::string s = std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100);
  return s + " s";
}

}  // namespace

TranscriptStyle TerminalStyleOf(bool tty) {
  TranscriptStyle s;
  if (!tty) return s;
  const char* no_color = std::getenv("NO_COLOR");
  s.color = no_color == nullptr || *no_color == '\0';
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    s.width = ws.ws_col;
  } else if (const char* cols = std::getenv("COLUMNS"); cols && std::atoi(cols) > 0) {
    s.width = std::atoi(cols);
  } else {
    s.width = 80;
  }
  return s;
}

std::string Transcript::Cut(std::string_view text, int width) {
  if (width <= 0) return std::string(text);
  // Columns = UTF-8 characters (wide characters count one: a line may end a little early).
  std::size_t chars = 0, i = 0, cut = std::string_view::npos;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars == static_cast<std::size_t>(width - 1)) cut = i;
    if (++chars > static_cast<std::size_t>(width)) break;
  }
  if (i >= text.size()) return std::string(text);
  return std::string(text.substr(0, cut)) + "…";
}

void Transcript::Line(std::string_view color, std::string_view mark, std::string_view text) {
  std::string line = Cut(std::string(mark) + Flat(Printable(text)), style_.width);
  if (style_.color && !color.empty()) {
    out_ << color << line << kReset << "\n";
  } else {
    out_ << line << "\n";
  }
}

void Transcript::OutputLine(std::string_view stream, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // An agent's JSON event lines are what the other lines of the transcript show.
  if (stream == "stdout" && line.starts_with("{") && line.ends_with("}")) return;
  Line(stream == "stderr" ? kYellow : kDim, "│ ", line);
}

void Transcript::Output(std::string_view stream, std::string_view data) {
  std::string& partial = partial_[std::string(stream)];
  partial.append(data);
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    OutputLine(stream, std::string_view(partial).substr(start, nl - start));
  }
  partial.erase(0, start);
}

void Transcript::Event(std::string_view type, const json::object& e) {
  if (type == "output") {
    std::string data = GetString(e, "data").value_or("");
    if (GetString(e, "encoding") == "base64") data = Base64Decode(data).value_or("");
    Output(GetString(e, "stream").value_or("stdout"), data);
  } else if (type == "agent_message") {
    Line(kBold, "● ", Folded(GetString(e, "text").value_or("")));
  } else if (type == "tool_call") {
    std::string name = GetString(e, "name").value_or("");
    if (name.empty()) name = "tool";
    if (auto id = GetString(e, "id"); id && !id->empty()) tools_[*id] = name;
    std::string arg = ShortArgument(e);
    Line(kCyan, "▸ ", name + (arg.empty() ? "" : " " + Flat(arg)));
  } else if (type == "tool_result") {
    if (auto id = GetString(e, "id")) tools_.erase(*id);
    std::string output = GetString(e, "output").value_or(GetString(e, "text").value_or(""));
    const bool failed = GetBool(e, "isError").value_or(false);
    std::string folded = Folded(output);
    if (folded.empty()) folded = failed ? "(failed)" : "(done)";
    Line(failed ? kRed : kDim, failed ? "  ✗ " : "  ↳ ", folded);
  } else if (type == "error") {
    std::string message = GetString(e, "message").value_or("");
    std::string source = GetString(e, "source").value_or("");
    if (GetBool(e, "retrying").value_or(false)) {
      std::string what = "retry";
      auto attempt = GetInt(e, "attempt"), max = GetInt(e, "maxAttempts");
      if (attempt) what += " " + std::to_string(*attempt) + (max ? "/" + std::to_string(*max) : "");
      if (auto delay = GetInt(e, "delayMs"); delay && *delay > 0) what += " in " + Seconds(*delay);
      Line(kYellow, "↻ ", what + ": " + Folded(message));
    } else if (source == "network") {
      Line(kYellow, "⊘ ", "network: " + message);
    } else {
      Line(kRed, "✗ ", "error: " + Folded(message));
    }
  } else if (type == "truncated") {
    if (auto dropped = GetInt(e, "droppedBytes"); dropped && *dropped > 0) {
      Line(kYellow, "… ",
           std::to_string(*dropped) + " bytes of " + GetString(e, "stream").value_or("output") +
               " dropped here (over the run's output limit)");
    } else if (auto n = GetInt(e, "agentEventsDropped"); n && *n > 0) {
      Line(kYellow, "… ", std::to_string(*n) + " agent events dropped (over the event budget)");
    }
  } else if (type == "usage") {
    input_tokens_ = GetInt(e, "inputTokens").value_or(0);
    output_tokens_ = GetInt(e, "outputTokens").value_or(0);
  } else if (type == "artifact") {
    Line(kDim, "⇣ ",
         "artifact " + GetString(e, "name").value_or("") + " (" +
             std::to_string(GetInt(e, "sizeBytes").value_or(0)) + " bytes)");
  } else if (type == "status") {
    reason_ = GetString(e, "reason").value_or("");
    message_ = GetString(e, "message").value_or("");
    exit_code_ = GetInt(e, "exitCode").value_or(-1);
    std::string status = GetString(e, "status").value_or("");
    if (status == "RUNNING") Line(kBlue, "· ", "running");
  }
}

void Transcript::Final(std::string_view status) {
  for (auto& [stream, partial] : partial_) {
    if (!partial.empty()) OutputLine(stream, partial);
    partial.clear();
  }
  const bool ok = status == "COMPLETED";
  std::string text(status);
  if (!reason_.empty()) text += " (" + reason_ + ")";
  if (exit_code_ >= 0 && !ok) text += ", exit code " + std::to_string(exit_code_);
  if (!message_.empty()) text += ": " + Folded(message_);
  if (input_tokens_ >= 0) {
    text += " · " + std::to_string(input_tokens_) + " in / " + std::to_string(output_tokens_) +
            " out tokens";
  }
  Line(ok ? kGreen : kRed, ok ? "✓ " : "✗ ", text);
  out_ << std::flush;
}

}  // namespace outpost::cli
