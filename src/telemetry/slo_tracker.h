// SloTracker: the last 24 hours of the runbook's SLO inputs in one-minute buckets, in memory
// (since server start), for GET /health/slo. Fed by the same observations as /metrics: every
// request HandleRequest serves and every run that ends. Definitions: metrics/slo.h.
//
// Recording is lock-free on the hot path: a bucket is a ring slot tagged with its minute, and
// only the first request of a new minute takes the mutex to reset the slot it reuses.
#pragma once

#include <array>
#include <atomic>
#include <boost/json/object.hpp>
#include <mutex>

#include "common/clock.h"
#include "metrics/metrics.h"
#include "metrics/slo.h"

namespace outpost::telemetry {

class SloTracker {
 public:
  static constexpr int kBucketSeconds = 60;
  static constexpr int kBuckets = 24 * 60;

  explicit SloTracker(const Clock& clock);

  // An answered request (status) or one dropped without an answer (answered=false).
  void RecordRequest(bool answered, int status, double seconds);
  // A run that ended with `status` ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED").
  void RecordRunEnded(std::string_view status);

  // The counts of the buckets within the last `minutes` (the current one included).
  metrics::SloCounts Window(int minutes) const;

  // GET /health/slo's data: {"windows":{"1h","6h","12h","24h"},"series":[…],"bucketSeconds",
  // "targets"} (the contract in ARCHITECTURE and README).
  boost::json::object ToJson() const;

 private:
  struct Bucket {
    std::atomic<std::int64_t> minute{-1};
    std::atomic<std::uint64_t> requests{0}, errors{0}, runs_finished{0}, runs_succeeded{0};
    std::array<std::atomic<std::uint64_t>, 15> latency{};  // LatencyBuckets() + +Inf
  };
  std::int64_t MinuteNow() const;
  Bucket& Current();
  // The bucket's counts if it holds `minute`, else all zero.
  metrics::SloCounts Read(std::int64_t minute) const;

  const Clock& clock_;
  const std::int64_t start_minute_;
  std::mutex reset_mu_;  // taken to recycle a slot for a new minute
  std::unique_ptr<std::array<Bucket, kBuckets>> buckets_;
};

}  // namespace outpost::telemetry
