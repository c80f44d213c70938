// Logging: spdlog to stderr, one line per event. `SetupLogging` is called once by app/.
//
// Repeated lines are rate-limited (issue 18 item 10: a full disk made the server log ~10,000
// lines a minute): lines that differ only in words holding a digit (run ids, numbers, times)
// share a key; of each key at most kLogBurst lines are written per kLogWindow, and the first
// line logged after a window in which some were dropped is preceded by one
// "suppressed N similar lines in the last 60 s: <the first of them>" line at their level.
#pragma once

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace outpost {

inline constexpr int kLogBurst = 10;
inline constexpr std::chrono::seconds kLogWindow{60};

void SetupLogging(std::string_view level);

// The key of a line: `text` with every word (between spaces) that holds a digit replaced by "#".
std::string LogLineKey(std::string_view text);

// A sink that passes at most `burst` lines of each key per `window` (by the lines' own time) to
// `inner`. Thread-safe. Exposed for tests; SetupLogging puts one in front of stderr.
std::shared_ptr<spdlog::sinks::sink> MakeRateLimitedSink(std::shared_ptr<spdlog::sinks::sink> inner,
                                                         int burst, std::chrono::seconds window);

}  // namespace outpost
