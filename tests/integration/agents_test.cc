// Agents end to end through a real `outpost serve`: config-defined agents (a `/bin/sh -c` fake
// that prints a coding agent's output), output parsing at the end of a run (agent_error,
// usage and cost, final message), fan-out dispatch and agents whose CLI is not installed.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;

constexpr char kConfig[] = R"(
[server]
runner = "process"
[agents.fakeclaude]
command = ["/bin/sh", "-c", "{task}"]
models = ["fake-model"]
parser = "claude-stream-json"
cost_input_per_mtok = 15
cost_output_per_mtok = 75
[agents.fakecodex]
command = ["/bin/sh", "-c", "{task}"]
models = ["fake-model", "other-model"]
parser = "codex-json"
[agents.missingcli]
command = ["outpost-no-such-agent-cli", "{task}"]
models = ["m"]
[agents.grok]
enabled = false
)";

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

// A shell task that prints `line` and exits 0.
std::string Print(const std::string& line) {
  std::string quoted = "'";
  for (char c : line) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return "printf '%s\\n' " + quoted + "'";
}

class AgentsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    std::ofstream(dir_ + "/outpost.toml") << kConfig;
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_CONFIG", dir_ + "/outpost.toml"}});
    ASSERT_TRUE(server_);
  }
  std::string Dispatch(const std::string& agent, const std::string& task) {
    return server_->Dispatch(json::serialize(json::object{{"agent", agent}, {"task", task}}));
  }
};

TEST_F(AgentsTest, AgentThatReportsAnErrorButExitsZeroIsFailedWithAgentError) {
  std::string id = Dispatch(
      "fakeclaude",
      Print(
          R"({"type":"result","subtype":"success","is_error":true,"result":"Invalid API key · Please run /login","usage":{"input_tokens":0,"output_tokens":0}})"));
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "FAILED");
  EXPECT_EQ(Str(run, "reason"), "agent_error");
  EXPECT_EQ(Str(run, "errorMessage"), "Invalid API key · Please run /login");
  EXPECT_EQ(run.at("exitCode").as_int64(), 0);
}

TEST_F(AgentsTest, PermissionDenialIsAnAgentError) {
  std::string id = Dispatch(
      "fakeclaude",
      Print(
          R"({"type":"result","subtype":"success","is_error":false,"result":"I need permission.","usage":{"input_tokens":1,"output_tokens":1},"permission_denials":[{"tool_name":"Write","tool_use_id":"t1","tool_input":{}}]})"));
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "FAILED");
  EXPECT_EQ(Str(run, "reason"), "agent_error");
  EXPECT_NE(Str(run, "errorMessage").find("denied permission to use Write"), std::string::npos);
}

TEST_F(AgentsTest, ReportedUsageIsRecordedWithItsCostAndTheFinalMessage) {
  std::string id = Dispatch(
      "fakeclaude",
      Print(
          R"({"type":"result","subtype":"success","is_error":false,"result":"All done.","usage":{"input_tokens":2000,"output_tokens":1000},"permission_denials":[]})"));
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(Str(run, "finalMessage"), "All done.");
  ASSERT_TRUE(run.at("usage").is_object());
  const json::object& usage = run.at("usage").as_object();
  EXPECT_EQ(usage.at("inputTokens").as_int64(), 2000);
  EXPECT_EQ(usage.at("outputTokens").as_int64(), 1000);
  EXPECT_DOUBLE_EQ(usage.at("costUsd").to_number<double>(), 0.105);  // 2000*15e-6 + 1000*75e-6
}

TEST_F(AgentsTest, TheAgentsOwnCostIsUsedAndItsSourceRecorded) {
  std::string id = Dispatch(
      "fakeclaude",
      Print(
          R"({"type":"result","subtype":"success","is_error":false,"result":"ok","total_cost_usd":0.0421,"usage":{"input_tokens":2000,"output_tokens":1000}})"));
  json::object run = server_->WaitTerminal(id);
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  const json::object& usage = run.at("usage").as_object();
  EXPECT_DOUBLE_EQ(usage.at("costUsd").to_number<double>(), 0.0421);  // not 0.105 by the rates
  EXPECT_EQ(Str(usage, "costSource"), "agent");
}

TEST_F(AgentsTest, AFailedCodexTurnStillReportsTheUsageItConsumed) {
  std::string id = Dispatch(
      "fakecodex",
      Print(R"({"type":"thread.started","thread_id":"t"})") + "; " +
          Print(R"({"type":"turn.started"})") + "; " +
          Print(
              R"({"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized"}})"));
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "agent_error");
  ASSERT_TRUE(run.at("usage").is_object()) << json::serialize(run);
  const json::object& usage = run.at("usage").as_object();
  EXPECT_EQ(usage.at("inputTokens").as_int64(), 0);
  EXPECT_EQ(usage.at("outputTokens").as_int64(), 0);
  EXPECT_EQ(Str(usage, "costSource"), "rates");
}

TEST_F(AgentsTest, FanOutGivesOneRunPerAgentInAListableGroup) {
  HttpResponse r = server_->Post(
      "/dispatch",
      R"({"agent":["fakeclaude","fakecodex"],"task":"echo hi","modelId":"fake-model"})");
  ASSERT_EQ(r.status, 201) << r.body;
  json::value body = r.Json();
  const json::object& data = body.at("data").as_object();
  std::string group = Str(data, "groupId");
  ASSERT_EQ(group.size(), 26u);
  const json::array& runs = data.at("runs").as_array();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(Str(runs[0].as_object(), "agent"), "fakeclaude");
  EXPECT_EQ(Str(runs[1].as_object(), "agent"), "fakecodex");
  EXPECT_EQ(Str(runs[1].as_object(), "modelId"), "fake-model");
  EXPECT_EQ(Str(runs[0].as_object(), "status"), "PENDING");
  EXPECT_EQ(data.at("runIds").as_array().size(), 2u);
  EXPECT_EQ(r.headers["location"], "/runs?group=" + group);

  HttpResponse list = server_->Get("/runs?group=" + group);
  ASSERT_EQ(list.status, 200) << list.body;
  json::value listed = list.Json();
  const json::value& page = listed.at("data");
  const json::array& items = page.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  for (const auto& item : items) EXPECT_EQ(Str(item.as_object(), "groupId"), group);
  for (const auto& id : data.at("runIds").as_array()) {
    EXPECT_EQ(Str(server_->WaitTerminal(std::string(id.as_string())), "status"), "COMPLETED");
  }
}

TEST_F(AgentsTest, AllMeansEveryAvailableCodingAgent) {
  HttpResponse r = server_->Post("/dispatch", R"({"agent":"all","task":"true"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::vector<std::string> agents;
  json::value body = r.Json();
  for (const auto& run : body.at("data").at("runs").as_array()) {
    agents.push_back(Str(run.as_object(), "agent"));
  }
  // shell is not a coding agent; missingcli and the real CLIs are not installed here.
  EXPECT_EQ(agents, (std::vector<std::string>{"fakeclaude", "fakecodex"}));
}

TEST_F(AgentsTest, ModelIdWithAgentsThatLackItIsAmbiguous) {
  HttpResponse r = server_->Post(
      "/dispatch", R"({"agent":["fakeclaude","fakecodex"],"task":"x","modelId":"other-model"})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("ambiguous"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("fakeclaude"), std::string::npos) << r.body;
}

TEST_F(AgentsTest, AgentWhoseCliIsMissingIsUnavailableAndRefused) {
  HttpResponse fleet = server_->Get("/health/fleet");
  ASSERT_EQ(fleet.status, 200) << fleet.body;
  bool seen = false;
  json::value health = fleet.Json();
  // One coding agent of three is not installed: the fleet is degraded, not healthy.
  EXPECT_EQ(Str(health.as_object(), "status"), "degraded") << fleet.body;
  EXPECT_TRUE(health.at("healthy").as_bool()) << fleet.body;
  for (const auto& a : health.at("agents").as_array()) {
    const json::object& o = a.as_object();
    if (Str(o, "agent") == "missingcli") {
      seen = true;
      EXPECT_FALSE(o.at("available").as_bool());
      EXPECT_NE(Str(o, "reason").find("not installed"), std::string::npos) << json::serialize(o);
    }
    if (Str(o, "agent") == "shell") {
      EXPECT_TRUE(o.at("available").as_bool());
    }
  }
  EXPECT_TRUE(seen) << fleet.body;

  HttpResponse r = server_->Post("/dispatch", R"({"agent":"missingcli","task":"x"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("agent 'missingcli' is not available"), std::string::npos) << r.body;
}

// GET /health/fleet judges the fleet by its coding agents; `shell` counts only when it is the
// only agent enabled (outpost-original-spec "GET /health/fleet").
class FleetHealthTest : public ServerTest {
 protected:
  void Start(const std::string& config) {
    std::ofstream(dir_ + "/outpost.toml") << "[server]\nrunner = \"process\"\n" << config;
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_CONFIG", dir_ + "/outpost.toml"}});
    ASSERT_TRUE(server_);
  }
  static json::object Agent(const json::value& fleet, const std::string& name) {
    for (const auto& a : fleet.at("agents").as_array()) {
      if (Str(a.as_object(), "agent") == name) return a.as_object();
    }
    ADD_FAILURE() << name << " not in " << json::serialize(fleet);
    return {};
  }
  void RunToEnd(const std::string& agent, const std::string& task, const std::string& status) {
    std::string id =
        server_->Dispatch(json::serialize(json::object{{"agent", agent}, {"task", task}}));
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), status);
  }
};

constexpr char kOnlyShell[] = R"(
[agents.claude]
enabled = false
[agents.codex]
enabled = false
[agents.gemini]
enabled = false
[agents.aider]
enabled = false
[agents.grok]
enabled = false
)";

TEST_F(FleetHealthTest, ShellAloneIsTheFleetAndAnAgentWithoutRunsHasNoRates) {
  Start(kOnlyShell);
  HttpResponse r = server_->Get("/health/fleet");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value fleet = r.Json();
  EXPECT_EQ(Str(fleet.as_object(), "status"), "healthy") << r.body;
  EXPECT_TRUE(fleet.at("healthy").as_bool());
  ASSERT_EQ(fleet.at("agents").as_array().size(), 1u) << r.body;  // disabled agents are gone
  json::object shell = Agent(fleet, "shell");
  EXPECT_TRUE(shell.at("successRate").is_null()) << json::serialize(shell);    // not 100
  EXPECT_TRUE(shell.at("avgDurationMs").is_null()) << json::serialize(shell);  // not 0

  RunToEnd("shell", "true", "COMPLETED");
  shell = Agent(server_->Get("/health/fleet").Json(), "shell");
  EXPECT_EQ(shell.at("successRate").as_int64(), 100) << json::serialize(shell);
  EXPECT_TRUE(shell.at("avgDurationMs").is_int64()) << json::serialize(shell);
}

TEST_F(FleetHealthTest, NoCodingAgentAvailableIsUnhealthyWhateverShellSays) {
  // The embedded defaults: no coding CLI on the default PATH here and no API key, so none of
  // claude, codex, gemini, aider, grok can run; shell can, and does not count.
  Start("");
  HttpResponse r = server_->Get("/health/fleet");
  EXPECT_EQ(r.status, 503) << r.body;
  json::value fleet = r.Json();
  EXPECT_EQ(Str(fleet.as_object(), "status"), "unhealthy") << r.body;
  EXPECT_FALSE(fleet.at("healthy").as_bool());
  EXPECT_TRUE(Agent(fleet, "shell").at("available").as_bool());
  EXPECT_FALSE(Agent(fleet, "claude").at("available").as_bool());
}

TEST_F(FleetHealthTest, ASuccessRateUnderEightyPercentIsDegraded) {
  Start(std::string(kOnlyShell) + R"(
[agents.fakecli]
command = ["/bin/sh", "-c", "{task}"]
models = ["m"]
)");
  json::value fleet = server_->Get("/health/fleet").Json();
  EXPECT_EQ(Str(fleet.as_object(), "status"), "healthy") << json::serialize(fleet);
  // shell's runs do not count beside a coding agent: its failures leave the fleet healthy.
  RunToEnd("shell", "exit 3", "FAILED");
  fleet = server_->Get("/health/fleet").Json();
  EXPECT_EQ(Str(fleet.as_object(), "status"), "healthy") << json::serialize(fleet);
  EXPECT_EQ(Agent(fleet, "shell").at("successRate").as_int64(), 0);

  RunToEnd("fakecli", "true", "COMPLETED");
  RunToEnd("fakecli", "exit 1", "FAILED");
  HttpResponse r = server_->Get("/health/fleet");
  EXPECT_EQ(r.status, 200) << r.body;  // degraded is still served
  fleet = r.Json();
  EXPECT_EQ(Agent(fleet, "fakecli").at("successRate").as_int64(), 50);
  EXPECT_EQ(Str(fleet.as_object(), "status"), "degraded") << r.body;
  EXPECT_TRUE(fleet.at("healthy").as_bool());
}

}  // namespace
}  // namespace outpost::testing
