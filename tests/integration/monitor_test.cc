// `outpost monitor` against a real `outpost serve` with injected faults: the sample loop runs
// on a simulated clock (samples are taken at simulated times, with real HTTP, without
// sleeping), so each Level 1 rollback criterion is checked on both sides of its boundary; the
// log file carries the monitor across a restart; --once gives the exit code. Against a server
// with API keys: an admin key (or the metrics token) reads /metrics, a key with only `status`
// reads /health/slo instead (and the criteria still hold), a key with neither says which
// figures are missing and why.
#include "cli/monitor.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/time_util.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;
using std::chrono::minutes;
using std::chrono::seconds;

std::vector<std::string> Names(const std::vector<cli::RollbackFinding>& f) {
  std::vector<std::string> out;
  for (const auto& x : f) out.push_back(x.criterion);
  return out;
}

// Only shell is enabled: the embedded coding agents are not installed here, and a fleet with
// none of them available answers /health/fleet with 503, which the monitor counts as errors.
constexpr char kOnlyShell[] =
    "[agents.claude]\nenabled = false\n[agents.codex]\nenabled = false\n"
    "[agents.gemini]\nenabled = false\n[agents.aider]\nenabled = false\n"
    "[agents.grok]\nenabled = false\n";

std::string OnlyShellConfig(const std::string& dir) {
  std::ofstream(dir + "/only-shell.toml") << kOnlyShell;
  return dir + "/only-shell.toml";
}

class MonitorTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_RUNNER", "process"},
                                          {"OUTPOST_ENABLE_FAULT_INJECTION", "1"},
                                          {"OUTPOST_CONFIG", OnlyShellConfig(dir_)}});
    log_ = dir_ + "/monitor.log";
  }
  std::unique_ptr<cli::Monitor> NewMonitor(Millis interval = Millis(60'000),
                                           const std::string& api_key = "") {
    cli::MonitorOptions o;
    o.interval = interval;
    o.log_path = log_;
    auto ep = cli::ParseEndpoint("http://" + server_->address());
    EXPECT_TRUE(ep.ok());
    auto m = std::make_unique<cli::Monitor>(*ep, api_key, o, clock_);
    EXPECT_TRUE(m->Load().ok());
    return m;
  }
  void Fault(const std::string& body) {
    ASSERT_EQ(Http(server_->address(), "PUT", "/admin/faults", body,
                   {{"Content-Type", "application/json"}})
                  .status,
              200);
  }
  void NoFault() { ASSERT_EQ(Http(server_->address(), "DELETE", "/admin/faults").status, 200); }
  // A run's terminal status is visible before the server has counted it (the store write comes
  // first): waits until /health/slo has counted `n` finished runs, so a sample taken next sees
  // them all.
  void WaitRunsCounted(std::uint64_t n, const std::string& api_key = "") {
    std::map<std::string, std::string> headers;
    if (!api_key.empty()) headers["Authorization"] = "Bearer " + api_key;
    std::uint64_t counted = 0;
    EXPECT_TRUE(WaitFor(
        [&] {
          HttpResponse r = Http(server_->address(), "GET", "/health/slo", "", headers);
          if (r.status != 200) return false;
          counted = r.Json()
                        .at("data")
                        .at("windows")
                        .at("24h")
                        .at("dispatches")
                        .to_number<std::uint64_t>();
          return counted >= n;
        },
        std::chrono::seconds(30)))
        << counted << " of " << n << " finished runs counted";
  }
  // Advances the simulated clock to `at` after the start and takes one sample.
  std::vector<cli::RollbackFinding> SampleAt(cli::Monitor& m, WallTime::duration at) {
    clock_.Advance(start_ + at - clock_.Now());
    return m.Step(out_);
  }

  std::string log_;
  SimulatedClock clock_{WallTime(seconds(1'800'000'000))};
  const WallTime start_ = WallTime(seconds(1'800'000'000));
  std::ostringstream out_;
};

// Half the probes answer 503 after minute 0: 14 minutes of it are not 15.
TEST_F(MonitorTest, AvailabilityCriterionFiresAtFifteenMinutes) {
  auto m = NewMonitor();
  EXPECT_TRUE(SampleAt(*m, minutes(0)).empty());
  Fault(R"({"errorRate":1,"statusCode":503,"routes":["/health","/health/fleet"]})");
  for (int minute = 1; minute <= 14; ++minute) {
    EXPECT_TRUE(SampleAt(*m, minutes(minute)).empty()) << "minute " << minute << "\n" << out_.str();
  }
  // The server's own counters were read: the scrape saw the 503s it answered.
  auto intervals = cli::Intervals(m->samples(), Millis(60'000));
  EXPECT_EQ(intervals.back().counts.requests, 4u);
  EXPECT_EQ(intervals.back().counts.errors, 2u);
  auto f = SampleAt(*m, minutes(15));
  ASSERT_EQ(Names(f), std::vector<std::string>{"availability"}) << out_.str();
  // 15 intervals of 4 probes, 2 answered 503 (the PUT above is the 61st request).
  EXPECT_EQ(f[0].message,
            "ROLLBACK LEVEL 1 RECOMMENDED: API availability below 95% for 15 minutes (observed "
            "50.82% over the last 15.0 min since 08:00:00, 30 of 61 requests failed)");
  EXPECT_NE(out_.str().find(f[0].message), std::string::npos);     // printed
  EXPECT_NE(ReadAll(log_).find(f[0].message), std::string::npos);  // and logged
  EXPECT_NE(out_.str().find("| API Availability      | 99.9%   | ✗ 50.82%"), std::string::npos)
      << out_.str();
  NoFault();
  EXPECT_TRUE(SampleAt(*m, minutes(16)).empty());
}

// The server answers nothing at all (connections closed unanswered).
TEST_F(MonitorTest, UnresponsiveCriterionFiresAfterMoreThanFiveMinutes) {
  auto m = NewMonitor();
  SampleAt(*m, minutes(0));
  Fault(R"({"unresponsive":true})");
  SampleAt(*m, minutes(1));
  SampleAt(*m, minutes(3));
  EXPECT_TRUE(SampleAt(*m, minutes(6)).empty()) << out_.str();  // exactly 5 minutes
  auto f = SampleAt(*m, minutes(6) + seconds(1));
  ASSERT_EQ(Names(f), std::vector<std::string>{"unresponsive"}) << out_.str();
  EXPECT_NE(f[0].message.find("control plane unresponsive for more than 5 minutes (no probe "
                              "answered in 4 samples"),
            std::string::npos)
      << f[0].message;
  EXPECT_NE(out_.str().find("Health: UNKNOWN | Fleet Healthy: false | live: no answer"),
            std::string::npos)
      << out_.str();
  NoFault();
  EXPECT_TRUE(SampleAt(*m, minutes(7)).empty());
}

// Every ten minutes one real run fails: 29 minutes are not 30.
TEST_F(MonitorTest, DispatchSuccessCriterionFiresAtThirtyMinutes) {
  auto m = NewMonitor(Millis(600'000));
  SampleAt(*m, minutes(0));
  std::uint64_t ended = 0;
  auto fail_one = [&] {
    std::string id = server_->Dispatch(R"({"agent":"shell","task":"exit 1"})");
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "FAILED");
    WaitRunsCounted(++ended);
  };
  fail_one();
  EXPECT_TRUE(SampleAt(*m, minutes(10)).empty());
  SampleAt(*m, minutes(20));  // no run finished in this one: it neither breaks nor starts it
  fail_one();
  EXPECT_TRUE(SampleAt(*m, minutes(29)).empty()) << out_.str();
  auto f = SampleAt(*m, minutes(30));
  ASSERT_EQ(Names(f), std::vector<std::string>{"dispatch_success"}) << out_.str();
  EXPECT_NE(f[0].message.find("(observed 0.00% over the last 30.0 min since 08:00:00: 0 of 2 "
                              "finished runs COMPLETED)"),
            std::string::npos)
      << f[0].message;
  // A completed run ends it.
  std::string ok = server_->Dispatch(R"({"agent":"shell","task":"true"})");
  EXPECT_EQ(Str(server_->WaitTerminal(ok), "status"), "COMPLETED");
  WaitRunsCounted(++ended);
  EXPECT_TRUE(SampleAt(*m, minutes(40)).empty()) << out_.str();
}

// Ten minutes of bad availability, a restart of the monitor (killed mid-write), five more:
// the stretch spans the restart.
TEST_F(MonitorTest, RestartFromTheLogLosesNothing) {
  {
    auto m = NewMonitor();
    SampleAt(*m, minutes(0));
    Fault(R"({"errorRate":1,"statusCode":500,"routes":["/health","/health/fleet"]})");
    for (int minute = 1; minute <= 10; ++minute) SampleAt(*m, minutes(minute));
  }
  std::ofstream(log_, std::ios::app) << R"({"type":"sample","t":"2027-01-15T08:1)";  // torn
  auto m = NewMonitor();
  ASSERT_EQ(m->samples().size(), 11u);
  for (int minute = 11; minute <= 14; ++minute) EXPECT_TRUE(SampleAt(*m, minutes(minute)).empty());
  EXPECT_EQ(Names(SampleAt(*m, minutes(15))), std::vector<std::string>{"availability"});
  // The torn line was closed off: a third monitor reads every sample back.
  auto again = NewMonitor();
  EXPECT_EQ(again->samples().size(), 16u);
}

TEST_F(MonitorTest, OnceExitsOneWhenARollbackCriterionHolds) {
  const std::string endpoint = "--endpoint http://" + server_->address() + " --log " + log_;
  auto run = [&] {
    int rc =
        std::system((OutpostBin() + " monitor --once " + endpoint + " >/dev/null 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  EXPECT_EQ(run(), 0);
  // History says the server has not answered for six minutes (real time now).
  {
    cli::MonitorOptions o;
    o.log_path = dir_ + "/history.log";
    SimulatedClock past(RealClock::Instance().Now() - minutes(6));
    cli::Monitor m(*cli::ParseEndpoint("http://127.0.0.1:1"), "", o, past);  // nothing there
    std::ostringstream ignored;
    m.Step(ignored);
    past.Advance(minutes(3));
    m.Step(ignored);
  }
  std::filesystem::copy_file(dir_ + "/history.log", log_,
                             std::filesystem::copy_options::overwrite_existing);
  Fault(R"({"unresponsive":true})");
  EXPECT_EQ(run(), 1);
  EXPECT_NE(ReadAll(log_).find("ROLLBACK LEVEL 1 RECOMMENDED: control plane unresponsive"),
            std::string::npos);
}

// A server whose store has keys before it starts (no open mode).
class MonitorWithKeysTest : public MonitorTest {
 protected:
  static constexpr const char* kMetricsToken = "monitor-test-metrics-token";
  void SetUp() override {
    ServerTest::SetUp();
    const std::string tenant = OutpostAdmin(dir_, {"tenant", "create", "ops"});
    auto key = [&](const char* scopes) {
      return OutpostAdmin(dir_, {"key", "create", "--tenant", tenant, "--scopes", scopes});
    };
    admin_ = key("admin");
    status_ = key("status");
    list_ = key("list");
    dispatch_ = key("dispatch,status");
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_RUNNER", "process"},
                                          {"OUTPOST_METRICS_TOKEN", kMetricsToken},
                                          {"OUTPOST_CONFIG", OnlyShellConfig(dir_)}});
    log_ = dir_ + "/monitor.log";
  }
  HttpResponse Keyed(const std::string& method, const std::string& path,
                     const std::string& body = "") {
    return Http(server_->address(), method, path, body,
                {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + dispatch_}});
  }
  // Dispatches `task` with the dispatch key and waits for its terminal status.
  std::string RunToEnd(const std::string& task) {
    HttpResponse r = Keyed("POST", "/dispatch", R"({"agent":"shell","task":")" + task + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    const std::string id = Str(r.Json().at("data").as_object(), "runId");
    std::string status;
    EXPECT_TRUE(WaitFor(
        [&] {
          HttpResponse g = Keyed("GET", "/runs/" + id);
          status = g.status == 200 ? Str(g.Json().at("data").as_object(), "status") : "";
          return status == "COMPLETED" || status == "FAILED";
        },
        std::chrono::seconds(60)));
    WaitRunsCounted(++ended_, dispatch_);
    return status;
  }
  // `outpost monitor --once` with `args`: exit code and stdout.
  std::pair<int, std::string> Once(const std::string& args) {
    CliResult r =
        RunOutpostSh("monitor --once --endpoint http://" + server_->address() + " " + args);
    return {r.exit_code, r.out};
  }
  std::string admin_, status_, list_, dispatch_;
  std::uint64_t ended_ = 0;  // runs RunToEnd saw finish
};

TEST_F(MonitorWithKeysTest, AnAdminKeyReadsMetrics) {
  auto m = NewMonitor(Millis(60'000), admin_);
  SampleAt(*m, minutes(0));
  SampleAt(*m, minutes(1));
  const cli::MonitorSample& s = m->samples().back();
  EXPECT_EQ(s.scrape.status, 200);
  ASSERT_TRUE(s.counters.has_value());
  EXPECT_FALSE(s.slo_probe.has_value());
  EXPECT_EQ(s.metrics_error, "");
  EXPECT_EQ(cli::Intervals(m->samples(), Millis(60'000)).back().counts.requests, 4u);
  EXPECT_EQ(out_.str().find("figures"), std::string::npos) << out_.str();
}

// The dispatch-success criterion of DispatchSuccessCriterionFiresAtThirtyMinutes, with a key
// that may not read /metrics: the runs are counted from /health/slo's buckets.
TEST_F(MonitorWithKeysTest, AStatusKeyReadsHealthSloAndTheCriteriaStillHold) {
  auto m = NewMonitor(Millis(600'000), status_);
  SampleAt(*m, minutes(0));
  {
    const cli::MonitorSample& s = m->samples().back();
    EXPECT_EQ(s.scrape.status, 403);
    EXPECT_FALSE(s.counters.has_value());
    EXPECT_EQ(s.metrics_error,
              "HTTP 403 AUTHORIZATION_ERROR: API key lacks the required scope: admin");
    ASSERT_TRUE(s.slo_probe.has_value());
    EXPECT_EQ(s.slo_probe->status, 200);
    ASSERT_TRUE(s.slo.has_value());
    EXPECT_FALSE(s.slo->since_previous.has_value());  // where the count starts
  }
  EXPECT_NE(out_.str().find("figures: GET /metrics answered HTTP 403 AUTHORIZATION_ERROR: API key "
                            "lacks the required scope: admin (it needs the admin scope or the "
                            "metrics token), so requests, errors and finished runs are read from "
                            "GET /health/slo"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(RunToEnd("exit 1"), "FAILED");
  EXPECT_TRUE(SampleAt(*m, minutes(10)).empty());
  auto intervals = cli::Intervals(m->samples(), Millis(600'000));
  EXPECT_EQ(intervals.back().counts.runs_finished, 1u);
  EXPECT_EQ(intervals.back().counts.runs_succeeded, 0u);
  // Nobody but the monitor between these two: the last /health/slo, and 4 probes of this one.
  SampleAt(*m, minutes(20));
  intervals = cli::Intervals(m->samples(), Millis(600'000));
  EXPECT_EQ(intervals.back().counts.requests, 5u);
  EXPECT_EQ(intervals.back().counts.errors, 0u);
  EXPECT_EQ(intervals.back().counts.runs_finished, 0u);
  EXPECT_EQ(RunToEnd("exit 1"), "FAILED");
  EXPECT_TRUE(SampleAt(*m, minutes(29)).empty()) << out_.str();
  auto f = SampleAt(*m, minutes(30));
  ASSERT_EQ(Names(f), std::vector<std::string>{"dispatch_success"}) << out_.str();
  EXPECT_NE(f[0].message.find("(observed 0.00% over the last 30.0 min since 08:00:00: 0 of 2 "
                              "finished runs COMPLETED)"),
            std::string::npos)
      << f[0].message;
  const std::string out = out_.str();
  EXPECT_NE(out.find("| Dispatch Success Rate | >95%    | ✗ 0.00% of 2"), std::string::npos) << out;
  EXPECT_NE(out.find("| P95 Latency           | <500ms  | ✓ "), std::string::npos) << out;
  EXPECT_NE(out.find(" ms (server)"), std::string::npos) << out;
  EXPECT_NE(ReadAll(log_).find(R"("metricsError":"HTTP 403 AUTHORIZATION_ERROR)"),
            std::string::npos);
  EXPECT_EQ(RunToEnd("true"), "COMPLETED");
  EXPECT_TRUE(SampleAt(*m, minutes(40)).empty()) << out_.str();
}

TEST_F(MonitorWithKeysTest, AKeyWithNeitherScopeSaysWhichFiguresAreMissing) {
  auto m = NewMonitor(Millis(60'000), list_);
  SampleAt(*m, minutes(0));
  SampleAt(*m, minutes(1));
  const cli::MonitorSample& s = m->samples().back();
  EXPECT_FALSE(s.counters.has_value());
  EXPECT_FALSE(s.slo.has_value());
  EXPECT_EQ(s.slo_error, "HTTP 403 AUTHORIZATION_ERROR: API key lacks the required scope: status");
  // The five probes, all answered (4xx is no server error).
  auto in = cli::Intervals(m->samples(), Millis(60'000)).back();
  EXPECT_EQ(in.counts.requests, 5u);
  EXPECT_EQ(in.counts.errors, 0u);
  const std::string out = out_.str();
  EXPECT_NE(out.find("figures missing: GET /metrics answered HTTP 403 AUTHORIZATION_ERROR: API key "
                     "lacks the required scope: admin (it needs the admin scope or the metrics "
                     "token) and GET /health/slo answered HTTP 403 AUTHORIZATION_ERROR: API key "
                     "lacks the required scope: status (it needs the status scope): only the "
                     "monitor's own probes are counted; P95 latency and dispatch success have no "
                     "data"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("| P95 Latency           | <500ms  | - no data"), std::string::npos) << out;
}

TEST_F(MonitorWithKeysTest, OnceWithEachKind) {
  auto [rc, out] = Once("--api-key " + admin_);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("figures"), std::string::npos) << out;
  std::tie(rc, out) = Once("--api-key " + std::string(kMetricsToken));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("figures"), std::string::npos) << out;
  std::tie(rc, out) = Once("--api-key " + status_);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("figures: GET /metrics answered HTTP 403"), std::string::npos) << out;
  EXPECT_NE(out.find(" ms (server)"), std::string::npos) << out;
  std::tie(rc, out) = Once("");  // no key at all
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("figures missing: GET /metrics answered HTTP 401 AUTHENTICATION_ERROR: "
                     "missing or invalid API key (it needs the admin scope or the metrics token) "
                     "and GET /health/slo answered HTTP 401"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Health: "), std::string::npos) << out;  // the probes need no key
}

}  // namespace
}  // namespace outpost::testing
