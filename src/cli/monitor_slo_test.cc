// The /health/slo reading of `outpost monitor`: counts between readings in the server's time
// (a bucket's growth, newer buckets, a restarted server), the window P95s, malformed documents,
// and samples counted from it in intervals, the table and the log.
#include "cli/monitor_slo.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "cli/monitor.h"
#include "common/time_util.h"

namespace outpost::cli {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kT0 = WallTime(seconds(1'800'000'000));  // a whole minute

// One bucket of the series: {t, requests, errors, p95LatencyMs, runsFinished, runsSucceeded}.
std::string Bucket(int minute, int requests, int errors, int finished = 0, int succeeded = 0) {
  return "{\"t\":\"" + FormatTime(kT0 + minutes(minute)) +
         "\",\"requests\":" + std::to_string(requests) + ",\"errors\":" + std::to_string(errors) +
         ",\"p95LatencyMs\":12.5,\"runsFinished\":" + std::to_string(finished) +
         ",\"runsSucceeded\":" + std::to_string(succeeded) + "}";
}

std::string Doc(const std::string& buckets, const std::string& p95_1h = "40") {
  std::string w = "{\"requests\":1,\"availability\":100,\"errorRate\":0,\"p95LatencyMs\":";
  return "{\"success\":true,\"data\":{\"windows\":{\"1h\":" + w + p95_1h + "},\"6h\":" + w +
         "41},\"12h\":" + w + "42},\"24h\":" + w + "null}},\"series\":[" + buckets +
         "],\"bucketSeconds\":60,\"targets\":{}}}";
}

TEST(MonitorSlo, FirstReadingIsTheCursorOnly) {
  auto r = ReadSlo(Doc(Bucket(0, 10, 1) + "," + Bucket(1, 7, 0)), std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->since_previous.has_value());
  EXPECT_EQ(r->newest.t, kT0 + minutes(1));
  EXPECT_EQ(r->newest.counts.requests, 7u);
  EXPECT_EQ(r->p95_ms.at(1), 40);
  EXPECT_EQ(r->p95_ms.at(12), 42);
  EXPECT_FALSE(r->p95_ms.at(24).has_value());
}

TEST(MonitorSlo, CountsTheCursorBucketsGrowthAndEveryNewerBucket) {
  auto first = ReadSlo(Doc(Bucket(0, 10, 1) + "," + Bucket(1, 7, 0, 1, 1)), std::nullopt);
  ASSERT_TRUE(first.ok());
  // Minute 1 grew by 5 requests, 2 errors and a failed run; minute 2 is new; minute 0 is old.
  auto second =
      ReadSlo(Doc(Bucket(0, 10, 1) + "," + Bucket(1, 12, 2, 2, 1) + "," + Bucket(2, 4, 1, 1, 1)),
              first->newest);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->since_previous.has_value());
  EXPECT_EQ(second->since_previous->requests, 9u);
  EXPECT_EQ(second->since_previous->errors, 3u);
  EXPECT_EQ(second->since_previous->runs_finished, 2u);
  EXPECT_EQ(second->since_previous->runs_succeeded, 1u);
  EXPECT_TRUE(second->since_previous->latency.empty());
  EXPECT_EQ(second->newest.t, kT0 + minutes(2));
}

TEST(MonitorSlo, ARestartedServerCountsWhatItSawSinceItsStart) {
  SloCursor before{kT0 + minutes(5), {}};
  before.counts.requests = 300;
  // The new process started at minute 7: nothing of the cursor's bucket is left.
  auto r = ReadSlo(Doc(Bucket(7, 3, 0) + "," + Bucket(8, 4, 2)), before);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->since_previous->requests, 7u);
  EXPECT_EQ(r->since_previous->errors, 2u);
  // Restarted within the cursor's minute: its smaller bucket is no negative count.
  auto same_minute = ReadSlo(Doc(Bucket(5, 2, 0)), before);
  ASSERT_TRUE(same_minute.ok());
  EXPECT_EQ(same_minute->since_previous->requests, 0u);
}

TEST(MonitorSlo, WhatIsNotTheDocumentIsInvalidArgument) {
  for (const std::string& bad :
       {std::string("not json"), std::string("{\"success\":true}"), Doc(""),
        Doc("{\"requests\":1}"), Doc("3"), std::string("{\"data\":{\"series\":{}}}")}) {
    auto r = ReadSlo(bad, std::nullopt);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

MonitorSample Refused(WallTime::duration at, std::optional<SloReading> slo) {
  MonitorSample s;
  s.t = kT0 + at;
  s.live = s.health = s.fleet = {true, 200, 1, "", ""};
  s.scrape = {true, 403, 1, "", ""};
  s.metrics_error = "HTTP 403 AUTHORIZATION_ERROR: API key lacks the required scope: admin";
  s.slo_probe = ProbeResult{true, slo ? 200 : 403, 1, "", ""};
  if (!slo) s.slo_error = "HTTP 403 AUTHORIZATION_ERROR: API key lacks the required scope: status";
  s.slo = std::move(slo);
  return s;
}

SloReading Reading(int minute, int requests, int errors, int finished, int succeeded) {
  SloReading r;
  r.newest.t = kT0 + minutes(minute);
  metrics::SloCounts c;
  c.requests = requests;
  c.errors = errors;
  c.runs_finished = finished;
  c.runs_succeeded = succeeded;
  r.since_previous = c;
  r.p95_ms = {{1, 30.0}, {6, 31.0}, {12, std::nullopt}, {24, 33.0}};
  return r;
}

TEST(MonitorSlo, IntervalsAndTableFromTheReadings) {
  SloReading first = Reading(0, 0, 0, 0, 0);
  first.since_previous.reset();
  std::vector<MonitorSample> s = {Refused(minutes(0), first),
                                  Refused(minutes(10), Reading(10, 100, 10, 4, 1))};
  auto in = Intervals(s, Millis(600'000));
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].counts.requests, 0u);  // where the figures start
  EXPECT_EQ(in[1].counts.requests, 100u);
  EXPECT_EQ(in[1].counts.errors, 10u);
  EXPECT_EQ(in[1].counts.runs_finished, 4u);
  std::string table = FormatMonitoringTable(in, s.back().t, {}, &s.back().slo->p95_ms);
  EXPECT_NE(table.find("| API Availability      | 99.9%   | ✗ 90.00%"), std::string::npos) << table;
  EXPECT_NE(table.find("| Dispatch Success Rate | >95%    | ✗ 25.00% of 4"), std::string::npos)
      << table;
  EXPECT_NE(table.find("| P95 Latency           | <500ms  | ✓ 30 ms (server)     | ✓ 31 ms "
                       "(server)     | - no data            | ✓ 33 ms (server)"),
            std::string::npos)
      << table;
  EXPECT_EQ(FiguresNote(s.back()),
            "figures: GET /metrics answered HTTP 403 AUTHORIZATION_ERROR: API key lacks the "
            "required scope: admin (it needs the admin scope or the metrics token), so requests, "
            "errors and finished runs are read from GET /health/slo; P95 latency is the server's "
            "own (marked \"server\")");
}

TEST(MonitorSlo, BothRefusedCountsTheFiveProbesAndSaysWhy) {
  std::vector<MonitorSample> s = {Refused(minutes(0), std::nullopt),
                                  Refused(minutes(1), std::nullopt)};
  s[1].health.status = 503;
  auto in = Intervals(s, Millis(60'000));
  EXPECT_EQ(in[1].counts.requests, 5u);
  EXPECT_EQ(in[1].counts.errors, 1u);
  EXPECT_EQ(FiguresNote(s[1]),
            "figures missing: GET /metrics answered HTTP 403 AUTHORIZATION_ERROR: API key lacks "
            "the required scope: admin (it needs the admin scope or the metrics token) and GET "
            "/health/slo answered HTTP 403 AUTHORIZATION_ERROR: API key lacks the required scope: "
            "status (it needs the status scope): only the monitor's own probes are counted; P95 "
            "latency and dispatch success have no data");
  MonitorSample down;
  down.metrics_error = "no answer: connection refused";
  EXPECT_EQ(FiguresNote(down),
            "figures missing: GET /metrics got no answer: connection refused: only the monitor's "
            "own probes are counted");
}

TEST(MonitorSlo, ReadingsRoundTripThroughTheLog) {
  MonitorSample s = Refused(minutes(3), Reading(3, 9, 1, 2, 2));
  auto back = SampleFromJson(boost::json::parse(boost::json::serialize(SampleToJson(s))));
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->slo && back->slo_probe);
  EXPECT_EQ(back->slo_probe->status, 200);
  EXPECT_EQ(back->slo->newest.t, kT0 + minutes(3));
  EXPECT_EQ(back->slo->since_previous->requests, 9u);
  EXPECT_EQ(back->slo->since_previous->runs_succeeded, 2u);
  EXPECT_EQ(back->slo->p95_ms, s.slo->p95_ms);
  EXPECT_EQ(back->metrics_error, s.metrics_error);
  // A sample from /metrics has neither.
  MonitorSample plain = Refused(minutes(4), std::nullopt);
  plain.slo_probe.reset();
  plain.slo_error.clear();
  back = SampleFromJson(boost::json::parse(boost::json::serialize(SampleToJson(plain))));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->slo_probe || back->slo);
}

}  // namespace
}  // namespace outpost::cli
