#include "telemetry/server_metrics.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/envelope.h"
#include "metrics/text_parser.h"
#include "telemetry/instrumented_stores.h"
#include "telemetry/routes.h"

namespace outpost::telemetry {
namespace {

using metrics::ParsedText;

struct Fixture {
  SimulatedClock clock;
  std::shared_ptr<ServerMetrics> m =
      std::make_shared<ServerMetrics>(clock, ServerMetricsOptions{{"shell", "claude"}, true});
  http::Router router;

  Fixture() {
    router.Add("GET", "/runs/{id}", [this](const http::Request&, const http::PathParams&) {
      clock.Advance(std::chrono::milliseconds(300));  // the handler takes 300 ms
      return http::JsonResponse(200, boost::json::object{});
    });
    router.Add("POST", "/boom",
               [](const http::Request&, const http::PathParams&) -> http::Response {
                 throw std::runtime_error("x");
               });
    RegisterTelemetryRoutes(router, *m, clock);
    router.AddHook(m);
  }
  http::Response Call(std::string method, std::string target) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    return http::HandleRequest(router, req, clock);
  }
  ParsedText Scrape() {
    http::Response r = Call("GET", "/metrics");
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    auto parsed = metrics::ParseText(r.body);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? *parsed : ParsedText{};
  }
};

TEST(ServerMetrics, CountsEveryRequestOnceUnderItsPattern) {
  Fixture f;
  f.Call("GET", "/runs/01AAA");
  f.Call("GET", "/runs/01BBB");
  f.Call("POST", "/boom");
  f.Call("GET", "/random/1");
  f.Call("GET", "/random/2");
  f.Call("BREW", "/runs/x");
  ParsedText t = f.Scrape();
  EXPECT_EQ(t.Value("outpost_http_requests_total",
                    {{"route", "/runs/{id}"}, {"method", "GET"}, {"code", "200"}}),
            2);
  EXPECT_EQ(t.Value("outpost_http_requests_total",
                    {{"route", "/boom"}, {"method", "POST"}, {"code", "500"}}),
            1);
  EXPECT_EQ(t.Value("outpost_http_requests_total",
                    {{"route", "unmatched"}, {"method", "GET"}, {"code", "404"}}),
            2);
  EXPECT_EQ(t.Value("outpost_http_requests_total",
                    {{"route", "/runs/{id}"}, {"method", "OTHER"}, {"code", "405"}}),
            1);
  // Nothing names a raw path.
  for (const auto& s : t.samples) {
    auto it = s.labels.find("route");
    if (it != s.labels.end()) {
      EXPECT_EQ(it->second.find("01AAA"), std::string::npos);
    }
  }
  // The latency histogram saw 300 ms twice: in the (0.25, 0.5] bucket.
  std::map<std::string, std::string> get200 = {
      {"route", "/runs/{id}"}, {"method", "GET"}, {"code", "200"}};
  auto bucket = [&](const char* le) {
    auto labels = get200;
    labels["le"] = le;
    return t.Value("outpost_http_request_duration_seconds_bucket", labels);
  };
  EXPECT_EQ(bucket("0.25"), 0);
  EXPECT_EQ(bucket("0.5"), 2);
  EXPECT_EQ(bucket("+Inf"), 2);
  EXPECT_NEAR(*t.Value("outpost_http_request_duration_seconds_sum", get200), 0.6, 1e-9);
  EXPECT_EQ(t.types.at("outpost_http_request_duration_seconds"), "histogram");
}

TEST(ServerMetrics, DispatchOutcomesAndAgentsAreBoundedLabels) {
  Fixture f;
  outpost::Run run;
  run.agent = "shell";
  f.m->OnDispatch("shell", &run, true, Status::Ok());
  f.m->OnDispatch("shell", &run, false, Status::Ok());
  f.m->OnDispatch("a-name-nobody-configured", nullptr, false, InvalidArgument("no"));
  f.m->OnDispatch("", nullptr, false, Unavailable("disk"));
  ParsedText t = f.Scrape();
  EXPECT_EQ(t.Value("outpost_dispatches_total", {{"agent", "shell"}, {"status", "created"}}), 1);
  EXPECT_EQ(t.Value("outpost_dispatches_total", {{"agent", "shell"}, {"status", "replayed"}}), 1);
  EXPECT_EQ(t.Value("outpost_dispatches_total", {{"agent", "unknown"}, {"status", "invalid"}}), 1);
  EXPECT_EQ(t.Value("outpost_dispatches_total", {{"agent", "none"}, {"status", "unavailable"}}), 1);
}

TEST(ServerMetrics, RunStartAndEndTimes) {
  Fixture f;
  outpost::Run run;
  run.agent = "shell";
  run.created_at = f.clock.Now();
  const WallTime admitted = run.created_at + std::chrono::seconds(2);
  const WallTime started = admitted + std::chrono::milliseconds(700);
  f.m->OnStarted(run, admitted, started);
  run.status = RunStatus::kCompleted;
  run.started_at = started;
  run.ended_at = started + std::chrono::seconds(42);
  f.m->OnEnded(run);
  outpost::Run cancelled;
  cancelled.agent = "claude";
  cancelled.status = RunStatus::kCancelled;
  cancelled.created_at = f.clock.Now();
  cancelled.ended_at = cancelled.created_at + std::chrono::seconds(3);
  f.m->OnEnded(cancelled);
  ParsedText t = f.Scrape();
  EXPECT_NEAR(*t.Value("outpost_dispatch_to_running_seconds_sum", {{"agent", "shell"}}), 2.7, 1e-9);
  EXPECT_NEAR(*t.Value("outpost_sandbox_start_seconds_sum", {{"agent", "shell"}}), 0.7, 1e-9);
  EXPECT_EQ(
      t.Value("outpost_run_duration_seconds_count", {{"agent", "shell"}, {"status", "COMPLETED"}}),
      1);
  EXPECT_NEAR(
      *t.Value("outpost_run_duration_seconds_sum", {{"agent", "shell"}, {"status", "COMPLETED"}}),
      42, 1e-9);
  EXPECT_NEAR(
      *t.Value("outpost_run_duration_seconds_sum", {{"agent", "claude"}, {"status", "CANCELLED"}}),
      3, 1e-9);
  // The SLO history counts the completed run, not the cancelled one.
  metrics::SloCounts w = f.m->slo().Window(60);
  EXPECT_EQ(w.runs_finished, 1u);
  EXPECT_EQ(w.runs_succeeded, 1u);
}

class FailingStore final : public RunStore {
 public:
  Result<CreateResult> Create(const Run&) override { return Unavailable("busy"); }
  Result<std::vector<CreateResult>> CreateAll(const std::vector<Run>&, const Admission&) override {
    return Unavailable("busy");
  }
  Result<Run> Get(const RunId&) override { return NotFound("no"); }
  Result<RunPage> List(const ListQuery&) override { return Internal("broken"); }
  Result<Run> Update(const Run&) override { return Conflict("raced"); }
  Result<std::vector<Run>> ListActive() override { return std::vector<Run>{}; }
  Result<RunStats> Stats(WallTime, const std::optional<std::string>&) override {
    return RunStats{};
  }
  Status Ping() override { return Unavailable("down"); }
  Status Heartbeat(const ReplicaInfo&) override { return Status::Ok(); }
  Result<std::vector<ReplicaInfo>> ListReplicas() override { return std::vector<ReplicaInfo>{}; }
};

TEST(InstrumentedRunStore, CountsFailuresByOperationAndCodeAndForwardsResults) {
  Fixture f;
  FailingStore inner;
  InstrumentedRunStore store(inner, *f.m);
  EXPECT_EQ(store.Create(outpost::Run{}).status().code(), Code::kUnavailable);
  EXPECT_EQ(store.Create(outpost::Run{}).status().code(), Code::kUnavailable);
  EXPECT_EQ(store.Get(RunId("x")).status().code(), Code::kNotFound);
  EXPECT_EQ(store.List({}).status().code(), Code::kInternal);
  EXPECT_EQ(store.Update(outpost::Run{}).status().code(), Code::kConflict);
  EXPECT_EQ(store.Ping().code(), Code::kUnavailable);
  EXPECT_TRUE(store.ListActive().ok());
  ParsedText t = f.Scrape();
  EXPECT_EQ(
      t.Value("outpost_store_errors_total", {{"operation", "create"}, {"code", "UNAVAILABLE"}}), 2);
  EXPECT_EQ(t.Value("outpost_store_errors_total", {{"operation", "list"}, {"code", "INTERNAL"}}),
            1);
  EXPECT_EQ(t.Value("outpost_store_errors_total", {{"operation", "ping"}, {"code", "UNAVAILABLE"}}),
            1);
  EXPECT_EQ(t.Sum("outpost_store_errors_total"), 4);  // not-found and conflict are answers
}

TEST(ServerMetrics, DynamoDbCallsAreReadAtEveryScrape) {
  Fixture f;
  std::map<std::string, std::int64_t> calls{{"Query", 3}};
  f.m->WatchDynamoDbCalls([&calls] { return calls; });
  ParsedText t = f.Scrape();
  EXPECT_EQ(t.Value("outpost_dynamodb_calls_total", {{"operation", "Query"}}), 3);
  calls["PutItem"] = 2;
  calls["Query"] = 4;
  t = f.Scrape();
  EXPECT_EQ(t.Value("outpost_dynamodb_calls_total", {{"operation", "Query"}}), 4);
  EXPECT_EQ(t.Value("outpost_dynamodb_calls_total", {{"operation", "PutItem"}}), 2);
  EXPECT_EQ(t.Sum("outpost_dynamodb_calls_total"), 6);
}

TEST(ServerMetrics, HealthSloIsServedInTheEnvelope) {
  Fixture f;
  f.Call("GET", "/runs/1");
  http::Response r = f.Call("GET", "/health/slo");
  ASSERT_EQ(r.status, 200);
  auto body = boost::json::parse(r.body).as_object();
  const auto& data = body.at("data").as_object();
  EXPECT_EQ(data.at("bucketSeconds").as_int64(), 60);
  EXPECT_EQ(data.at("windows").at("1h").at("requests").to_number<int>(), 1);  // the run GET
  EXPECT_EQ(data.at("targets").at("availability").as_double(), 99.9);
}

}  // namespace
}  // namespace outpost::telemetry
