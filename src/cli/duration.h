// Durations on the command line: "300s", "5m", "1h", "500ms", or a bare number of seconds
// ("2.5"). For --interval, --timeout and --poll-interval.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::cli {

// kInvalidArgument naming the accepted forms for anything else, or a value outside [min, max].
Result<Millis> ParseDuration(std::string_view text, Millis min, Millis max);

}  // namespace outpost::cli
