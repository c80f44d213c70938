// EcsRunner against the ECS API test double (fake_ecs.h), through Outpost's real ECS client over
// loopback HTTP: launch, tracking, stop, adoption, reaping, the batching of DescribeTasks, and
// every Bad input of issue 21 (a task definition that does not exist, no subnets, throttling, a
// task stopped by someone else, a task that never reports) as a typed status with ECS's
// message. The runner's clock is simulated (its describe interval, grace and deadlines); ECS's
// retries sleep on it too. The DockerBacked tests run the task's container on the shared test
// dockerd (OUTPOST_TEST_DOCKER_HOST).
#include "runner/ecs/ecs_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "aws/http.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "runner/ecs/fake_ecs.h"
#include "runner/runner_test_util.h"
#include "testing/status_matchers.h"

namespace outpost::ecs {
namespace {

namespace json = boost::json;
using ::outpost::testing::StatusIs;
using ::outpost::testing::WaitFor;
using ::testing::HasSubstr;

constexpr char kChannelToken[] =
    "01JDZXKQ3J8V6W1N2P4R5S7T9V.channel-token-0123456789abcdefghijklmnopq";

RunSpec Spec(const std::string& agent = "shell") {
  RunSpec s;
  s.id = RunId(NewUlid(RealClock::Instance().Now()));
  s.agent = agent;
  s.tenant = "acme";
  s.argv = {"sh", "-c", "echo hi"};
  s.env = {{"SECRET_KEY", "sk-never-in-overrides"}};
  s.limits.timeout_seconds = 60;
  s.limits.grace_seconds = 10;
  s.channel = ChannelAccess{"http://127.0.0.1:8080", kChannelToken, "bootstrap-" + s.id.str()};
  return s;
}

class EcsRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(); }

  void Make(const docker::DockerEngine* engine = nullptr) {
    fake_ = std::make_unique<FakeEcs>(engine);
    fake_->Define("outpost-test-shell", {"outpost-base:test", {}, {}, {}, std::nullopt, ""});
    fake_->Define("outpost-test-claude", {"outpost-claude:test", {}, {}, {}, std::nullopt, ""});
    clock_.set_advance_on_sleep(true);
    aws::EcsClientOptions o;
    o.region = "us-east-1";
    o.endpoint = fake_->endpoint();
    o.credentials = {"AKIDEXAMPLE", "secret", ""};
    auto c = aws::EcsClient::Create(o, aws::MakeHttpSender({}), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
    config_.cluster = "outpost-test";
    config_.subnets = {"subnet-0a1b2c3d"};
    config_.security_groups = {"sg-0123456789abcdef0"};
    config_.task_definition_prefix = "outpost-test-";
    config_.describe_interval = Millis(5'000);
    config_.start_timeout = Millis(600'000);
    config_.lost_grace = Millis(300'000);
    runner_ = std::make_unique<EcsRunner>(*client_, clock_, config_);
  }

  // Past the describe interval: the next Probe asks ECS again.
  void NextTick() { clock_.Advance(std::chrono::milliseconds(5'001)); }

  SimulatedClock clock_;
  std::unique_ptr<FakeEcs> fake_;
  std::unique_ptr<aws::EcsClient> client_;
  EcsRunnerConfig config_;
  std::unique_ptr<EcsRunner> runner_;
};

TEST_F(EcsRunnerTest, RunTaskCarriesOnlyTheThreeVariablesAndTheConfiguredNetwork) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  ASSERT_EQ(fake_->Tasks().size(), 1u);
  json::object body = fake_->RunTaskBody(fake_->Tasks()[0]);
  EXPECT_EQ(body.at("taskDefinition").as_string(), "outpost-test-shell");
  EXPECT_EQ(body.at("cluster").as_string(), "outpost-test");
  EXPECT_EQ(body.at("launchType").as_string(), "FARGATE");
  EXPECT_FALSE(body.contains("capacityProviderStrategy"));
  EXPECT_EQ(ToJson(body.at("networkConfiguration")),
            R"({"awsvpcConfiguration":{"subnets":["subnet-0a1b2c3d"],)"
            R"("securityGroups":["sg-0123456789abcdef0"],"assignPublicIp":"DISABLED"}})");
  EXPECT_EQ(ToJson(body.at("overrides")),
            R"({"containerOverrides":[{"name":"shell","environment":[)"
            R"({"name":"OUTPOST_RUN_ID","value":")" +
                spec.id.str() +
                R"("},{"name":"OUTPOST_CHANNEL_URL","value":"http://127.0.0.1:8080"},)"
                R"({"name":"OUTPOST_BOOTSTRAP_TOKEN","value":"bootstrap-)" +
                spec.id.str() + R"("}]}]})");
  const std::string all = ToJson(body);
  EXPECT_EQ(all.find("sk-never-in-overrides"), std::string::npos);
  EXPECT_EQ(all.find(kChannelToken), std::string::npos);  // the channel token never goes out
  EXPECT_EQ(body.at("startedBy").as_string(), spec.id.str());
  const std::string token(body.at("clientToken").as_string());
  EXPECT_LE(token.size(), 64u);
  EXPECT_TRUE(token.starts_with(spec.id.str() + "-")) << token;
  std::map<std::string, std::string> tags;
  for (const auto& t : body.at("tags").as_array()) {
    tags[std::string(t.at("key").as_string())] = std::string(t.at("value").as_string());
  }
  EXPECT_EQ(tags.at("runId"), spec.id.str());
  EXPECT_EQ(tags.at("agent"), "shell");
  EXPECT_EQ(tags.at("tenant"), "acme");
  EXPECT_TRUE(tags.count("outpostDeadline"));
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);
  EXPECT_TRUE(runner_->ReportsOverChannel(spec.id));
  EXPECT_TRUE(runner_->OutputsOverChannel(spec.id));
  EXPECT_THAT(runner_->OpenOutput(spec.id, RunOutput::kStdout), StatusIs(Code::kNotFound));
}

TEST_F(EcsRunnerTest, ACapacityProviderReplacesTheLaunchType) {
  config_.capacity_provider = "FARGATE_SPOT";
  config_.assign_public_ip = true;
  runner_ = std::make_unique<EcsRunner>(*client_, clock_, config_);
  ASSERT_TRUE(runner_->Start(Spec()).ok());
  json::object body = fake_->RunTaskBody(fake_->Tasks()[0]);
  EXPECT_FALSE(body.contains("launchType"));
  EXPECT_EQ(ToJson(body.at("capacityProviderStrategy")),
            R"([{"capacityProvider":"FARGATE_SPOT","weight":1}])");
  EXPECT_EQ(body.at("networkConfiguration").at("awsvpcConfiguration").at("assignPublicIp"),
            "ENABLED");
}

TEST_F(EcsRunnerTest, StartingTwiceIsAConflictAndARetriedAttemptReusesItsClientToken) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  EXPECT_THAT(runner_->Start(spec), StatusIs(Code::kConflict));
  // Another runner (a retry after a lost answer) with the same attempt: ECS answers the same task.
  EcsRunner other(*client_, clock_, config_);
  ASSERT_TRUE(other.Start(spec).ok());
  EXPECT_EQ(fake_->Tasks().size(), 1u);
  EXPECT_EQ(other.TaskOf(spec.id), runner_->TaskOf(spec.id));
}

TEST_F(EcsRunnerTest, WithoutABootstrapTokenNothingIsLaunched) {
  RunSpec spec = Spec();
  spec.channel->bootstrap_token.clear();
  EXPECT_THAT(runner_->Start(spec), StatusIs(Code::kFailedPrecondition, HasSubstr("bootstrap")));
  spec.channel.reset();
  EXPECT_THAT(runner_->Start(spec), StatusIs(Code::kFailedPrecondition, HasSubstr("channel")));
  EXPECT_EQ(fake_->Calls("RunTask"), 0);
}

TEST_F(EcsRunnerTest, OverridesOverTheCapAreRefused) {
  RunSpec spec = Spec();
  spec.channel->url = "http://" + std::string(8200, 'a');
  EXPECT_THAT(runner_->Start(spec), StatusIs(Code::kInvalidArgument, HasSubstr("8192")));
  EXPECT_EQ(fake_->Calls("RunTask"), 0);
}

// ---- Bad input (issue 21) ----

TEST_F(EcsRunnerTest, BadInputATaskDefinitionThatDoesNotExist) {
  RunSpec spec = Spec("nope");
  EXPECT_THAT(
      runner_->Start(spec),
      StatusIs(Code::kInvalidArgument, "ECS RunTask: ClientException: TaskDefinition not found."));
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kNotStarted);
}

TEST_F(EcsRunnerTest, BadInputNoSubnetsConfigured) {
  config_.subnets.clear();
  runner_ = std::make_unique<EcsRunner>(*client_, clock_, config_);
  EXPECT_THAT(runner_->Start(Spec()),
              StatusIs(Code::kInvalidArgument,
                       "No subnets configured for ECS workers ([runner.ecs] subnets)"));
  EXPECT_EQ(fake_->Calls("RunTask"), 0);
}

TEST_F(EcsRunnerTest, BadInputThrottlingIsRetriedThenUnavailableWithTheAwsMessage) {
  fake_->Throttle("RunTask", 2);
  ASSERT_TRUE(runner_->Start(Spec()).ok());
  EXPECT_EQ(fake_->Calls("RunTask"), 3);
  fake_->Throttle("RunTask", 1000);
  EXPECT_THAT(runner_->Start(Spec()),
              StatusIs(Code::kUnavailable, HasSubstr("ThrottlingException: Rate exceeded")));
}

TEST_F(EcsRunnerTest, BadInputThrottledDescribeTasksIsRunningForTheGraceThenLost) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  fake_->Throttle("DescribeTasks", 1'000'000);
  NextTick();
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);
  clock_.Advance(std::chrono::seconds(301));
  ShimProbe p = runner_->Probe(spec.id);
  EXPECT_EQ(p.state, ShimState::kLost);
  EXPECT_THAT(p.message, HasSubstr("ThrottlingException: Rate exceeded"));
  EXPECT_THAT(p.message, HasSubstr("lost_grace_seconds"));
}

TEST_F(EcsRunnerTest, BadInputATaskStoppedBySomeoneElse) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  fake_->SetStopped(runner_->TaskOf(spec.id), "UserInitiated", "Stopped by an operator", 143);
  NextTick();
  ShimProbe p = runner_->Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kCancelled);
  EXPECT_EQ(p.exit->cancel_reason,
            "the ECS task was stopped outside Outpost: Stopped by an operator");
  EXPECT_THAT(p.exit->message, HasSubstr("(UserInitiated): Stopped by an operator"));
  EXPECT_EQ(p.exit->exit_code, 143);
}

TEST_F(EcsRunnerTest, BadInputATaskThatNeverReportsIsLostAfterTheGrace) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  fake_->Forget(runner_->TaskOf(spec.id));
  NextTick();
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);
  clock_.Advance(std::chrono::seconds(301));
  ShimProbe p = runner_->Probe(spec.id);
  EXPECT_EQ(p.state, ShimState::kLost);
  EXPECT_THAT(p.message, HasSubstr("DescribeTasks: MISSING"));
}

TEST_F(EcsRunnerTest, BadInputATaskThatNeverStartsIsStoppedAndStartFailed) {
  fake_->simulated_start_status = "PENDING";
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  NextTick();
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);
  EXPECT_EQ(fake_->Calls("StopTask"), 0);
  clock_.Advance(std::chrono::seconds(600));
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);  // StopTask sent now
  EXPECT_EQ(fake_->Calls("StopTask"), 1);
  NextTick();
  ShimProbe p = runner_->Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kStartFailed);
  EXPECT_THAT(p.exit->message, HasSubstr("outpost: did not start: not RUNNING after 600 s"));
}

// ---- how stops map ----

struct StopCase {
  std::string stop_code, reason;
  std::optional<int> exit_code;
  std::string container_reason;
  ShimState state;
  ExitOutcome outcome;
};

TEST_F(EcsRunnerTest, StopCodesAndReasonsMapToTypedOutcomesWithTheAwsMessage) {
  const std::vector<StopCase> cases = {
      // Ended by itself: core takes the exit the task posted over the channel.
      {"EssentialContainerExited", "Essential container in task exited", 0, "", ShimState::kLost,
       ExitOutcome::kNone},
      {"EssentialContainerExited", "Essential container in task exited", 3, "", ShimState::kLost,
       ExitOutcome::kNone},
      {"EssentialContainerExited", "Essential container in task exited", 137,
       "OutOfMemoryError: Container killed due to memory usage", ShimState::kExited,
       ExitOutcome::kOom},
      {"TaskFailedToStart",
       "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
       "resolve ref 123.dkr.ecr.us-east-1.amazonaws.com/outpost-claude:latest: not found",
       std::nullopt, "", ShimState::kExited, ExitOutcome::kStartFailed},
      {"TaskFailedToStart",
       "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
       "retrieval failed",
       std::nullopt, "", ShimState::kExited, ExitOutcome::kStartFailed},
      {"SpotInterruption", "Your Spot Task was interrupted.", std::nullopt, "", ShimState::kLost,
       ExitOutcome::kNone},
  };
  for (const StopCase& c : cases) {
    RunSpec spec = Spec();
    ASSERT_TRUE(runner_->Start(spec).ok());
    fake_->SetStopped(runner_->TaskOf(spec.id), c.stop_code, c.reason, c.exit_code,
                      c.container_reason);
    NextTick();
    ShimProbe p = runner_->Probe(spec.id);
    ASSERT_EQ(p.state, c.state) << c.reason;
    const std::string message = p.exit ? p.exit->message : p.message;
    EXPECT_THAT(message, HasSubstr(c.reason));
    EXPECT_THAT(message, HasSubstr("(" + c.stop_code + ")"));
    if (p.exit) {
      EXPECT_EQ(p.exit->outcome, c.outcome) << c.reason;
      EXPECT_EQ(p.exit->exit_code, c.exit_code);
    }
    EXPECT_EQ(runner_->tracked(), 0u);  // forgotten once ended
  }
}

TEST_F(EcsRunnerTest, CancelStopsTheTaskAtOnceAndEndsCancelled) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  ASSERT_TRUE(runner_->RequestCancel(spec.id, "Cancelled by user").ok());
  ASSERT_TRUE(runner_->RequestCancel(spec.id, "second reason").ok());  // idempotent
  EXPECT_EQ(fake_->Calls("StopTask"), 1);
  NextTick();
  ShimProbe p = runner_->Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kCancelled);
  EXPECT_EQ(p.exit->cancel_reason, "Cancelled by user");
  EXPECT_THAT(p.exit->message, HasSubstr("outpost: cancelled: Cancelled by user"));
  EXPECT_THAT(runner_->RequestCancel(RunId(NewUlid(RealClock::Instance().Now())), "x"),
              StatusIs(Code::kNotFound));
}

TEST_F(EcsRunnerTest, ACancelWhoseStopTaskIsThrottledIsSentAgainByProbe) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  fake_->Throttle("StopTask", 5);  // the client's five attempts
  EXPECT_THAT(runner_->RequestCancel(spec.id, "Cancelled by user"),
              StatusIs(Code::kUnavailable, HasSubstr("ThrottlingException")));
  NextTick();
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);  // StopTask again, accepted
  NextTick();
  ShimProbe p = runner_->Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kCancelled);
}

TEST_F(EcsRunnerTest, TheDeadlineStopsTheTaskAsTimeoutTotal) {
  RunSpec spec = Spec();  // 60 s + 10 s grace + 15 s
  ASSERT_TRUE(runner_->Start(spec).ok());
  clock_.Advance(std::chrono::seconds(80));
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);
  EXPECT_EQ(fake_->Calls("StopTask"), 0);
  clock_.Advance(std::chrono::seconds(6));
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);
  EXPECT_EQ(fake_->Calls("StopTask"), 1);
  NextTick();
  ShimProbe p = runner_->Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kTimeoutTotal);
}

TEST_F(EcsRunnerTest, OneDescribeTasksPerIntervalForAllRunsInBatchesOfOneHundred) {
  std::vector<RunId> ids;
  for (int i = 0; i < 10; ++i) {
    RunSpec spec = Spec();
    ASSERT_TRUE(runner_->Start(spec).ok());
    ids.push_back(spec.id);
  }
  for (int tick = 0; tick < 3; ++tick) {
    for (const RunId& id : ids) EXPECT_EQ(runner_->Probe(id).state, ShimState::kRunning);
  }
  EXPECT_EQ(fake_->Calls("DescribeTasks"), 1);  // one tick's worth: the interval has not passed
  NextTick();
  for (const RunId& id : ids) runner_->Probe(id);
  EXPECT_EQ(fake_->Calls("DescribeTasks"), 2);
  for (int i = 0; i < 240; ++i) {
    RunSpec spec = Spec();
    ASSERT_TRUE(runner_->Start(spec).ok());
    ids.push_back(spec.id);
  }
  NextTick();
  for (const RunId& id : ids) runner_->Probe(id);
  EXPECT_EQ(fake_->Calls("DescribeTasks"), 2 + 3);  // 250 tasks: 100 + 100 + 50
}

TEST_F(EcsRunnerTest, ARestartedRunnerAdoptsItsTasksAndFindsThemLive) {
  RunSpec running = Spec(), cancelled = Spec();
  ASSERT_TRUE(runner_->Start(running).ok());
  ASSERT_TRUE(runner_->Start(cancelled).ok());
  ASSERT_TRUE(runner_->RequestCancel(cancelled.id, "Cancelled by user").ok());
  EcsRunner restarted(*client_, clock_, config_);
  EXPECT_EQ(restarted.tracked(), 0u);
  std::vector<RunId> live = restarted.LiveRuns();
  EXPECT_EQ(live, std::vector<RunId>{running.id});
  EXPECT_EQ(restarted.Probe(running.id).state, ShimState::kRunning);
  EXPECT_EQ(restarted.TaskOf(running.id), runner_->TaskOf(running.id));
  ShimProbe p = restarted.Probe(cancelled.id);  // STOPPED by our cancel: read back
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kCancelled);
  EXPECT_EQ(p.exit->cancel_reason, "Cancelled by user");
  EXPECT_EQ(restarted.Probe(RunId(NewUlid(RealClock::Instance().Now()))).state,
            ShimState::kNotStarted);
}

TEST_F(EcsRunnerTest, HoldsFindsARunsTaskOnceAndRemembersRunsItHasNot) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  EcsRunner restarted(*client_, clock_, config_);
  EXPECT_TRUE(restarted.Holds(spec.id));
  const int lists = fake_->Calls("ListTasks");
  EXPECT_TRUE(restarted.Holds(spec.id));  // tracked now: no call
  EXPECT_EQ(fake_->Calls("ListTasks"), lists);
  const RunId other(NewUlid(RealClock::Instance().Now()));
  EXPECT_FALSE(restarted.Holds(other));
  const int after = fake_->Calls("ListTasks");
  EXPECT_FALSE(restarted.Holds(other));  // remembered for a minute
  EXPECT_EQ(fake_->Calls("ListTasks"), after);
}

TEST_F(EcsRunnerTest, ReapStopsTheTaskOfARunThatIsOver) {
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  EcsRunner reaper(*client_, clock_, config_);
  EXPECT_EQ(reaper.LiveRuns(), std::vector<RunId>{spec.id});
  EXPECT_EQ(reaper.Reap(spec.id), 1);
  EXPECT_EQ(fake_->Calls("StopTask"), 1);
  EXPECT_TRUE(reaper.LiveRuns().empty());
  EXPECT_EQ(reaper.Reap(spec.id), 0);
  EXPECT_EQ(reaper.Reap(RunId(NewUlid(RealClock::Instance().Now()))), 0);
}

// ---- the task's container on the test dockerd ----

std::string DockerHost() {
  const char* h = std::getenv("OUTPOST_TEST_DOCKER_HOST");
  return h ? h : "";
}

class EcsRunnerDockerTest : public EcsRunnerTest {
 protected:
  void SetUp() override {
    ASSERT_FALSE(DockerHost().empty())
        << "OUTPOST_TEST_DOCKER_HOST is not set: start the test dockerd (scripts/test-dockerd.sh "
           "start) and set it (the ctest fixture docker_env does)";
    auto endpoint = docker::EngineEndpoint::Resolve(DockerHost(), {});
    ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
    engine_ = std::make_unique<docker::DockerEngine>(*endpoint);
    ASSERT_TRUE(engine_->Ping().ok())
        << "the test dockerd at " << DockerHost() << " does not answer";
    Make(engine_.get());
    config_.describe_interval = Millis(0);
    runner_ = std::make_unique<EcsRunner>(*client_, clock_, config_);
  }
  void TearDown() override {  // the double removes its containers through engine_
    runner_.reset();
    fake_.reset();
  }
  ShimProbe WaitEnded(const RunId& id) {
    ShimProbe p;
    EXPECT_TRUE(WaitFor(
        [&] {
          p = runner_->Probe(id);
          return p.state != ShimState::kRunning;
        },
        std::chrono::seconds(60)));
    return p;
  }
  std::unique_ptr<docker::DockerEngine> engine_;
};

TEST_F(EcsRunnerDockerTest, TheContainerGetsTheOverridesEnvironmentOnTheHostNetwork) {
  // Exit 7 only when the three variables are there, nothing else of the run is, and the
  // container reaches a port on the host's loopback (the double's own): --network host.
  const std::string port = fake_->endpoint().substr(fake_->endpoint().rfind(':') + 1);
  fake_->Define(
      "outpost-test-shell",
      {"outpost-base:test",
       {"/bin/bash", "-c",
        "[ -n \"$OUTPOST_RUN_ID\" ] && [ \"$OUTPOST_CHANNEL_URL\" = http://127.0.0.1:8080 ] && "
        "[ \"$OUTPOST_BOOTSTRAP_TOKEN\" = \"bootstrap-$OUTPOST_RUN_ID\" ] && "
        "[ -z \"$SECRET_KEY\" ] && exec 3<>/dev/tcp/127.0.0.1/" +
            port + " && exit 7; exit 1"},
       {},
       {},
       std::nullopt,
       ""});
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  ShimProbe p = WaitEnded(spec.id);
  // Ended by itself: kLost, core takes the channel's exit; the container's code is named.
  ASSERT_EQ(p.state, ShimState::kLost);
  EXPECT_THAT(p.message, HasSubstr("container exit code 7"));
}

TEST_F(EcsRunnerDockerTest, CancelStopsTheContainer) {
  fake_->Define("outpost-test-shell",
                {"outpost-base:test", {"/bin/sh", "-c", "sleep 300"}, {}, {}, std::nullopt, ""});
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto st = engine_->InspectContainer(fake_->ContainerOf(runner_->TaskOf(spec.id)));
    return st.ok() && st->running;
  }));
  EXPECT_EQ(runner_->Probe(spec.id).state, ShimState::kRunning);
  ASSERT_TRUE(runner_->RequestCancel(spec.id, "Cancelled by user").ok());
  ShimProbe p = WaitEnded(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kCancelled);
  auto st = engine_->InspectContainer(fake_->ContainerOf(fake_->Tasks()[0]));
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->running);
}

TEST_F(EcsRunnerDockerTest, AContainerKilledForMemoryIsOom) {
  // `tail` keeps the one endless line of /dev/zero in memory: over 64 MiB, the kernel kills it.
  fake_->Define("outpost-test-shell",
                {"outpost-base:test", {"/bin/sh", "-c", "tail /dev/zero"}, {}, {}, 64 << 20, ""});
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  ShimProbe p = WaitEnded(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kOom) << p.exit->message;
  EXPECT_THAT(p.exit->message, HasSubstr("OutOfMemoryError: Container killed due to memory usage"));
  EXPECT_EQ(p.exit->exit_code, 137);
}

TEST_F(EcsRunnerDockerTest, AnImageThatCannotBePulledIsStartFailedWithTheMessage) {
  fake_->Define("outpost-test-shell", {"outpost-no-such-image:test", {}, {}, {}, std::nullopt, ""});
  RunSpec spec = Spec();
  ASSERT_TRUE(runner_->Start(spec).ok());
  ShimProbe p = WaitEnded(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kStartFailed);
  EXPECT_THAT(p.exit->message, HasSubstr("CannotPullContainerError"));
  EXPECT_THAT(p.exit->message, HasSubstr("outpost-no-such-image"));
}

}  // namespace
}  // namespace outpost::ecs
