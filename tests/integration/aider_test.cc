// aider is on PyPI only, which this machine cannot reach, so the real CLI cannot run here. This
// test puts a stand-in `aider` executable on the default adapter's PATH (its only override) and
// checks, inside a real sandbox, exactly what Outpost starts it with: the argv of the default
// adapter with the task as one untouched element, the model chosen by modelId, the DeepSeek key
// from the secret store and no other secret, the private home; then that aider's text output is
// parsed (usage, cost) and a key it prints is redacted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr char kKey[] = "sk-deepseek-test-key-0123456789";

// Records argv (NUL-separated) and the environment in $HOME, writes a file, and prints what
// aider prints at the end of a run (token report and cost), plus its key.
constexpr char kStub[] = R"(#!/bin/sh
for a in "$0" "$@"; do printf '%s\0' "$a"; done > "$HOME/argv"
env > "$HOME/env"
echo "hello from aider" > hello.txt
echo "Applied edit to hello.txt"
echo "key is $DEEPSEEK_API_KEY"
echo "Tokens: 1,200 sent, 340 received. Cost: \$0.0026 message, \$0.0026 session."
)";

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\0') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

class AiderTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    fs::permissions(stub_dir_, fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
    std::ofstream(stub_dir_ + "/aider") << kStub;
    fs::permissions(stub_dir_ + "/aider", fs::perms::owner_all | fs::perms::others_read |
                                              fs::perms::others_exec | fs::perms::group_read |
                                              fs::perms::group_exec);
    std::ofstream(dir_ + "/outpost.toml")
        << "[agents.aider]\n"
        << "install_dirs = [\"" << stub_dir_ << "\"]\n"
        << "env = { PATH = \"" << stub_dir_ << ":/usr/bin:/bin\" }\n";
    server_ =
        ServerProcess::Start(dir_ + "/data",
                             {{"OUTPOST_SECRET_DEEPSEEK_API_KEY", kKey},
                              {"OUTPOST_SECRET_ANTHROPIC_API_KEY", "sk-ant-not-for-aider-1234"},
                              // Its home and workspace are read after the run: no workspace
                              // images (discarded with the run, README "Workspace images").
                              {"OUTPOST_WORKSPACE_IMAGES", "0"}},
                             {"--config", dir_ + "/outpost.toml"});
    ASSERT_TRUE(server_);
  }
  json::object RunAider(json::object body) {
    body["agent"] = "aider";
    HttpResponse r = server_->Post("/dispatch", json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    id_ = std::string(r.Json().at("data").at("runId").as_string());
    return server_->WaitTerminal(id_, std::chrono::seconds(60));
  }
  std::string Home(const std::string& file) const {
    return ReadAll(dir_ + "/data/runs/" + id_ + "/home/" + file);
  }

  // The stand-in's dir: outside /work and /tmp, which the sandbox mounts over.
  TempDir stub_{"outpost-aider", "/var/tmp"};
  const std::string stub_dir_ = stub_.path();
  std::string id_;
};

TEST_F(AiderTest, StartsTheDefaultArgvWithTheTaskAsOneElementAndOnlyItsOwnKey) {
  const std::string task = "fix it; $(touch /work/pwned) \"quoted\" 'single'\nsecond line";
  json::object run = RunAider({{"task", task}});
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);

  std::vector<std::string> argv = SplitNul(Home("argv"));
  ASSERT_EQ(argv.size(), 8u) << Home("argv");
  EXPECT_EQ(argv[0], stub_dir_ + "/aider");  // found on the adapter's PATH
  EXPECT_EQ(std::vector<std::string>(argv.begin() + 1, argv.end()),
            (std::vector<std::string>{"--message", task, "--yes-always", "--no-auto-commits",
                                      "--no-check-update", "--model", "deepseek/deepseek-coder"}));
  EXPECT_FALSE(fs::exists(dir_ + "/data/runs/" + id_ + "/workspace/pwned"));

  const std::string env = Home("env");
  // The agent had its key; the kept home holds it no more (issue 18 item 8: the shim redacts
  // every secret value in the home once the run is over, so exactly the value became this).
  EXPECT_NE(env.find("DEEPSEEK_API_KEY=[REDACTED]\n"), std::string::npos) << env;
  EXPECT_EQ(env.find(kKey), std::string::npos) << env;
  EXPECT_NE(env.find("HOME=/home/agent\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("sk-ant-not-for-aider"), std::string::npos) << env;
  EXPECT_EQ(env.find("OUTPOST_SECRET_"), std::string::npos) << env;
  EXPECT_EQ(env.find("ANTHROPIC_API_KEY"), std::string::npos) << env;

  // Its output: parsed for usage (priced at the adapter's rates) and redacted.
  const json::object& usage = run.at("usage").as_object();
  EXPECT_EQ(usage.at("inputTokens").to_number<int>(), 1200);
  EXPECT_EQ(usage.at("outputTokens").to_number<int>(), 340);
  EXPECT_NEAR(usage.at("costUsd").to_number<double>(), (1200 * 0.27 + 340 * 1.10) / 1e6, 1e-9);
  EXPECT_EQ(usage.at("costSource").as_string(), "rates");
  const std::string out = ReadAll(dir_ + "/data/runs/" + id_ + "/stdout.log");
  EXPECT_NE(out.find("key is [REDACTED]"), std::string::npos) << out;
  EXPECT_EQ(out.find(kKey), std::string::npos) << out;
  EXPECT_EQ(ReadAll(dir_ + "/data/runs/" + id_ + "/workspace/hello.txt"), "hello from aider\n");
}

TEST_F(AiderTest, ModelIdChoosesTheModelAndAnUnknownOneIsRefusedWithTheValidList) {
  json::object run = RunAider({{"task", "t"}, {"modelId", "deepseek/deepseek-chat"}});
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  std::vector<std::string> argv = SplitNul(Home("argv"));
  ASSERT_EQ(argv.size(), 8u);
  EXPECT_EQ(argv[7], "deepseek/deepseek-chat");

  HttpResponse bad =
      server_->Post("/dispatch", R"({"agent":"aider","task":"t","modelId":"gpt-4o"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("deepseek/deepseek-coder"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("modelId"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace outpost::testing
