// Transcript: a run's event stream (GET /runs/{id}/events) as a person reads it on a terminal —
// what `outpost logs ID -f` and `outpost dispatch … --follow` print when stdout is a terminal
// (`--raw` prints the agent's output byte for byte instead, as they do when piped).
//
// One line per step:
//   ● agent message (its first line; "(+N lines)" when there are more)
//   ▸ Write hello.txt            a tool call: its name and a short argument
//     ↳ File created … (+3 lines)  its result, folded to its first line (✗ when it failed)
//   ↻ retry 1/2 in 0.5 s: HTTP 500 server_error    a provider error the agent retries
//   ⊘ network: connection to github.com:443 refused by the network allowlist (…)
//   ✗ error: …                   an error the agent reported
//   │ text                       the agent's own output, except its JSON event lines
// and a final line with the status, reason and error:
//   ✓ COMPLETED (succeeded) · 244 in / 29 out tokens
//   ✗ FAILED (agent_error): Invalid API key · 0 in / 0 out tokens
// Every line is cut to `width` columns ("…"); colours only when `color` (a terminal without
// NO_COLOR: TerminalStyleOf).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace outpost::cli {

struct TranscriptStyle {
  bool color = false;
  int width = 0;  // columns; 0 = lines are not cut
};

// For stdout: colour when `tty` and NO_COLOR is unset or empty; the width of the terminal
// (TIOCGWINSZ, else $COLUMNS, else 80) when `tty`, else 0.
TranscriptStyle TerminalStyleOf(bool tty);

class Transcript {
 public:
  Transcript(std::ostream& out, TranscriptStyle style) : out_(out), style_(style) {}

  // One event: its type and its JSON object (model/run_event.h, runner/event_log.h).
  void Event(std::string_view type, const boost::json::object& e);
  // The final line (after `end`): the terminal status with its reason and error.
  void Final(std::string_view status);

  // `text` cut to `width` columns (UTF-8 characters; "…" marks a cut); 0 = whole.
  static std::string Cut(std::string_view text, int width);

 private:
  void Line(std::string_view color, std::string_view mark, std::string_view text);
  void Output(std::string_view stream, std::string_view data);
  void OutputLine(std::string_view stream, std::string_view line);

  std::ostream& out_;
  TranscriptStyle style_;
  std::map<std::string, std::string> partial_;  // stream -> its unfinished last line
  std::map<std::string, std::string> tools_;    // tool id -> name, until its result
  std::string reason_, message_;
  std::int64_t exit_code_ = -1;
  std::int64_t input_tokens_ = -1, output_tokens_ = -1;
};

}  // namespace outpost::cli
