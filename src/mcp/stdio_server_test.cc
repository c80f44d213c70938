// The stdio server's own behaviour with a scripted ToolRunner: the end of input answers what is
// in flight, initialize tells the runner, tools/list takes the runner's list when it has one.
#include "mcp/stdio_server.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "mcp/tool_result.h"
#include "mcp/tools.h"

namespace outpost::mcp {
namespace {
namespace json = boost::json;

std::vector<json::object> Lines(const std::string& out) {
  std::vector<json::object> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(json::parse(line).as_object());
  return v;
}

// The input ends right after the call: the call's reply is still written before Run returns.
TEST(StdioServer, EndOfInputAnswersTheCallsInFlight) {
  std::istringstream in(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"health","arguments":{}}})"
      "\n");
  std::ostringstream out;
  ToolRunner runner{[](const json::value& id, const ToolCall&) {
                      // Slower than reading the (already ended) input.
                      std::this_thread::sleep_for(std::chrono::milliseconds(200));
                      return Reply(id, ToolSuccess(json::object{{"ok", true}}, "ok"));
                    },
                    {}};
  EXPECT_EQ(RunStdioServer(in, out, std::move(runner)), 0);
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u) << out.str();
  EXPECT_EQ(lines[0].at("id"), 7);
  EXPECT_FALSE(lines[0].at("result").at("isError").as_bool());
}

TEST(StdioServer, InitializeTellsTheRunnerAndToolsListTakesItsList) {
  std::istringstream in(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})"
      "\n"
      R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})"
      "\n");
  std::ostringstream out;
  int initialized = 0;
  bool have_list = false;
  ToolRunner runner{[](const json::value& id, const ToolCall&) { return Reply(id, nullptr); },
                    {},
                    [&] {
                      ++initialized;
                      have_list = true;
                    },
                    [&]() -> std::optional<json::object> {
                      if (!have_list) return std::nullopt;
                      return json::object{{"tools", json::array{json::object{{"name", "x"}}}}};
                    }};
  RunStdioServer(in, out, std::move(runner));
  EXPECT_EQ(initialized, 1);
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_EQ(json::serialize(lines[1].at("result")), R"({"tools":[{"name":"x"}]})");
}

TEST(StdioServer, ToolsListWithoutTheRunnersListIsTheCatalog) {
  std::istringstream in(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})"
                        "\n");
  std::ostringstream out;
  ToolRunner runner{[](const json::value& id, const ToolCall&) { return Reply(id, nullptr); },
                    {},
                    {},
                    [] { return std::optional<json::object>(); }};
  RunStdioServer(in, out, std::move(runner));
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("result"), json::value(ToolsListResult()));
}

// A server's list: dispatch's agent takes only its agents (and "all"), modelId lists the models.
TEST(ToolsList, DispatchNamesTheServersAgentsAndModels) {
  std::vector<ServerAgent> agents{{"claude", {"claude-sonnet-4-5", "claude-opus-4-1"}},
                                  {"shell", {}}};
  json::object list = ToolsListResult(&agents);
  const json::array& tools = list.at("tools").as_array();
  ASSERT_EQ(tools.size(), Tools().size());
  const json::object& props = tools[0].at("inputSchema").at("properties").as_object();
  EXPECT_EQ(json::serialize(props.at("agent").at("oneOf").at(0).at("enum")),
            R"(["claude","shell","all"])");
  EXPECT_EQ(json::serialize(props.at("agent").at("oneOf").at(1).at("items").at("enum")),
            R"(["claude","shell"])");
  const std::string models(props.at("modelId").at("description").as_string());
  EXPECT_NE(models.find("claude: claude-sonnet-4-5 (default), claude-opus-4-1"), std::string::npos)
      << models;
  // The compiled catalog is unchanged by it.
  EXPECT_FALSE(ToolsListResult()
                   .at("tools")
                   .at(0)
                   .at("inputSchema")
                   .at("properties")
                   .at("agent")
                   .at("oneOf")
                   .at(0)
                   .as_object()
                   .contains("enum"));
}

}  // namespace
}  // namespace outpost::mcp
