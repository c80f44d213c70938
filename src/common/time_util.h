// ISO 8601 / RFC 3339 formatting and parsing of wall times (UTC, millisecond precision).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace outpost {

// "2026-11-28T08:22:40.123Z"
std::string FormatTime(WallTime t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]" and "YYYY-MM-DD". nullopt when malformed.
std::optional<WallTime> ParseTime(std::string_view s);

std::int64_t ToMillis(WallTime t);
WallTime FromMillis(std::int64_t ms);

}  // namespace outpost
