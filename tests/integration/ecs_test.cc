// Issue 21 against a real `outpost serve` with the ecs runner: the configuration it refuses, and
// what /health and /health/fleet say of ECS agents (networkEnforcement: never more than holds on
// Fargate) — against a loopback port nothing answers on; and end to end against the ECS API test
// double (runner/ecs/fake_ecs.h), which starts each task's container of the real test image
// (outpost-base:test, entrypoint `outpost task`) on the shared test dockerd in the host's network:
// RunTask -> `outpost task` with only the three variables -> bootstrap, spec, events and exit over
// the run channel -> COMPLETED; and a cancel -> StopTask -> CANCELLED. Nothing here needs AWS.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>

#include "runner/docker/engine.h"
#include "runner/ecs/fake_ecs.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;

class EcsServeTest : public ServerTest {
 protected:
  std::string Config(const std::string& ecs) {
    const std::string path = dir_ + "/outpost.toml";
    std::ofstream(path) << "[runner]\nkind = \"ecs\"\n[runner.ecs]\nregion = \"us-east-1\"\n"
                        << ecs << "\n[agents.shell]\nnetwork = \"none\"\n";
    return path;
  }
  const std::map<std::string, std::string> aws_env_ = {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                                       {"AWS_SECRET_ACCESS_KEY", "secret"}};
};

TEST_F(EcsServeTest, BadInputNoSubnetsConfiguredStopsServeNamingTheKey) {
  const std::string cfg = Config("cluster = \"outpost-test\"\n");
  CliResult r = RunOutpost(
      {"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data"},
      aws_env_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("runner.ecs.subnets"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no subnets configured for ECS workers"), std::string::npos) << r.err;
}

TEST_F(EcsServeTest, WithoutAwsCredentialsServeSaysSo) {
  const std::string cfg = Config(
      "cluster = \"outpost-test\"\nsubnets = [\"subnet-0a1b2c3d\"]\nendpoint = "
      "\"http://127.0.0.1:9\"\n");
  CliResult r = RunOutpost(
      {"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data"},
      {{"AWS_SHARED_CREDENTIALS_FILE", dir_ + "/none"},
       {"AWS_CONFIG_FILE", dir_ + "/none"},
       {"AWS_ACCESS_KEY_ID", ""},
       {"AWS_SECRET_ACCESS_KEY", ""}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("ecs runner: AWS credentials"), std::string::npos) << r.err;
}

TEST_F(EcsServeTest, HealthSaysWhatTheNetworkPolicyIsWorthOnFargate) {
  const std::string cfg = Config(
      "cluster = \"outpost-test\"\nsubnets = [\"subnet-0a1b2c3d\"]\nsecurity_groups = "
      "[\"sg-0123456789abcdef0\"]\nendpoint = \"http://127.0.0.1:9\"\n");
  std::map<std::string, std::string> env = aws_env_;
  env["OUTPOST_CONFIG"] = cfg;
  server_ = ServerProcess::Start(dir_, env);
  ASSERT_TRUE(server_);
  json::value health = server_->Get("/health").Json();
  EXPECT_EQ(health.at("checks").at("runner").at("runner"), "ecs");
  json::value fleet = server_->Get("/health/fleet").Json();
  bool seen_shell = false;
  for (const auto& a : fleet.at("agents").as_array()) {
    EXPECT_EQ(a.at("runner"), "ecs");
    const std::string enforcement(a.at("networkEnforcement").as_string());
    if (a.at("agent") == "shell") {
      seen_shell = true;
      EXPECT_TRUE(enforcement.starts_with("none: NOT enforced by Outpost on Fargate"))
          << enforcement;
      EXPECT_TRUE(a.at("available").as_bool());
    }
    EXPECT_NE(enforcement.find("security groups"), std::string::npos) << enforcement;
  }
  EXPECT_TRUE(seen_shell);
}

std::string DockerHost() {
  const char* h = std::getenv("OUTPOST_TEST_DOCKER_HOST");
  return h ? h : "";
}

class EcsEndToEndTest : public EcsServeTest {
 protected:
  void SetUp() override {
    EcsServeTest::SetUp();
    ASSERT_FALSE(DockerHost().empty())
        << "OUTPOST_TEST_DOCKER_HOST is not set (ctest fixture docker_env)";
    auto endpoint = docker::EngineEndpoint::Resolve(DockerHost(), {});
    ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
    engine_ = std::make_unique<docker::DockerEngine>(*endpoint);
    ASSERT_TRUE(engine_->Ping().ok()) << "the test dockerd does not answer at " << DockerHost();
    fake_ = std::make_unique<ecs::FakeEcs>(engine_.get());
    const char* tag = std::getenv("OUTPOST_TEST_IMAGE_TAG");
    fake_->Define("outpost-test-shell",
                  {std::string("outpost-base:") + (tag && *tag ? tag : "test"),
                   {},
                   {},
                   {"ASAN_OPTIONS=detect_leaks=0"},
                   std::nullopt,
                   ""});
    const std::string cfg = Config(
        "cluster = \"outpost-test\"\nsubnets = [\"subnet-0a1b2c3d\"]\n"
        "task_definition_prefix = \"outpost-test-\"\ndescribe_interval_seconds = 1\n"
        "endpoint = \"" +
        fake_->endpoint() + "\"\n");
    std::map<std::string, std::string> env = aws_env_;
    env["OUTPOST_CONFIG"] = cfg;
    env["OUTPOST_CANCEL_GRACE_SECONDS"] = "1";
    server_ = ServerProcess::Start(dir_, env);
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    server_.reset();
    fake_.reset();  // removes the tasks' containers
    EcsServeTest::TearDown();
  }
  std::string Stdout(const std::string& id) {
    std::string out;
    json::value logs = server_->Get("/runs/" + id + "/logs?limit=1000").Json();
    if (!logs.is_object() || !logs.as_object().contains("data")) return out;
    for (const auto& e : logs.at("data").at("entries").as_array()) {
      if (e.at("stream") == "stdout") out += std::string(e.at("message").as_string()) + "\n";
    }
    return out;
  }
  std::unique_ptr<docker::DockerEngine> engine_;
  std::unique_ptr<ecs::FakeEcs> fake_;
};

TEST_F(EcsEndToEndTest, RunTaskOutpostTaskRunChannelAndStopTaskOnCancel) {
  const std::string ok =
      server_->Dispatch(R"({"agent":"shell","task":"echo hello from ecs","timeoutSeconds":120})");
  ASSERT_FALSE(ok.empty());
  json::object run = server_->WaitTerminal(ok, std::chrono::seconds(120));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(Stdout(ok), "hello from ecs\n");
  ASSERT_EQ(fake_->Tasks().size(), 1u);
  // The launch carried only the three variables.
  const json::object body = fake_->RunTaskBody(fake_->Tasks()[0]);
  const json::array& envs =
      body.at("overrides").at("containerOverrides").as_array()[0].at("environment").as_array();
  std::vector<std::string> names;
  for (const auto& e : envs) names.emplace_back(e.at("name").as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"OUTPOST_RUN_ID", "OUTPOST_CHANNEL_URL",
                                             "OUTPOST_BOOTSTRAP_TOKEN"}));

  const std::string cancelled =
      server_->Dispatch(R"({"agent":"shell","task":"echo up; sleep 300","timeoutSeconds":600})");
  ASSERT_FALSE(cancelled.empty());
  ASSERT_TRUE(WaitFor([&] { return Stdout(cancelled) == "up\n"; }, std::chrono::seconds(90)))
      << Stdout(cancelled);
  EXPECT_EQ(server_->Post("/runs/" + cancelled + "/cancel", R"({"reason":"enough"})").status, 202);
  run = server_->WaitTerminal(cancelled, std::chrono::seconds(120));
  EXPECT_EQ(Str(run, "status"), "CANCELLED") << json::serialize(run);
  EXPECT_GE(fake_->Calls("StopTask"), 1);
  ASSERT_EQ(fake_->Tasks().size(), 2u);
  auto state = engine_->InspectContainer(fake_->ContainerOf(fake_->Tasks()[1]));
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = engine_->InspectContainer(fake_->ContainerOf(fake_->Tasks()[1]));
        return s.ok() && !s->running;
      },
      std::chrono::seconds(30)));
}

}  // namespace
}  // namespace outpost::testing
