// RateLimiter: requests per minute per bucket (a key, or a tenant without keys), in memory.
//
// A token bucket: capacity = the per-minute limit, refilled continuously at limit/60 per second,
// so a caller may burst up to the limit and then goes at the limit's pace. Each replica counts
// its own requests: behind a load balancer, N replicas admit up to N times the rate.
// Arithmetic is exact integers at millisecond resolution (one token = 60 000 units; the bucket
// gains `limit` units per ms), time from the injected clock (monotonic for refills, wall for
// the reset time), so tests step it to the millisecond.
//
// Memory: one small entry per bucket seen; past `max_buckets`, buckets that have refilled
// completely (idle ones: they hold no state worth keeping) are dropped.
//
// Thread-safety: Acquire may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace outpost {

struct RateDecision {
  bool allowed = true;
  int limit = 0;                // requests per minute
  int remaining = 0;            // requests allowed right now after this one
  int current = 0;              // limit - remaining: the requests the bucket still counts
  std::int64_t reset_at = 0;    // epoch seconds (rounded up) when the bucket is full again
  int retry_after_seconds = 0;  // when refused: until the next request is allowed, rounded up
};

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock, std::size_t max_buckets = 100'000);

  // Counts one request of `bucket` under `per_minute` (>= 1), if the bucket allows it.
  RateDecision Acquire(const std::string& bucket, int per_minute);

  std::size_t buckets() const;

 private:
  struct Bucket {
    std::int64_t units = 0;    // tokens x 60 000
    std::int64_t last_ms = 0;  // monotonic ms of the last refill
    int per_minute = 0;
  };
  void Refill(Bucket& b, std::int64_t now_ms) const;
  void DropFullBucketsLocked(std::int64_t now_ms);

  const Clock& clock_;
  const std::size_t max_buckets_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace outpost
