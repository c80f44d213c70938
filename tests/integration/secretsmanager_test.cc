// `[secrets] backend = "aws-secretsmanager"` end to end: a real `outpost serve` whose secrets
// come from a loopback stand-in for AWS Secrets Manager (GetSecretValue with the API
// reference's answers), with `--log-format json`. An agent's required key and a dispatch's
// additionalSecrets reach the run's environment (the original's ⚠: they never reached the
// container) and are redacted; a key Secrets Manager does not have makes the agent unavailable;
// the cache spares Secrets Manager a call per request; every log line is one JSON object with a
// level, and no value is in the log.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "testing/fake_http_server.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;

constexpr char kKeyedKey[] = "sm-keyed-4b1f0e2a9c";
constexpr char kToken[] = "sm-token-77d3a5e1b0";

class SecretsManagerServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    log_ = dir_ + "-server.log";
    secrets_ = std::make_unique<FakeHttpServer>([this](const FakeRequest& r) { return Answer(r); });
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove(log_);
  }

  FakeResponse Answer(const FakeRequest& r) {
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    auto target = r.headers.find("x-amz-target");
    if (ec || !body.is_object() || !body.as_object().contains("SecretId") ||
        target == r.headers.end() || target->second != "secretsmanager.GetSecretValue" ||
        r.headers.count("authorization") == 0) {
      return {400, R"({"__type":"SerializationException"})", {}};
    }
    const std::string id(body.at("SecretId").as_string());
    std::lock_guard lock(mu_);
    ++calls_[id];
    auto v = values_.find(id);
    if (v == values_.end()) {
      return {
          400,
          R"({"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."})",
          {}};
    }
    return {200,
            json::serialize(json::object{{"ARN", "arn:aws:secretsmanager:us-east-1:1:secret:" + id},
                                         {"Name", id},
                                         {"SecretString", v->second},
                                         {"VersionId", "v1"},
                                         {"VersionStages", json::array{"AWSCURRENT"}}}),
            {{"Content-Type", "application/x-amz-json-1.1"}}};
  }
  int Calls(const std::string& id) {
    std::lock_guard lock(mu_);
    return calls_[id];
  }

  // The server with its stderr going to log_.
  void StartServer() {
    std::ofstream(dir_ + "/outpost.toml") << R"([agents.keyed]
command = ["/bin/sh", "-c", "{task}"]
models = ["m1"]
required_secrets = ["KEYED_API_KEY"]

[agents.unkeyed]
command = ["/bin/sh", "-c", "{task}"]
models = ["m1"]
required_secrets = ["MISSING_API_KEY"]

[secrets]
backend = "aws-secretsmanager"
region = "us-east-1"
prefix = "outpost/test/"
cache_ttl_seconds = 3600
)";
    std::map<std::string, std::string> env = {
        {"OUTPOST_CONFIG", dir_ + "/outpost.toml"},
        {"OUTPOST_SECRETS_ENDPOINT", secrets_->endpoint()},
        {"OUTPOST_LOG_FORMAT", "json"},
        {"OUTPOST_LOG_LEVEL", "debug"},
        {"OUTPOST_WORKSPACE_IMAGES", "0"},
        {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
        {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
        {"NO_PROXY", "127.0.0.1,localhost"},
    };
    int saved = ::dup(2);
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
    try {
      server_ = ServerProcess::Start(dir_, env);
    } catch (...) {
      ::dup2(saved, 2);
      ::close(saved);
      throw;
    }
    ::dup2(saved, 2);
    ::close(saved);
  }

  std::string log_;
  std::unique_ptr<FakeHttpServer> secrets_;
  std::mutex mu_;
  std::map<std::string, std::string> values_ = {{"outpost/test/KEYED_API_KEY", kKeyedKey},
                                                {"outpost/test/MY_TOKEN", kToken}};
  std::map<std::string, int> calls_;
};

TEST_F(SecretsManagerServerTest, AgentKeysAndAdditionalSecretsComeFromSecretsManager) {
  StartServer();

  // The agent's required key: in the run's environment, redacted in its output.
  std::string id = server_->Dispatch(
      R"({"agent":"keyed","task":"echo \"key=$KEYED_API_KEY\"; test -n \"$KEYED_API_KEY\""})");
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(ReadAll(dir_ + "/runs/" + id + "/stdout.log"), "key=[REDACTED]\n");

  // additionalSecrets, the same way.
  id = server_->Dispatch(
      R"({"agent":"shell","task":"echo \"tok=$MY_TOKEN\"; test \"${#MY_TOKEN}\" = 19",)"
      R"("additionalSecrets":["MY_TOKEN"]})");
  ASSERT_FALSE(id.empty());
  run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(ReadAll(dir_ + "/runs/" + id + "/stdout.log"), "tok=[REDACTED]\n");

  // A name Secrets Manager does not have: refused, naming it.
  HttpResponse r = server_->Post(
      "/dispatch", R"({"agent":"shell","task":"true","additionalSecrets":["NOT_THERE"]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("NOT_THERE"), std::string::npos) << r.body;

  // The agent whose key is missing there: unavailable in the fleet, with the reason.
  for (int i = 0; i < 3; ++i) {
    HttpResponse fleet = server_->Get("/health/fleet");
    ASSERT_EQ(fleet.status, 200) << fleet.body;
    const json::value body = fleet.Json();
    bool keyed = false, unkeyed = false;
    for (const auto& a : body.at("agents").as_array()) {
      const std::string name = Str(a.as_object(), "agent");
      if (name == "keyed") keyed = a.at("available").as_bool();
      if (name == "unkeyed") {
        unkeyed = true;
        EXPECT_FALSE(a.at("available").as_bool());
        EXPECT_NE(Str(a.as_object(), "reason").find("MISSING_API_KEY"), std::string::npos);
      }
    }
    EXPECT_TRUE(keyed) << fleet.body;
    EXPECT_TRUE(unkeyed) << fleet.body;
  }
  // Cached for cache_ttl_seconds: one GetSecretValue per name, however often it was needed.
  EXPECT_EQ(Calls("outpost/test/KEYED_API_KEY"), 1);
  EXPECT_EQ(Calls("outpost/test/MISSING_API_KEY"), 1);
  EXPECT_EQ(Calls("outpost/test/MY_TOKEN"), 1);

  server_->Signal(SIGTERM);
  server_->Wait();
  // --log-format json: every line one object with time, level and message; no value in it.
  const std::string log = ReadAll(log_);
  EXPECT_EQ(log.find(kKeyedKey), std::string::npos);
  EXPECT_EQ(log.find(kToken), std::string::npos);
  std::istringstream lines(log);
  int count = 0;
  bool named_backend = false;
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    ASSERT_FALSE(ec) << "not a JSON line: " << line;
    ASSERT_TRUE(v.is_object()) << line;
    const std::string level(v.at("level").as_string());
    EXPECT_TRUE(level == "TRACE" || level == "DEBUG" || level == "INFO" || level == "WARN" ||
                level == "ERROR" || level == "CRITICAL")
        << line;
    EXPECT_TRUE(v.as_object().contains("time")) << line;
    named_backend |=
        std::string(v.at("message").as_string()).find("AWS Secrets Manager") != std::string::npos;
    ++count;
  }
  EXPECT_GT(count, 0);
  EXPECT_TRUE(named_backend) << log;
}

TEST_F(SecretsManagerServerTest, WithoutCredentialsTheServerRefusesToStartNamingThem) {
  std::ofstream(dir_ + "/outpost.toml") << "[secrets]\nbackend = \"aws-secretsmanager\"\n"
                                           "region = \"us-east-1\"\n";
  CliResult r = RunOutpost(
      {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_, "--config", dir_ + "/outpost.toml"},
      {{"HOME", dir_},
       {"AWS_ACCESS_KEY_ID", ""},
       {"AWS_SECRET_ACCESS_KEY", ""},
       {"AWS_PROFILE", "none"},
       {"AWS_SHARED_CREDENTIALS_FILE", dir_ + "/no-credentials"},
       {"AWS_CONFIG_FILE", dir_ + "/no-config"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("secrets: "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace outpost::testing
