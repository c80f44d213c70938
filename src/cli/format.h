// Pure formatting for the client commands: durations, tables, runs, health, errors.
// No I/O and no clock reads (callers pass `now`), so every function is unit-tested directly.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::cli {

// 850 -> "850ms", 12345 -> "12.3s", 245000 -> "4m05s", 7380000 -> "2h03m". Negative -> "-".
std::string FormatDuration(std::int64_t ms);

// Whole seconds for a live counter: "7s", "4m05s", "1h02m05s".
std::string FormatElapsed(Millis elapsed);

// Flattens whitespace runs (newlines, tabs) to one space and keeps at most `max_chars` UTF-8
// code points, ending in "…" when cut. Never splits a multi-byte character.
std::string Truncate(std::string_view text, std::size_t max_chars);

// "2026-11-28T08:22:40.123Z" -> "2026-11-28 09:22:40 CET": local time (the TZ variable; --utc
// sets TZ=UTC) with the zone's abbreviation; anything else is returned unchanged.
std::string ShortTime(std::string_view iso);

// Left-aligned columns separated by two spaces; widths count code points; the last column is
// not padded. Rows shorter than the header are padded with empty cells.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "key   value" lines with the values aligned; pairs with an empty value are skipped.
std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& pairs);

// `outpost status`: the key fields of a run, aligned.
std::string FormatRunDetails(const boost::json::object& run);

// `outpost runs`: a table of runs (id, status, agent, created, duration, task). A run still
// going shows the time since it started, measured against `now`.
std::string FormatRunsTable(const boost::json::array& runs, WallTime now);

// A run's `verification` in words: "passed (exit code 0)", "failed (exit code 2)", "failed
// (timed out)"; "" when it has none.
std::string VerificationText(const boost::json::object& run);

// The one-line outcome after --wait: "01J… COMPLETED (succeeded), exit code 0, duration 1.2s",
// followed by "error: …" / "cancel reason: …" lines when the run has them.
std::string FormatFinalSummary(const boost::json::object& run);
// "changes: KIND (before..after)" and a `git diff --stat`-like table of run.changes.diffStat;
// "" when the run has no changes object.
std::string FormatChanges(const boost::json::object& run);

// The --wait progress line: "01J… RUNNING (running) 12s" [+ " - " note].
std::string FormatProgress(std::string_view run_id, std::string_view status, std::string_view phase,
                           Millis elapsed, std::string_view note = {});

// `outpost health [--fleet]`: status line(s) and checks / agents.
std::string FormatHealth(const boost::json::object& body, bool fleet);

// The stderr text for a failed call, each line prefixed "outpost: " on the first line only:
//   outpost: VALIDATION_ERROR (HTTP 400): Request validation failed
//     task: is required
//     timeoutSeconds: must be 1-86400
// Unreachable servers give the single line "outpost: cannot reach http://…: Connection refused".
// Ends with a newline.
std::string FormatError(const Status& status);

}  // namespace outpost::cli
