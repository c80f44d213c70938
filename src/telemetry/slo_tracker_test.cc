#include "telemetry/slo_tracker.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace outpost::telemetry {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(SloTracker, WindowsSumTheirMinutesAndDefinitionsHold) {
  SimulatedClock clock;
  SloTracker slo(clock);
  for (int i = 0; i < 98; ++i) slo.RecordRequest(true, 200, 0.01);
  slo.RecordRequest(true, 503, 0.01);
  slo.RecordRequest(false, 0, 0);      // not answered: an error, no latency
  slo.RecordRequest(true, 404, 0.01);  // a 4xx is available
  slo.RecordRunEnded("COMPLETED");
  slo.RecordRunEnded("FAILED");
  slo.RecordRunEnded("CANCELLED");
  clock.Advance(minutes(90));
  slo.RecordRequest(true, 200, 0.8);
  metrics::SloCounts hour = slo.Window(60);
  EXPECT_EQ(hour.requests, 1u);
  metrics::SloCounts day = slo.Window(24 * 60);
  EXPECT_EQ(day.requests, 102u);
  EXPECT_EQ(day.errors, 2u);
  EXPECT_EQ(day.runs_finished, 2u);
  EXPECT_EQ(day.runs_succeeded, 1u);
  auto v = metrics::Evaluate(day);
  EXPECT_NEAR(*v.availability_pct, 100.0 * 100 / 102, 1e-9);
  EXPECT_NEAR(*v.dispatch_success_pct, 50, 1e-9);
}

TEST(SloTracker, SeriesRunsFromStartOldestFirstAndKeeps24Hours) {
  SimulatedClock clock(WallTime(seconds(1'700'000'040)));  // :00 of a minute
  SloTracker slo(clock);
  slo.RecordRequest(true, 500, 0.1);
  clock.Advance(minutes(2));
  slo.RecordRequest(true, 200, 0.1);
  auto data = slo.ToJson();
  const auto& series = data.at("series").as_array();
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].at("t").as_string(), "2023-11-14T22:14:00.000Z");
  EXPECT_EQ(series[0].at("errors").as_uint64(), 1u);
  EXPECT_EQ(series[1].at("requests").as_uint64(), 0u);
  EXPECT_TRUE(series[1].at("p95LatencyMs").is_null());
  EXPECT_EQ(series[2].at("requests").as_uint64(), 1u);
  EXPECT_EQ(data.at("windows").at("1h").at("availability").to_number<double>(), 50);
  EXPECT_TRUE(data.at("windows").at("1h").at("dispatchSuccessRate").is_null());

  // A day later the old minutes are gone and their slots hold the new ones.
  clock.Advance(minutes(24 * 60));
  slo.RecordRequest(true, 200, 0.1);
  data = slo.ToJson();
  EXPECT_EQ(data.at("series").as_array().size(), std::size_t(SloTracker::kBuckets));
  EXPECT_EQ(data.at("windows").at("24h").at("requests").as_uint64(), 1u);
  EXPECT_EQ(data.at("windows").at("24h").at("errorRate").to_number<double>(), 0);
}

}  // namespace
}  // namespace outpost::telemetry
