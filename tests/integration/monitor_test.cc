// `outpost monitor` against a real `outpost serve` with injected faults: the sample loop runs
// on a simulated clock (samples are taken at simulated times, with real HTTP, without
// sleeping), so each Level 1 rollback criterion is checked on both sides of its boundary; the
// log file carries the monitor across a restart; --once gives the exit code.
#include "cli/monitor.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time_util.h"
#include "tests/integration/server_fixture.h"

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

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    server_ = ServerProcess::Start(
        dir_, {{"OUTPOST_RUNNER", "process"}, {"OUTPOST_ENABLE_FAULT_INJECTION", "1"}});
    log_ = dir_ + "/monitor.log";
  }
  void TearDown() override {
    server_.reset();
    KillRunsUnder(dir_);
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<cli::Monitor> NewMonitor(Millis interval = Millis(60'000)) {
    cli::MonitorOptions o;
    o.interval = interval;
    o.log_path = log_;
    auto ep = cli::ParseEndpoint("http://" + server_->address());
    EXPECT_TRUE(ep.ok());
    auto m = std::make_unique<cli::Monitor>(*ep, "", o, clock_);
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
  // Advances the simulated clock to `at` after the start and takes one sample.
  std::vector<cli::RollbackFinding> SampleAt(cli::Monitor& m, WallTime::duration at) {
    clock_.Advance(start_ + at - clock_.Now());
    return m.Step(out_);
  }

  std::string dir_, log_;
  std::unique_ptr<ServerProcess> server_;
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
  auto fail_one = [&] {
    std::string id = server_->Dispatch(R"({"agent":"shell","task":"exit 1"})");
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "FAILED");
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

}  // namespace
}  // namespace outpost::testing
