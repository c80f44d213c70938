#include "cli/monitor.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

#include "metrics/metrics.h"

namespace outpost::cli {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kT0 = WallTime(seconds(1'800'000'000));

ProbeResult Answered(int status) { return {true, status, 1, "", ""}; }

// A sample at minute `m` whose cumulative counters are the given totals.
MonitorSample At(WallTime::duration offset, double requests, double errors, double completed = 0,
                 double failed = 0) {
  MonitorSample s;
  s.t = kT0 + offset;
  s.live = s.health = s.fleet = s.scrape = Answered(200);
  ServerCounters c;
  c.start_time = 1000;
  c.requests = requests;
  c.errors = errors;
  c.latency.assign(metrics::LatencyBuckets().size() + 1, 0);
  c.latency[3] = requests - errors;  // 10 ms
  c.runs_completed = completed;
  c.runs_failed = failed;
  s.counters = c;
  return s;
}

MonitorSample Unanswered(WallTime::duration offset) {
  MonitorSample s;
  s.t = kT0 + offset;
  s.live = s.health = s.fleet = s.scrape = ProbeResult{false, 0, 0, "", "Connection refused"};
  return s;
}

std::vector<std::string> Criteria(const std::vector<MonitorSample>& samples,
                                  Millis interval = Millis(60'000)) {
  std::vector<std::string> out;
  for (const auto& f : EvaluateRollback(Intervals(samples, interval))) out.push_back(f.criterion);
  return out;
}

// Availability 50 % in every minute after minute 0: 14 minutes do not make 15.
TEST(MonitorRollback, AvailabilityFiresAtFifteenMinutesNotFourteen) {
  std::vector<MonitorSample> s = {At(minutes(0), 100, 0)};
  for (int m = 1; m <= 14; ++m) s.push_back(At(minutes(m), 100 + 100 * m, 50 * m));
  EXPECT_TRUE(Criteria(s).empty());
  s.push_back(At(minutes(15), 1600, 750));
  ASSERT_EQ(Criteria(s), std::vector<std::string>{"availability"});
  auto findings = EvaluateRollback(Intervals(s, Millis(60'000)));
  EXPECT_EQ(findings[0].message,
            "ROLLBACK LEVEL 1 RECOMMENDED: API availability below 95% for 15 minutes (observed "
            "50.00% over the last 15.0 min since 08:00:00, 750 of 1500 requests failed)");
  // One good minute ends the stretch.
  s.push_back(At(minutes(16), 1700, 750));
  EXPECT_TRUE(Criteria(s).empty());
}

TEST(MonitorRollback, AvailabilityAtNinetyFivePercentDoesNotCount) {
  std::vector<MonitorSample> s = {At(minutes(0), 0, 0)};
  for (int m = 1; m <= 20; ++m) s.push_back(At(minutes(m), 100 * m, 5 * m));  // exactly 95 %
  EXPECT_TRUE(Criteria(s).empty());
}

// Runs fail in some ten-minute intervals, none finish in others: 29 minutes do not make 30.
TEST(MonitorRollback, DispatchSuccessFiresAtThirtyMinutesAcrossQuietIntervals) {
  const Millis ten(600'000);
  std::vector<MonitorSample> s = {At(minutes(0), 10, 0, 5, 0),    // all good before
                                  At(minutes(10), 20, 0, 5, 1),   // 1 failed
                                  At(minutes(20), 30, 0, 5, 1),   // no run finished
                                  At(minutes(29), 40, 0, 6, 5)};  // 1 of 5 completed
  EXPECT_TRUE(Criteria(s, ten).empty());
  s.push_back(At(minutes(30), 50, 0, 6, 5));
  ASSERT_EQ(Criteria(s, ten), std::vector<std::string>{"dispatch_success"});
  EXPECT_NE(EvaluateRollback(Intervals(s, ten))[0].message.find("1 of 6 finished runs COMPLETED"),
            std::string::npos);
  // 80 % exactly is not below 80 %.
  s.push_back(At(minutes(40), 60, 0, 10, 6));  // 4 of 5
  EXPECT_TRUE(Criteria(s, ten).empty());
}

TEST(MonitorRollback, UnresponsiveFiresAfterMoreThanFiveMinutes) {
  std::vector<MonitorSample> s = {At(minutes(0), 10, 0), Unanswered(minutes(1)),
                                  Unanswered(minutes(3)), Unanswered(minutes(6))};
  EXPECT_TRUE(Criteria(s).empty());  // exactly 5 minutes since the first silent sample
  s.push_back(Unanswered(minutes(6) + seconds(1)));
  auto c = Criteria(s);
  EXPECT_NE(std::find(c.begin(), c.end(), "unresponsive"), c.end());
  s.push_back(At(minutes(7), 20, 0));  // answers again: over
  c = Criteria(s);
  EXPECT_EQ(std::find(c.begin(), c.end(), "unresponsive"), c.end());
}

TEST(MonitorIntervals, CounterResetCountsWhatTheNewServerSaw) {
  MonitorSample before = At(minutes(0), 1000, 0);
  MonitorSample after = At(minutes(1), 10, 5);
  after.counters->start_time = 2000;  // another process
  auto in = Intervals({before, after}, Millis(60'000));
  EXPECT_EQ(in[1].counts.requests, 10u);
  EXPECT_EQ(in[1].counts.errors, 5u);
}

TEST(MonitorIntervals, UnansweredProbesAreRequestsThatFailed) {
  MonitorSample a = At(minutes(0), 100, 0);
  MonitorSample b = At(minutes(1), 110, 0);
  b.live = ProbeResult{false, 0, 0, "", "reset"};
  auto in = Intervals({a, b}, Millis(60'000));
  EXPECT_EQ(in[1].counts.requests, 11u);
  EXPECT_EQ(in[1].counts.errors, 1u);
  EXPECT_FALSE(in[1].unresponsive);
}

TEST(MonitorTable, ColumnsAreTheLastHoursWithTicksAndCrosses) {
  std::vector<MonitorSample> s = {At(minutes(0), 0, 0), At(minutes(60), 1000, 0, 10, 0),
                                  At(minutes(120), 2000, 100, 10, 10)};  // the last hour is bad
  std::string table = FormatMonitoringTable(Intervals(s, Millis(3'600'000)), s.back().t);
  EXPECT_NE(table.find("| API Availability      | 99.9%   | ✗ 90.00%"), std::string::npos) << table;
  EXPECT_NE(table.find("✗ 95.00%"), std::string::npos) << table;  // 6h: both hours
  EXPECT_NE(table.find("| Dispatch Success Rate | >95%    | ✗ 0.00% of 10"), std::string::npos)
      << table;
  EXPECT_NE(table.find("✗ 50.00% of 20"), std::string::npos) << table;
  EXPECT_NE(table.find("| P95 Latency           | <500ms  | ✓ 10 ms"), std::string::npos) << table;
}

TEST(MonitorLog, SamplesRoundTripAndATornLineIsSkipped) {
  const std::string dir = ::testing::TempDir() + "/monitor_log_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string log = dir + "/monitor.log";
  MonitorSample s = At(minutes(3), 42, 2, 1, 0);
  {
    std::ofstream out(log);
    out << boost::json::serialize(SampleToJson(At(minutes(2), 40, 2))) << "\n";
    out << boost::json::serialize(SampleToJson(s)) << "\n";
    out << "{\"type\":\"sample\",\"t\":\"2027-01";  // killed mid-write
  }
  SimulatedClock clock(kT0);
  MonitorOptions o;
  o.log_path = log;
  Monitor m(Endpoint{"127.0.0.1", 1, ""}, "", o, clock);
  auto loaded = m.Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, 1);
  ASSERT_EQ(m.samples().size(), 2u);
  const MonitorSample& back = m.samples()[1];
  EXPECT_EQ(back.t, s.t);
  EXPECT_EQ(back.counters->requests, 42);
  EXPECT_EQ(back.counters->runs_completed, 1);
  EXPECT_EQ(back.counters->latency, s.counters->latency);
  EXPECT_TRUE(back.live.answered);
}

}  // namespace
}  // namespace outpost::cli
