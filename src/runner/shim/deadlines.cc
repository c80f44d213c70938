#include "runner/shim/deadlines.h"

#include <algorithm>

namespace outpost::shim {

Deadlines MakeDeadlines(MonoTime shim_start, int timeout_seconds,
                        std::optional<int> inactivity_timeout_seconds) {
  Deadlines d{shim_start + std::chrono::seconds(std::max(timeout_seconds, 0)), std::nullopt};
  if (inactivity_timeout_seconds && *inactivity_timeout_seconds > 0) {
    d.inactivity = std::chrono::seconds(*inactivity_timeout_seconds);
  }
  return d;
}

Expired CheckDeadlines(const Deadlines& d, MonoTime now, MonoTime last_output,
                       bool watch_inactivity) {
  if (now >= d.total) return Expired::kTotal;
  if (watch_inactivity && d.inactivity && now >= last_output + *d.inactivity) {
    return Expired::kInactive;
  }
  return Expired::kNone;
}

int PollTimeoutMs(const Deadlines& d, MonoTime now, MonoTime last_output, bool watch_inactivity,
                  int cap_ms) {
  MonoTime next = d.total;
  if (watch_inactivity && d.inactivity) next = std::min(next, last_output + *d.inactivity);
  if (next <= now) return 0;
  // Round up: a timeout of 0.4 ms must not become a busy loop of 0 ms polls.
  auto ms = std::chrono::ceil<Millis>(next - now).count();
  return static_cast<int>(std::min<std::int64_t>(ms, cap_ms));
}

}  // namespace outpost::shim
