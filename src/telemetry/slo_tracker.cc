#include "telemetry/slo_tracker.h"

#include <boost/json/array.hpp>
#include <cmath>

#include "common/time_util.h"

namespace outpost::telemetry {
namespace json = boost::json;
namespace {

// Three decimals are plenty for percentages and milliseconds; whole numbers as integers.
json::value OrNull(const std::optional<double>& v) {
  if (!v) return nullptr;
  const double rounded = std::round(*v * 1000) / 1000;
  if (rounded == std::floor(rounded)) return static_cast<std::int64_t>(rounded);
  return rounded;
}

json::object WindowJson(const metrics::SloCounts& c) {
  metrics::SloValues v = metrics::Evaluate(c);
  return {{"requests", c.requests},
          {"availability", OrNull(v.availability_pct)},
          {"errorRate", OrNull(v.error_rate_pct)},
          {"p95LatencyMs", OrNull(v.p95_latency_ms)},
          {"dispatches", c.runs_finished},
          {"dispatchSuccessRate", OrNull(v.dispatch_success_pct)}};
}

}  // namespace

SloTracker::SloTracker(const Clock& clock)
    : clock_(clock),
      start_minute_(
          std::chrono::duration_cast<std::chrono::minutes>(clock.Now().time_since_epoch()).count()),
      buckets_(std::make_unique<std::array<Bucket, kBuckets>>()) {
  static_assert(std::tuple_size_v<decltype(Bucket::latency)> == 15);
}

std::int64_t SloTracker::MinuteNow() const {
  return std::chrono::duration_cast<std::chrono::minutes>(clock_.Now().time_since_epoch()).count();
}

SloTracker::Bucket& SloTracker::Current() {
  const std::int64_t minute = MinuteNow();
  Bucket& b = (*buckets_)[static_cast<std::size_t>(minute % kBuckets)];
  if (b.minute.load(std::memory_order_acquire) != minute) {
    std::lock_guard lock(reset_mu_);
    if (b.minute.load(std::memory_order_relaxed) != minute) {
      b.requests = 0;
      b.errors = 0;
      b.runs_finished = 0;
      b.runs_succeeded = 0;
      for (auto& l : b.latency) l = 0;
      b.minute.store(minute, std::memory_order_release);
    }
  }
  return b;
}

void SloTracker::RecordRequest(bool answered, int status, double seconds) {
  Bucket& b = Current();
  b.requests.fetch_add(1, std::memory_order_relaxed);
  if (!answered || status >= 500) b.errors.fetch_add(1, std::memory_order_relaxed);
  if (!answered) return;
  const auto& bounds = metrics::LatencyBuckets();
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  b.latency[i].fetch_add(1, std::memory_order_relaxed);
}

void SloTracker::RecordRunEnded(std::string_view status) {
  if (status == "CANCELLED") return;  // neither a success nor a failure (metrics/slo.h)
  Bucket& b = Current();
  b.runs_finished.fetch_add(1, std::memory_order_relaxed);
  if (status == "COMPLETED") b.runs_succeeded.fetch_add(1, std::memory_order_relaxed);
}

metrics::SloCounts SloTracker::Read(std::int64_t minute) const {
  metrics::SloCounts c;
  const Bucket& b = (*buckets_)[static_cast<std::size_t>(minute % kBuckets)];
  if (b.minute.load(std::memory_order_acquire) != minute) return c;
  c.requests = b.requests.load(std::memory_order_relaxed);
  c.errors = b.errors.load(std::memory_order_relaxed);
  c.runs_finished = b.runs_finished.load(std::memory_order_relaxed);
  c.runs_succeeded = b.runs_succeeded.load(std::memory_order_relaxed);
  c.latency.resize(b.latency.size());
  for (std::size_t i = 0; i < b.latency.size(); ++i) {
    c.latency[i] = b.latency[i].load(std::memory_order_relaxed);
  }
  // Recycled while being read: it is another minute's now.
  if (b.minute.load(std::memory_order_acquire) != minute) return {};
  return c;
}

metrics::SloCounts SloTracker::Window(int minutes) const {
  metrics::SloCounts total;
  const std::int64_t now = MinuteNow();
  for (std::int64_t m = std::max(now - minutes + 1, start_minute_); m <= now; ++m) {
    total.Add(Read(m));
  }
  return total;
}

json::object SloTracker::ToJson() const {
  const std::int64_t now = MinuteNow();
  json::array series;
  const std::int64_t first = std::max(now - kBuckets + 1, start_minute_);
  for (std::int64_t m = first; m <= now; ++m) {
    metrics::SloCounts c = Read(m);
    metrics::SloValues v = metrics::Evaluate(c);
    series.push_back(json::object{{"t", FormatTime(WallTime(std::chrono::minutes(m)))},
                                  {"requests", c.requests},
                                  {"errors", c.errors},
                                  {"p95LatencyMs", OrNull(v.p95_latency_ms)},
                                  {"runsFinished", c.runs_finished},
                                  {"runsSucceeded", c.runs_succeeded}});
  }
  const metrics::SloTargets targets;
  return {{"windows", json::object{{"1h", WindowJson(Window(60))},
                                   {"6h", WindowJson(Window(6 * 60))},
                                   {"12h", WindowJson(Window(12 * 60))},
                                   {"24h", WindowJson(Window(24 * 60))}}},
          {"series", std::move(series)},
          {"bucketSeconds", kBucketSeconds},
          {"targets", json::object{{"availability", targets.availability_pct},
                                   {"dispatchSuccessRate", targets.dispatch_success_pct},
                                   {"p95LatencyMs", targets.p95_latency_ms},
                                   {"errorRate", targets.error_rate_pct}}}};
}

}  // namespace outpost::telemetry
