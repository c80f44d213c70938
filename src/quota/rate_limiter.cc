#include "quota/rate_limiter.h"

#include <algorithm>

#include "common/time_util.h"

namespace outpost {
namespace {

constexpr std::int64_t kUnitsPerToken = 60'000;  // ms per minute: the bucket gains `limit`/ms

std::int64_t CeilDiv(std::int64_t a, std::int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

std::int64_t MonoMs(const Clock& clock) {
  return std::chrono::duration_cast<Millis>(clock.Mono().time_since_epoch()).count();
}

}  // namespace

RateLimiter::RateLimiter(const Clock& clock, std::size_t max_buckets)
    : clock_(clock), max_buckets_(max_buckets) {}

void RateLimiter::Refill(Bucket& b, std::int64_t now_ms) const {
  const std::int64_t capacity = std::int64_t{b.per_minute} * kUnitsPerToken;
  const std::int64_t elapsed = std::max<std::int64_t>(0, now_ms - b.last_ms);
  b.units = std::min(capacity, b.units + elapsed * b.per_minute);
  b.last_ms = now_ms;
}

void RateLimiter::DropFullBucketsLocked(std::int64_t now_ms) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now_ms);
    const bool full = it->second.units >= std::int64_t{it->second.per_minute} * kUnitsPerToken;
    it = full ? buckets_.erase(it) : std::next(it);
  }
}

RateDecision RateLimiter::Acquire(const std::string& bucket, int per_minute) {
  const std::int64_t now_ms = MonoMs(clock_);
  const std::int64_t capacity = std::int64_t{per_minute} * kUnitsPerToken;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_buckets_) DropFullBucketsLocked(now_ms);
    it = buckets_.emplace(bucket, Bucket{capacity, now_ms, per_minute}).first;
  }
  Bucket& b = it->second;
  if (b.per_minute != per_minute) {  // the limit changed: keep what was used, in the new scale
    b.units = std::min(capacity, b.units / b.per_minute * per_minute);
    b.per_minute = per_minute;
  }
  Refill(b, now_ms);
  RateDecision d;
  d.limit = per_minute;
  d.allowed = b.units >= kUnitsPerToken;
  if (d.allowed) b.units -= kUnitsPerToken;
  d.remaining = static_cast<int>(b.units / kUnitsPerToken);
  d.current = per_minute - d.remaining;
  const std::int64_t to_full_ms = CeilDiv(capacity - b.units, per_minute);
  d.reset_at = CeilDiv(ToMillis(clock_.Now()) + to_full_ms, 1000);
  if (!d.allowed) {
    const std::int64_t wait_ms = CeilDiv(kUnitsPerToken - b.units, per_minute);
    d.retry_after_seconds = static_cast<int>(std::max<std::int64_t>(1, CeilDiv(wait_ms, 1000)));
  }
  return d;
}

std::size_t RateLimiter::buckets() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace outpost
