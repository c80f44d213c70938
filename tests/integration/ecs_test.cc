// Issue 21 against a real `outpost serve` with the ecs runner: the configuration it refuses, and
// what /health and /health/fleet say of ECS agents (networkEnforcement: never more than holds on
// Fargate). The ECS endpoint is a loopback port nothing answers on: nothing here needs AWS.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

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

}  // namespace
}  // namespace outpost::testing
