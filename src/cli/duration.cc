#include "cli/duration.h"

#include <charconv>
#include <cmath>
#include <string>

#include "common/time_util.h"

namespace outpost::cli {

Result<Millis> ParseDuration(std::string_view text, Millis min, Millis max) {
  const std::string_view input = text;
  double scale = 1000;  // a bare number: seconds
  for (auto [suffix, ms] : {std::pair<std::string_view, double>{"ms", 1},
                            {"s", 1000},
                            {"m", 60'000},
                            {"h", 3'600'000},
                            {"d", 86'400'000}}) {
    if (text.ends_with(suffix)) {
      text.remove_suffix(suffix.size());
      scale = ms;
      break;
    }
  }
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  const auto bad = [&] {
    return InvalidArgument("'" + std::string(input) +
                           "' is not a duration (e.g. 300s, 5m, 1h, 2d, 500ms, or seconds)");
  };
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) ||
      v < 0) {
    return bad();
  }
  const Millis d(static_cast<std::int64_t>(std::llround(v * scale)));
  if (d < min || d > max) {
    return InvalidArgument("'" + std::string(input) + "' must be from " +
                           std::to_string(min.count()) + " ms to " + std::to_string(max.count()) +
                           " ms");
  }
  return d;
}

Result<WallTime> ParseSince(std::string_view text, WallTime now) {
  if (auto t = ParseTime(text)) return *t;
  auto d = ParseDuration(text, Millis(0), Millis(std::int64_t{3650} * 86'400'000));
  if (!d.ok()) {
    return InvalidArgument("'" + std::string(text) +
                           "' is neither a duration ago (10m, 2h, 7d) nor a time "
                           "(2026-01-13 or 2026-01-13T08:00:00Z)");
  }
  return now - *d;
}

}  // namespace outpost::cli
