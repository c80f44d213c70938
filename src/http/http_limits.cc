#include "http/http_limits.h"

#include <algorithm>

namespace outpost::http {

std::chrono::steady_clock::time_point BodyDeadline(std::chrono::steady_clock::time_point start,
                                                   std::uint64_t received, const TimeLimits& t) {
  auto deadline = start + t.body_timeout;
  if (t.body_min_rate > 0) {
    // In milliseconds, so that each byte extends the deadline (no rounding down to 0 s).
    deadline += std::chrono::milliseconds(received * 1000 / t.body_min_rate);
  }
  return deadline;
}

std::uint64_t FdsNeededFor(std::uint64_t connections) {
  return connections * kFdsPerConnection + kFdReserve;
}

std::uint64_t ConnectionLimitFor(std::uint64_t configured, std::uint64_t fd_limit) {
  if (FdsNeededFor(configured) <= fd_limit) return configured;
  const std::uint64_t usable = fd_limit > 2 * kFdReserve ? fd_limit - kFdReserve : fd_limit / 2;
  return std::max<std::uint64_t>(1, usable / kFdsPerConnection);
}

}  // namespace outpost::http
