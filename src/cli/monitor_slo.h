// The second source of `outpost monitor`'s figures: GET /health/slo (the `status` scope), read
// when GET /metrics refuses the monitor's key (401/403: /metrics needs the `admin` scope or the
// operator's metrics token). /health/slo has the same SLO inputs as /metrics, counted by the
// server in one-minute buckets since its start (up to 24 hours), and its own 1h/6h/12h/24h
// windows.
//
// An interval's counts are the buckets' growth between two readings, in the server's time, so
// the monitor's clock plays no part: every bucket newer than the previous reading's newest
// bucket, plus what that bucket gained since. A restarted server's buckets are all newer (its
// counts since its start are taken); a restart within the same minute can lose that minute's
// counts from before it. Buckets carry no latency histogram, so intervals read this way have no
// P95: the monitoring table shows the server's own window P95 instead (marked "server").
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "metrics/slo.h"

namespace outpost::cli {

// The newest bucket of a reading: where the next reading's count starts.
struct SloCursor {
  WallTime t;                 // the bucket's start, server time
  metrics::SloCounts counts;  // its counts when read (no latency)
};

struct SloReading {
  SloCursor newest;
  // Requests, errors and finished runs since the previous reading (nullopt without one).
  std::optional<metrics::SloCounts> since_previous;
  // The server's P95 latency (ms) of its windows, by hours (1, 6, 12, 24); nullopt: no data.
  std::map<int, std::optional<double>> p95_ms;
};

// Parses /health/slo's body (the envelope); kInvalidArgument when it is not that document or
// has no buckets.
Result<SloReading> ReadSlo(std::string_view body, const std::optional<SloCursor>& previous);

boost::json::object SloReadingToJson(const SloReading& r);
// nullopt when `v` is absent or not such an object.
std::optional<SloReading> SloReadingFromJson(const boost::json::value* v);

}  // namespace outpost::cli
