// ServerMetrics: Outpost's own series (README "Metrics") on one metrics::Registry, and the
// hooks that feed them: every HTTP request (http::RequestHook, at the router, so every route,
// /mcp and /files included, is counted once under its pattern), every dispatch, run start and
// run end (RunObserver), store and artifact-store failures (the Instrumented* decorators), and
// scrape-time views of the supervisor (queue depth, running runs, reaper actions), computed
// when /metrics is read rather than kept by hand. The SloTracker behind GET /health/slo is fed
// by the same observations.
//
// Thread-safe. The HTTP hook takes no lock shared by all requests (metrics/metrics.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "core/run_observer.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "telemetry/slo_tracker.h"

namespace outpost {
class Supervisor;
}

namespace outpost::telemetry {

struct ServerMetricsOptions {
  // Agents the dispatch counter may name; any other name a request carries is "unknown" (a
  // label never takes an unbounded value from a request).
  std::vector<std::string> agents;
  bool sandbox_runner = false;  // sandbox start times are observed only for sandboxed runs
};

class ServerMetrics final : public http::RequestHook, public RunObserver {
 public:
  ServerMetrics(const Clock& clock, ServerMetricsOptions options);

  metrics::Registry& registry() { return registry_; }
  SloTracker& slo() { return slo_; }
  std::string ExposeText() const { return registry_.ExposeText(); }
  boost::json::object SloJson() const { return slo_.ToJson(); }

  // Queue depth, running runs and reaper actions, read from `supervisor` at every scrape. It
  // must outlive this object's scrapes.
  void WatchSupervisor(const Supervisor& supervisor);

  // outpost_dynamodb_calls_total{operation}: `calls` (read at every scrape) returns how many
  // calls of each DynamoDB operation the store's client made since start (aws::DynamoDbClient::
  // Counts). It and what it reads must outlive this object's scrapes.
  using CallCounts = std::function<std::map<std::string, std::int64_t>()>;
  void WatchDynamoDbCalls(CallCounts calls);

  // A failed store call: `store` "run" or "artifact", `operation` its method ("update").
  // kNotFound and kConflict are answers, not failures, and are not counted.
  void StoreError(std::string_view store, std::string_view operation, Code code);

  void After(const http::Request& req, std::string_view route, const http::Response& res,
             std::chrono::nanoseconds elapsed) override;
  void OnDispatch(std::string_view agent, const Run* run, bool created,
                  const Status& error) override;
  void OnStarted(const Run& run, WallTime admitted, WallTime started) override;
  void OnEnded(const Run& run) override;

 private:
  std::string_view AgentLabel(std::string_view agent) const;

  ServerMetricsOptions opts_;
  metrics::Registry registry_;
  SloTracker slo_;
  metrics::CounterFamily& http_requests_;
  metrics::HistogramFamily& http_duration_;
  metrics::CounterFamily& dispatches_;
  metrics::HistogramFamily& run_duration_;
  metrics::HistogramFamily& dispatch_to_running_;
  metrics::HistogramFamily& sandbox_start_;
  metrics::CounterFamily& store_errors_;
  metrics::CounterFamily& artifact_errors_;
};

}  // namespace outpost::telemetry
