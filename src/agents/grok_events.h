// The event stream of `outpost grok-agent`: one JSON object per stdout line.
//
// Producer: src/agents/grok/ (the built-in OpenAI-compatible chat-completions agent).
// Consumer: the grok adapter in src/agents/, which turns these lines into the common event stream.
// Every line is a JSON object with a "type" field; the shapes are exactly:
//
//   {"type":"assistant","text":"..."}                      the model's reply, one per API response
//   {"type":"file_written","path":"rel/path","bytes":N}    a file block applied inside the
//   workspace
//   {"type":"file_refused","path":"...","reason":"..."}    a file block NOT applied (path escapes
//   the
//                                                          workspace, symlink, I/O error, ...)
//   {"type":"usage","input_tokens":N,"output_tokens":M}    token totals over all API responses;
//                                                          emitted once, just before "result", when
//                                                          at least one response arrived
//   {"type":"error","message":"..."}                       a fatal error (e.g. "HTTP 401 ...")
//   {"type":"result","status":"success"|"error","files_applied":N}   always the last line
//
// Exit codes: 0 success, 1 API/transport error (after the error event), 2 bad usage/config.
// Paths are workspace-relative as the model wrote them. Unknown types must be ignored by readers.
#pragma once

#include <string_view>

namespace outpost::agents::grok_events {

inline constexpr std::string_view kAssistant = "assistant";
inline constexpr std::string_view kFileWritten = "file_written";
inline constexpr std::string_view kFileRefused = "file_refused";
inline constexpr std::string_view kUsage = "usage";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kResult = "result";

inline constexpr std::string_view kStatusSuccess = "success";
inline constexpr std::string_view kStatusError = "error";

}  // namespace outpost::agents::grok_events
