// The runbook's service-level objectives (migration-runbook.md, Step 6 and §4.1) and the one
// definition of each, shared by the server's GET /health/slo and `outpost monitor`:
//
//   availability          = requests answered with a status below 500 / all requests
//   error rate            = (requests answered 5xx + requests not answered at all) / all
//   P95 latency           = the 95th percentile of answered requests' latency, interpolated
//                           within histogram buckets as Prometheus's histogram_quantile does
//   dispatch success rate = runs that ended COMPLETED / runs that ended COMPLETED, FAILED or
//                           TIMEOUT (a CANCELLED run is someone's decision, not a failure)
//
// A value is nullopt when its denominator is 0 (no requests, no finished runs).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace outpost::metrics {

struct SloTargets {
  double availability_pct = 99.9;    // at least
  double dispatch_success_pct = 95;  // more than
  double p95_latency_ms = 500;       // less than
  double error_rate_pct = 5;         // less than
};

// Level 1 rollback thresholds (§4.1).
struct RollbackThresholds {
  double availability_pct = 95;      // below, for 15 minutes
  double dispatch_success_pct = 80;  // below, for 30 minutes
};

struct SloCounts {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;          // answered 5xx, or not answered
  std::uint64_t runs_finished = 0;   // COMPLETED + FAILED + TIMEOUT
  std::uint64_t runs_succeeded = 0;  // COMPLETED
  // Answered requests per latency bucket (metrics::LatencyBuckets(), then +Inf), not
  // cumulative; empty means all zero.
  std::vector<std::uint64_t> latency;

  void Add(const SloCounts& other);
};

struct SloValues {
  std::optional<double> availability_pct;
  std::optional<double> error_rate_pct;
  std::optional<double> p95_latency_ms;
  std::optional<double> dispatch_success_pct;
};

SloValues Evaluate(const SloCounts& counts);

// The q-quantile (0..1) of a histogram given per-bucket (not cumulative) counts for `bounds`
// and a last +Inf bucket; linear within the bucket, from 0 for the first. A rank that falls in
// +Inf gives the largest finite bound. nullopt when the histogram is empty.
std::optional<double> HistogramQuantile(double q, const std::vector<double>& bounds,
                                        const std::vector<std::uint64_t>& counts);

// Whether a value meets its target; a missing value (no data) meets it.
bool MeetsAvailability(const SloValues& v, const SloTargets& t = {});
bool MeetsErrorRate(const SloValues& v, const SloTargets& t = {});
bool MeetsP95(const SloValues& v, const SloTargets& t = {});
bool MeetsDispatchSuccess(const SloValues& v, const SloTargets& t = {});

}  // namespace outpost::metrics
