// The shim's deadline arithmetic, kept free of I/O so it can be tested to the millisecond with
// a simulated clock. Pure functions; thread-safe.
#pragma once

#include <optional>

#include "common/clock.h"

namespace outpost::shim {

struct Deadlines {
  MonoTime total;                    // absolute: shim start + timeout_seconds
  std::optional<Millis> inactivity;  // relative to the last output; nullopt = none
};

enum class Expired { kNone, kTotal, kInactive };

Deadlines MakeDeadlines(MonoTime shim_start, int timeout_seconds,
                        std::optional<int> inactivity_timeout_seconds);

// Which deadline has passed at `now` (the total one wins when both have). The inactivity
// deadline is only considered when `watch_inactivity` (the agent runs, not the clone).
Expired CheckDeadlines(const Deadlines& d, MonoTime now, MonoTime last_output,
                       bool watch_inactivity);

// Milliseconds from `now` until the nearest deadline, rounded up so that a poll that times out
// finds the deadline passed; clamped to [0, cap_ms].
int PollTimeoutMs(const Deadlines& d, MonoTime now, MonoTime last_output, bool watch_inactivity,
                  int cap_ms = 1000);

}  // namespace outpost::shim
