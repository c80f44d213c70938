// Durations on the command line: "300s", "5m", "1h", "2d", "500ms", or a bare number of seconds
// ("2.5"). For --interval, --timeout, --inactivity-timeout, --since and --poll-interval.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::cli {

// kInvalidArgument naming the accepted forms for anything else, or a value outside [min, max].
Result<Millis> ParseDuration(std::string_view text, Millis min, Millis max);

// --since: a duration ago ("10m", "2d": now minus it) or a time ("2026-01-13",
// "2026-01-13T08:00:00Z", an offset allowed). kInvalidArgument naming both forms otherwise.
Result<WallTime> ParseSince(std::string_view text, WallTime now);

}  // namespace outpost::cli
