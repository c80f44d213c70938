#include "metrics/slo.h"

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace outpost::metrics {
namespace {

std::vector<std::uint64_t> Latency(std::initializer_list<std::pair<double, std::uint64_t>> at) {
  const auto& bounds = LatencyBuckets();
  std::vector<std::uint64_t> counts(bounds.size() + 1, 0);
  for (auto [bound, n] : at) {
    std::size_t i = 0;
    while (i < bounds.size() && bounds[i] < bound) ++i;
    counts[i] += n;
  }
  return counts;
}

TEST(Slo, DefinitionsOfEachValue) {
  SloCounts c;
  c.requests = 1000;
  c.errors = 2;
  c.runs_finished = 20;
  c.runs_succeeded = 19;
  c.latency = Latency({{0.1, 950}, {0.5, 50}});
  SloValues v = Evaluate(c);
  EXPECT_DOUBLE_EQ(*v.availability_pct, 99.8);
  EXPECT_DOUBLE_EQ(*v.error_rate_pct, 0.2);
  EXPECT_DOUBLE_EQ(*v.dispatch_success_pct, 95);
  EXPECT_DOUBLE_EQ(*v.p95_latency_ms, 100);  // rank 950 is the last of the 0.1 bucket
  EXPECT_FALSE(MeetsAvailability(v));        // 99.8 < 99.9
  EXPECT_TRUE(MeetsErrorRate(v));
  EXPECT_FALSE(MeetsDispatchSuccess(v));  // "> 95 %": exactly 95 does not meet it
  EXPECT_TRUE(MeetsP95(v));
}

TEST(Slo, NoDataGivesNoValuesAndMeetsTargets) {
  SloValues v = Evaluate({});
  EXPECT_FALSE(v.availability_pct);
  EXPECT_FALSE(v.p95_latency_ms);
  EXPECT_FALSE(v.dispatch_success_pct);
  EXPECT_TRUE(MeetsAvailability(v) && MeetsErrorRate(v) && MeetsP95(v) && MeetsDispatchSuccess(v));
}

TEST(HistogramQuantile, InterpolatesLikePrometheus) {
  std::vector<double> bounds = {1, 2, 4};
  // 10 in (0,1], 10 in (1,2], 0 in (2,4], 0 in +Inf: the median is the bucket edge 1.
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.5, bounds, {10, 10, 0, 0}), 1);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.75, bounds, {10, 10, 0, 0}), 1.5);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.95, bounds, {0, 0, 10, 0}), 3.9);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.99, bounds, {1, 0, 0, 99}), 4);  // +Inf: last bound
  EXPECT_FALSE(HistogramQuantile(0.95, bounds, {0, 0, 0, 0}));
}

TEST(Slo, P95AtTheTargetBoundIsDecidedByTheCounts) {
  SloCounts fast, slow;
  fast.latency = Latency({{0.5, 95}, {1, 5}});  // 95 % within 500 ms
  slow.latency = Latency({{0.5, 94}, {1, 6}});
  fast.requests = slow.requests = 100;
  EXPECT_LE(*Evaluate(fast).p95_latency_ms, 500);
  EXPECT_GT(*Evaluate(slow).p95_latency_ms, 500);
  EXPECT_FALSE(MeetsP95(Evaluate(slow)));
}

}  // namespace
}  // namespace outpost::metrics
