// OutputCapture: where every byte of the agent's (already redacted) stdout and stderr goes —
// into stdout.log / stderr.log and, identically, into `output` events of events.jsonl — and the
// per-run output cap (LaunchSpec::max_output_bytes, C; default 100 MiB).
//
// The cap keeps a head and a tail and drops the middle, never silently:
//   head   the first 3C/4 bytes of output, both streams together in arrival order, kept (and
//          streamed) as they come;
//   tail   after that each stream's bytes go to a ring file (stdout.tail / stderr.tail) that
//          holds its last C/4 bytes; at the end the two tails share C/4: each gets at least
//          half of it, or all it has, and the other one the rest.
// Output of up to C bytes is thus kept whole (also when it is all one stream); at most C bytes
// are ever kept. When a stream's bytes first go to its ring:
//   {"type":"truncated","stream":"stdout","limit":C,"message":"…"}
// and at the end, for each such stream, before its tail is appended to the log and sent as
// `output` events:
//   {"type":"truncated","stream":"stdout","droppedBytes":D,"tailBytes":K}
// So for each stream: bytes written by the agent = bytes in its output events (and its log)
// + droppedBytes, exactly; the log keeps its tail, where agents print their result.
//
// Agent events (agents/parsers: messages, tool calls, usage, errors) come from every stdout line,
// dropped or not. Each carries at most 4 KiB of text, and they share a budget of C/4 bytes;
// past it they are counted, not written: {"type":"truncated","agentEventsDropped":N} at the end.
//
// Output events carry whole UTF-8 characters: a character split between two reads waits for
// its rest. A chunk that is not UTF-8, or whose JSON escaping would more than double it (control
// characters), is sent in base64 ("encoding":"base64"), byte-exact. Agent events are charged
// their serialized size. What a run keeps of its output (logs, tails, events.jsonl) thus stays
// under 4C, plus ~100 bytes of framing per output event (issue 18 item 10, README).
//
// Not thread-safe (the shim is single-threaded).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agents/parsers/parser.h"
#include "runner/event_log.h"
#include "runner/run_dir.h"
#include "runner/shim/tail_ring.h"

namespace outpost::shim {

enum class OutStream { kStdout = 0, kStderr = 1 };

struct CaptureTotals {
  std::int64_t bytes = 0;    // what the agent wrote (after redaction)
  std::int64_t dropped = 0;  // what the cap dropped (known after Finish)
};

class OutputCapture {
 public:
  // `events` (not owned) may be null: no event log, the logs are still written. `parser` may be
  // null: no agent events. `log` receives diagnostics for shim.log.
  OutputCapture(const RunDir& dir, EventLogWriter* events, std::unique_ptr<OutputParser> parser,
                std::int64_t max_output_bytes, std::function<void(std::string_view)> log);

  // Opens stdout.log and stderr.log for appending. kInternal when they cannot be opened.
  Status Open();
  // The next chunk of a stream.
  void Write(OutStream s, std::string_view data);
  // A connection the run's allowlist proxy refused: an `error` event with source "network"
  // (host, port, reason), not a failure of the run.
  void NetworkRefused(std::string_view host, int port, std::string_view reason);
  // The end of the output: the last partial line to the parser, the tails, the final truncated
  // events. Closes the logs. Call once.
  void Finish();

  CaptureTotals totals(OutStream s) const { return st(s).totals; }
  // The agent's assistant messages so far.
  std::int64_t turns() const { return turns_; }
  // After Finish: what the parser made of all of stdout (the empty result without a parser).
  const AgentResult& result() const { return result_; }
  // Before Finish: the usage the output reported so far (OutputParser::Live).
  AgentResult live() const { return parser_ ? parser_->Live() : AgentResult{}; }
  std::int64_t limit() const { return limit_; }
  // The tail each stream keeps when the streams' tails hold `written` bytes (stdout, stderr).
  static std::array<std::int64_t, 2> TailShares(std::int64_t budget,
                                                std::array<std::int64_t, 2> written);

 private:
  struct StreamState {
    std::string name;  // "stdout" | "stderr"
    int log_fd = -1;
    std::string utf8_carry;  // an unfinished character, held for the next chunk
    std::unique_ptr<TailRing> ring;
    CaptureTotals totals;
  };
  StreamState& st(OutStream s) { return streams_[static_cast<int>(s)]; }
  const StreamState& st(OutStream s) const { return streams_[static_cast<int>(s)]; }

  void Keep(StreamState& s, std::string_view data);  // to the log and as events
  void EmitOutput(StreamState& s, std::string_view data, bool flush);
  void Overflow(StreamState& s, std::string_view data);
  void FinishTail(StreamState& s, std::int64_t keep);
  void ParseStdout(std::string_view data);
  void ParseLine(std::string_view line);
  void EmitAgentEvents();
  void Append(std::string_view type, const boost::json::object& fields);

  EventLogWriter* events_;
  std::unique_ptr<OutputParser> parser_;
  const std::int64_t limit_;
  const std::int64_t tail_budget_;  // C/4: both tails together, and each ring's size
  std::int64_t head_left_;
  std::int64_t agent_budget_;
  std::int64_t agent_events_dropped_ = 0;
  std::int64_t turns_ = 0;
  AgentResult result_;
  std::string line_;  // stdout's unfinished line, for the parser
  std::array<StreamState, 2> streams_;
  std::function<void(std::string_view)> log_;
  std::string dir_;
  bool write_error_logged_ = false;
};

}  // namespace outpost::shim
