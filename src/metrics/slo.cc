#include "metrics/slo.h"

#include <algorithm>

#include "metrics/metrics.h"

namespace outpost::metrics {

void SloCounts::Add(const SloCounts& other) {
  requests += other.requests;
  errors += other.errors;
  runs_finished += other.runs_finished;
  runs_succeeded += other.runs_succeeded;
  if (latency.size() < other.latency.size()) latency.resize(other.latency.size());
  for (std::size_t i = 0; i < other.latency.size(); ++i) latency[i] += other.latency[i];
}

SloValues Evaluate(const SloCounts& c) {
  SloValues v;
  if (c.requests > 0) {
    const std::uint64_t errors = std::min(c.errors, c.requests);
    v.error_rate_pct = 100.0 * double(errors) / double(c.requests);
    v.availability_pct = 100.0 - *v.error_rate_pct;
  }
  if (auto p95 = HistogramQuantile(0.95, LatencyBuckets(), c.latency))
    v.p95_latency_ms = *p95 * 1000;
  if (c.runs_finished > 0) {
    v.dispatch_success_pct = 100.0 * double(c.runs_succeeded) / double(c.runs_finished);
  }
  return v;
}

std::optional<double> HistogramQuantile(double q, const std::vector<double>& bounds,
                                        const std::vector<std::uint64_t>& counts) {
  std::uint64_t total = 0;
  for (std::uint64_t n : counts) total += n;
  if (total == 0 || bounds.empty()) return std::nullopt;
  const double rank = q * double(total);
  std::uint64_t before = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0 || double(before + counts[i]) < rank) {
      before += counts[i];
      continue;
    }
    if (i >= bounds.size()) return bounds.back();  // the +Inf bucket
    const double lower = i == 0 ? 0 : bounds[i - 1];
    return lower + (bounds[i] - lower) * (rank - double(before)) / double(counts[i]);
  }
  return bounds.back();
}

bool MeetsAvailability(const SloValues& v, const SloTargets& t) {
  return !v.availability_pct || *v.availability_pct >= t.availability_pct;
}
bool MeetsErrorRate(const SloValues& v, const SloTargets& t) {
  return !v.error_rate_pct || *v.error_rate_pct < t.error_rate_pct;
}
bool MeetsP95(const SloValues& v, const SloTargets& t) {
  return !v.p95_latency_ms || *v.p95_latency_ms < t.p95_latency_ms;
}
bool MeetsDispatchSuccess(const SloValues& v, const SloTargets& t) {
  return !v.dispatch_success_pct || *v.dispatch_success_pct > t.dispatch_success_pct;
}

}  // namespace outpost::metrics
