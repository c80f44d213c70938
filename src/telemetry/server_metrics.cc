#include "telemetry/server_metrics.h"

#include <algorithm>
#include <array>

#include "core/supervisor.h"

namespace outpost::telemetry {
namespace {

using metrics::CallbackValue;
using metrics::MetricType;

double Seconds(WallTime::duration d) { return std::chrono::duration<double>(d).count(); }

// Client-chosen methods would be unbounded label values.
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "HEAD",  "POST",   "PUT",
                                                             "DELETE", "PATCH", "OPTIONS"};
  for (std::string_view m : kKnown) {
    if (m == method) return m;
  }
  return "OTHER";
}

std::string_view DispatchStatus(bool created, const Status& error) {
  if (error.ok()) return created ? "created" : "replayed";
  switch (error.code()) {
    case Code::kInvalidArgument:
    case Code::kPayloadTooLarge:
      return "invalid";
    case Code::kConflict:
      return "conflict";
    case Code::kUnavailable:
      return "unavailable";
    default:
      return "error";
  }
}

const std::vector<double>& RunDurationBuckets() {
  static const std::vector<double> kBuckets = {1,   5,    10,   30,   60,    120,   300,
                                               600, 1800, 3600, 7200, 14400, 43200, 86400};
  return kBuckets;
}

const std::vector<double>& StartBuckets() {
  static const std::vector<double> kBuckets = {0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                               5,    10,  30,   60,  120, 300};
  return kBuckets;
}

}  // namespace

ServerMetrics::ServerMetrics(const Clock& clock, ServerMetricsOptions options)
    : opts_(std::move(options)),
      slo_(clock),
      http_requests_(
          registry_.AddCounter("outpost_http_requests_total",
                               "HTTP requests answered, by route pattern, method and status code.",
                               {"route", "method", "code"})),
      http_duration_(registry_.AddHistogram(
          "outpost_http_request_duration_seconds",
          "Time from a parsed request to its response (head of a stream), by route pattern, "
          "method and status code.",
          {"route", "method", "code"}, metrics::LatencyBuckets())),
      dispatches_(registry_.AddCounter(
          "outpost_dispatches_total",
          "Dispatch requests by agent and outcome (created, replayed, invalid, conflict, "
          "unavailable, error); a fan-out counts once per run.",
          {"agent", "status"})),
      run_duration_(registry_.AddHistogram(
          "outpost_run_duration_seconds",
          "Duration of finished runs (start to end; end minus creation for runs that never "
          "started), by agent and terminal status.",
          {"agent", "status"}, RunDurationBuckets())),
      dispatch_to_running_(registry_.AddHistogram(
          "outpost_dispatch_to_running_seconds",
          "Time from dispatch (creation) to the agent process running, by agent.", {"agent"},
          StartBuckets())),
      sandbox_start_(registry_.AddHistogram(
          "outpost_sandbox_start_seconds",
          "Time from admission by the supervisor to the sandboxed agent process running, as "
          "the run's shim reports it (checkout included), by agent.",
          {"agent"}, StartBuckets())),
      store_errors_(registry_.AddCounter(
          "outpost_store_errors_total",
          "Failed run-store calls by operation and status code (not-found and conflict "
          "answers are not failures).",
          {"operation", "code"})),
      artifact_errors_(registry_.AddCounter(
          "outpost_artifact_store_errors_total",
          "Failed artifact-store calls by operation and status code (not-found answers are not "
          "failures).",
          {"operation", "code"})) {
  const double start = std::chrono::duration<double>(clock.Now().time_since_epoch()).count();
  registry_.AddCallback("process_start_time_seconds",
                        "Start time of the process since the Unix epoch, in seconds.",
                        MetricType::kGauge, {}, [start] {
                          return std::vector<CallbackValue>{{{}, start}};
                        });
  registry_.AddCallback("outpost_build_info", "The running Outpost version (always 1).",
                        MetricType::kGauge, {"version"}, [] {
                          return std::vector<CallbackValue>{{{OUTPOST_VERSION}, 1}};
                        });
}

void ServerMetrics::WatchDynamoDbCalls(CallCounts calls) {
  registry_.AddCallback(
      "outpost_dynamodb_calls_total",
      "DynamoDB calls of the run store's client since start (runs, quotas, audit, events "
      "tables), by operation; a call retried counts once.",
      MetricType::kCounter, {"operation"}, [calls = std::move(calls)] {
        std::vector<CallbackValue> out;
        for (const auto& [op, n] : calls()) out.push_back({{op}, static_cast<double>(n)});
        return out;
      });
}

void ServerMetrics::WatchSupervisor(const Supervisor& supervisor) {
  const Supervisor* s = &supervisor;
  auto per_agent = [this, s](bool queued) {
    SupervisorSnapshot snap = s->Snapshot();
    const auto& counts = queued ? snap.queued_by_agent : snap.running_by_agent;
    std::vector<CallbackValue> out;
    for (const std::string& agent : opts_.agents) {
      auto it = counts.find(agent);
      out.push_back({{agent}, it == counts.end() ? 0.0 : double(it->second)});
    }
    return out;
  };
  registry_.AddCallback("outpost_runs_queued",
                        "PENDING runs waiting for capacity, per agent (the supervisor's view).",
                        MetricType::kGauge, {"agent"}, [per_agent] { return per_agent(true); });
  registry_.AddCallback("outpost_runs_running",
                        "Runs this replica supervises now, per agent (the supervisor's view).",
                        MetricType::kGauge, {"agent"}, [per_agent] { return per_agent(false); });
  registry_.AddCallback(
      "outpost_reaper_actions_total",
      "What the supervisor's reaper fixed since start, by action (as /health/fleet's reaper).",
      MetricType::kCounter, {"action"}, [s] {
        SupervisorSnapshot snap = s->Snapshot();
        const ReaperStats& r = snap.reaper;
        return std::vector<CallbackValue>{
            {{"supervisor_lost"}, double(r.supervisor_lost)},
            {{"leftovers_killed"}, double(r.leftovers_killed)},
            {{"recovered_on_start"}, double(r.recovered_on_start)},
            {{"adopted_on_start"}, double(r.adopted_on_start)},
            {{"orphan_runs_reaped"}, double(r.orphan_runs_reaped)},
            {{"orphan_processes_killed"}, double(r.orphan_processes_killed)},
            {{"node_lost"}, double(snap.node_lost)},
            {{"taken_over"}, double(snap.taken_over)}};
      });
  registry_.AddCallback("outpost_supervisor_ticks_total",
                        "Passes of the supervisor's loop since start.", MetricType::kCounter, {},
                        [s] {
                          return std::vector<CallbackValue>{{{}, double(s->Snapshot().ticks)}};
                        });
  registry_.AddCallback(
      "outpost_supervisor_store_reads_total",
      "The supervisor loop's reads of the active runs since start, by read: change_marker (one "
      "cheap read per pass), list_active (every PENDING and RUNNING run, only when the marker "
      "moved, and every 30 s).",
      MetricType::kCounter, {"read"}, [s] {
        SupervisorSnapshot snap = s->Snapshot();
        return std::vector<CallbackValue>{{{"change_marker"}, double(snap.marker_reads)},
                                          {{"list_active"}, double(snap.active_listings)}};
      });
}

void ServerMetrics::StoreError(std::string_view store, std::string_view operation, Code code) {
  if (code == Code::kOk || code == Code::kNotFound || code == Code::kConflict) return;
  metrics::CounterFamily& family = store == "artifact" ? artifact_errors_ : store_errors_;
  family.Labels({operation, CodeName(code)}).Inc();
}

void ServerMetrics::After(const http::Request& req, std::string_view route,
                          const http::Response& res, std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  if (res.drop_connection) {  // an injected fault: no answer, so no status code to count
    slo_.RecordRequest(false, 0, seconds);
    return;
  }
  char code[8];
  const int n = std::snprintf(code, sizeof code, "%d", res.status);
  const std::string_view code_label(code, n > 0 ? std::size_t(n) : 0);
  const std::string_view method = MethodLabel(req.method);
  http_requests_.Labels({route, method, code_label}).Inc();
  http_duration_.Labels({route, method, code_label}).Observe(seconds);
  slo_.RecordRequest(true, res.status, seconds);
}

std::string_view ServerMetrics::AgentLabel(std::string_view agent) const {
  if (agent.empty()) return "none";
  for (const std::string& a : opts_.agents) {
    if (a == agent) return a;
  }
  return "unknown";
}

void ServerMetrics::OnDispatch(std::string_view agent, const Run*, bool created,
                               const Status& error) {
  dispatches_.Labels({AgentLabel(agent), DispatchStatus(created, error)}).Inc();
}

void ServerMetrics::OnStarted(const Run& run, WallTime admitted, WallTime started) {
  const std::string_view agent = AgentLabel(run.agent);
  dispatch_to_running_.Labels({agent}).Observe(std::max(0.0, Seconds(started - run.created_at)));
  if (opts_.sandbox_runner) {
    sandbox_start_.Labels({agent}).Observe(std::max(0.0, Seconds(started - admitted)));
  }
}

void ServerMetrics::OnEnded(const Run& run) {
  const std::string_view status = ToString(run.status);
  const WallTime from = run.started_at.value_or(run.created_at);
  const WallTime to = run.ended_at.value_or(from);
  run_duration_.Labels({AgentLabel(run.agent), status}).Observe(std::max(0.0, Seconds(to - from)));
  slo_.RecordRunEnded(status);
}

}  // namespace outpost::telemetry
