// RunEvent: one event of a run's sequenced event stream (GET /runs/{id}/events, /logs), as the
// runner reports it and the event log keeps it. The stream's format and the fields of each type
// are described in runner/event_log.h (the shim's journal of it).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace outpost {

namespace event {
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kPhase = "phase";
inline constexpr std::string_view kOutput = "output";
inline constexpr std::string_view kAgentMessage = "agent_message";
inline constexpr std::string_view kToolCall = "tool_call";
inline constexpr std::string_view kToolResult = "tool_result";
inline constexpr std::string_view kUsage = "usage";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kTruncated = "truncated";
inline constexpr std::string_view kArtifact = "artifact";
inline constexpr std::string_view kEnd = "end";
}  // namespace event

// One event: its seq (1, 2, … with no gap within a run), its type (event::k*) and the whole
// event as one JSON object without a newline: {"seq":N,"ts":"…","type":"T",…fields}.
struct RunEvent {
  std::int64_t seq = 0;
  std::string type;
  std::string json;

  friend bool operator==(const RunEvent&, const RunEvent&) = default;
};

// Events as read: what a reader asked for after a seq, in order.
struct EventBatch {
  std::vector<RunEvent> events;  // seq ascending with no gap, each > the `after` asked for
  bool ended = false;            // the last event of `events` is `end`: nothing follows it
};

// For test failure messages (gtest finds it by ADL).
inline void PrintTo(const RunEvent& e, std::ostream* os) { *os << e.json; }

}  // namespace outpost
