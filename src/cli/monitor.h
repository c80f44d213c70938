// `outpost monitor`: the runbook's Step 6 (24-hour monitoring) and §4.1 (when to roll back) as
// a command. Every sample probes GET /health/live, /health and /health/fleet and scrapes
// GET /metrics (the server's cumulative request, latency and run counters); consecutive
// samples give an interval's counts (metrics/slo.h has the definitions). When /metrics refuses
// the key (401/403: it needs the `admin` scope or the metrics token) the counts come from
// GET /health/slo instead (the `status` scope; monitor_slo.h), and when that is refused too only
// the probes are counted; each such sample prints which figures are missing and why. The monitoring
// table sums the intervals of the last 1, 6, 12 and 24 hours, and the Level 1 rollback criteria are
// judged over sustained stretches of intervals:
//
//   availability   every interval below 95 % for at least 15 minutes
//   dispatch       every interval in which runs finished below 80 % success, for at least
//                  30 minutes (an interval in which no run finished neither breaks the stretch
//                  nor starts it: no evidence of recovery)
//   unresponsive   no probe answered, in every sample for more than 5 minutes (from the first
//                  sample that got no answer)
//
// A stretch starts where its first interval starts (the sample before it); an interval spans
// at most two sampling intervals, so a gap in sampling (the monitor was down) is not taken as
// observed time.
//
// Every sample is appended as one JSON line to the log file, which is the monitor's memory: a
// restarted monitor reads it back (a torn last line is skipped) and loses nothing. Rollback
// recommendations are printed and logged as lines starting
// "ROLLBACK LEVEL 1 RECOMMENDED: <criterion, observed values>".
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/monitor_slo.h"
#include "cli/probe.h"
#include "client/http_client.h"
#include "common/clock.h"
#include "metrics/slo.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::Endpoint;
using client::ParseEndpoint;
using client::RequestOptions;

// The server's cumulative counters from one /metrics scrape.
struct ServerCounters {
  double start_time = 0;  // process_start_time_seconds: a change means the counters restarted
  double requests = 0;
  double errors = 0;            // answered 5xx
  std::vector<double> latency;  // answered requests per metrics::LatencyBuckets() bucket, +Inf
  double runs_completed = 0, runs_failed = 0, runs_timeout = 0, runs_cancelled = 0;
};

// Parses a /metrics text into the counters above; kInvalidArgument when it is not the format.
Result<ServerCounters> CountersFromMetrics(std::string_view text);

struct MonitorSample {
  WallTime t;
  ProbeResult live, health, fleet, scrape;  // bodies are not kept
  std::string health_status;                // /health .status, "" when none
  std::optional<bool> fleet_healthy;        // /health/fleet .healthy
  std::optional<ServerCounters> counters;   // when the scrape succeeded
  // Only when /metrics refused the key (401/403): GET /health/slo, and what it gave.
  std::optional<ProbeResult> slo_probe;
  std::optional<SloReading> slo;
  // Why /metrics (and /health/slo) gave no figures: "HTTP 403 AUTHORIZATION_ERROR: API key
  // lacks the required scope: admin", "no answer: …"; "" when it gave them or was not asked.
  std::string metrics_error, slo_error;
};

// The line saying which figures of `s` are missing or read from /health/slo, and why; "" when
// /metrics served them.
std::string FiguresNote(const MonitorSample& s);

boost::json::object SampleToJson(const MonitorSample& s);
Result<MonitorSample> SampleFromJson(const boost::json::value& v);

// The counts of the interval that ends at samples[i] (see above).
struct Interval {
  WallTime start, end;
  metrics::SloCounts counts;
  bool unresponsive = false;  // no probe of samples[i] got an answer
};
std::vector<Interval> Intervals(const std::vector<MonitorSample>& samples, Millis sample_interval);

struct RollbackFinding {
  std::string criterion;  // "availability", "dispatch_success", "unresponsive"
  std::string message;    // "ROLLBACK LEVEL 1 RECOMMENDED: …"
};
// The Level 1 criteria that hold at the last interval.
std::vector<RollbackFinding> EvaluateRollback(const std::vector<Interval>& intervals,
                                              const metrics::RollbackThresholds& t = {});

// The runbook's monitoring table for the intervals ending within 1, 6, 12 and 24 hours of `now`.
// `server_p95` (hours -> ms, from /health/slo) fills the P95 cell of a column whose intervals
// carry no latency, marked "server".
std::string FormatMonitoringTable(const std::vector<Interval>& intervals, WallTime now,
                                  const metrics::SloTargets& targets = {},
                                  const std::map<int, std::optional<double>>* server_p95 = nullptr);

struct MonitorOptions {
  Millis interval{300'000};
  std::string log_path;  // empty: no log (and no memory across restarts)
  Millis request_timeout{10'000};
};

class Monitor {
 public:
  // `clock` gives the samples' times (a simulated one in tests: samples are then taken at
  // simulated times, with real HTTP).
  Monitor(Endpoint endpoint, std::string api_key, MonitorOptions options, const Clock& clock);

  // Reads the log back (absent: nothing yet). Lines that do not parse are skipped and counted;
  // kInternal when the file cannot be read.
  Result<int> Load();
  // Probes and scrapes now (/health/slo's count starts where the last sample's reading ended).
  MonitorSample TakeSample() const;
  // Appends the sample (memory and log), prints the sample line, the table and any rollback
  // recommendation (also logged); returns the criteria that hold.
  std::vector<RollbackFinding> Record(MonitorSample sample, std::ostream& out);
  // TakeSample + Record.
  std::vector<RollbackFinding> Step(std::ostream& out) { return Record(TakeSample(), out); }

  const std::vector<MonitorSample>& samples() const { return samples_; }

 private:
  // GET /health/slo into s.slo (or s.slo_error), counted from the last sample's reading.
  void ReadHealthSlo(const RequestOptions& req, MonitorSample& s) const;
  void AppendLog(const boost::json::object& line);

  Endpoint endpoint_;
  std::string api_key_;
  MonitorOptions opts_;
  const Clock& clock_;
  std::vector<MonitorSample> samples_;  // oldest first, the last 25 hours
};

}  // namespace outpost::cli
