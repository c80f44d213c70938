// The real `claude` CLI as an MCP client of Outpost: configured with --mcp-config for
// `outpost mcp --endpoint …` and driven by the fake model server to call the dispatch tool and
// then get_run (with the runId dispatch returned), it makes a run appear and complete in a real
// `outpost serve`. claude runs outside the sandbox with a cleared environment and a scratch
// HOME. Fails, naming claude, when node_modules (scripts/install-deps.sh test) is absent.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/agents/fake_model_server.h"
#include "tests/integration/server_fixture.h"
#include "tests/mcp/mcp_child.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kSource = OUTPOST_SOURCE_DIR;

TEST(ClaudeAsMcpClient, DispatchesThroughOutpostAndWaitsForTheRun) {
  const std::string claude = kSource + "/node_modules/.bin/claude";
  ASSERT_TRUE(fs::exists(claude)) << "claude is not installed (no " << claude
                                  << "): run scripts/install-deps.sh test";
  const std::string dir = MakeTempDir();
  auto server = ServerProcess::Start(dir + "/data");
  auto model = FakeModelServer::Start(kSource + "/tests/fake_model_server/server.js");
  ASSERT_TRUE(model->SetScript(json::parse(R"([
    {"type": "tool_use", "name": "mcp__outpost__dispatch",
     "input": {"agent": "shell", "task": "echo from-claude", "tags": {"via": "mcp"}}},
    {"type": "tool_use", "name": "mcp__outpost__get_run",
     "input": {"runId": "${runId}", "waitSeconds": 60, "includeOutput": true}},
    {"type": "text", "text": "The run completed."}])")
                                   .as_array()));
  const std::string home = dir + "/home";
  fs::create_directories(home);
  const std::string config = home + "/mcp.json";
  std::ofstream(config) << json::serialize(json::object{
      {"mcpServers",
       json::object{
           {"outpost", json::object{{"command", OutpostBin()},
                                    {"args", json::array{"mcp", "--endpoint",
                                                         "http://" + server->address()}}}}}}});

  Child c({claude, "-p", "Run `echo from-claude` through Outpost and wait for it.",
           "--output-format", "stream-json", "--verbose", "--model", "claude-opus-4-5-20251101",
           "--mcp-config", config, "--strict-mcp-config", "--dangerously-skip-permissions"},
          {{"HOME", home},
           {"PATH", "/usr/bin:/bin"},
           {"ANTHROPIC_BASE_URL", model->url()},
           {"ANTHROPIC_API_KEY", "sk-ant-test"},
           {"CLAUDE_CODE_MAX_RETRIES", "0"},
           {"DISABLE_AUTOUPDATER", "1"},
           {"DISABLE_TELEMETRY", "1"},
           {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"},
           {"IS_SANDBOX", "1"},
           // Offer the MCP tools directly rather than behind claude's tool search.
           {"ENABLE_TOOL_SEARCH", "false"}},
          /*clear_env=*/true);
  c.CloseStdin();
  const std::string out = c.ReadRest(120s);
  ASSERT_EQ(c.Wait(60s), 0) << out << c.Stderr();

  // claude saw the tools, and get_run's result reached it with the finished run.
  bool offered = false;
  for (const auto& r : model->Requests()) {
    for (const auto& t : r.at("body").as_object().if_contains("tools")
                             ? r.at("body").at("tools").as_array()
                             : json::array{}) {
      offered |= t.at("name") == "mcp__outpost__dispatch";
    }
  }
  EXPECT_TRUE(offered);
  EXPECT_NE(out.find(R"(\"status\":\"COMPLETED\")"), std::string::npos) << out;
  EXPECT_NE(out.find("The run completed."), std::string::npos);

  // The run is in Outpost, COMPLETED, with its output.
  json::value runs = server->Get("/runs?tag=via:mcp").Json();
  ASSERT_EQ(runs.at("data").at("items").as_array().size(), 1u) << json::serialize(runs);
  const json::value& run = runs.at("data").at("items").at(0);
  EXPECT_EQ(run.at("task"), "echo from-claude");
  EXPECT_EQ(run.at("status"), "COMPLETED");
  EXPECT_EQ(run.at("finalMessage"), "from-claude");
  server.reset();
  KillRunsUnder(dir + "/data");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace outpost::testing
