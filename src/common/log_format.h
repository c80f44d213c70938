// The log's format: SetupLogging's timestamped text lines, or JSON for log services.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string_view>

namespace outpost {

// SetupLogging (common/log.h) with a `format`: "text" (timestamp, level, message) or "json":
// one object per line, {"time":"2026-12-06T19:10:19.123Z","level":"ERROR","message":"..."}, the
// level in capitals so that CloudWatch Logs' `--filter-pattern ERROR` (case-sensitive terms) and
// `{ $.level = "ERROR" }` find the errors. Rate-limited as SetupLogging's.
void SetupLoggingWithFormat(std::string_view level, std::string_view format);

// The "json" format's formatter (exposed for tests).
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter();

}  // namespace outpost
