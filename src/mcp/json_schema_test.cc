#include "mcp/json_schema.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "mcp/tools.h"

namespace outpost::mcp {
namespace {
namespace json = boost::json;

std::vector<FieldError> Check(std::string_view tool, std::string_view args) {
  return ValidateSchema(json::value(FindTool(tool)->input_schema), json::parse(args));
}

TEST(ToolArguments, GoodArgumentsPass) {
  EXPECT_TRUE(
      Check("get_run", R"({"runId":"01J0000000000000000000000","waitSeconds":300})").empty());
  EXPECT_TRUE(Check("list_runs", R"({"limit":5,"status":"RUNNING","tags":{"a":"b"}})").empty());
  EXPECT_TRUE(Check("fleet_status", "{}").empty());
  EXPECT_TRUE(Check("health", "{}").empty());
  EXPECT_TRUE(Check("get_artifacts", R"({"runId":"x","expiresIn":60})").empty());
}

TEST(ToolArguments, HealthTakesNoArguments) {
  auto e = Check("health", R"({"verbose":true})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].path, "verbose");
}

TEST(ToolArguments, EachBadFieldIsNamed) {
  auto e = Check("get_run", R"({"waitSeconds":301,"includeOutput":"yes","extra":1})");
  ASSERT_EQ(e.size(), 4u);
  std::vector<std::string> paths;
  for (const auto& x : e) paths.push_back(x.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"extra", "includeOutput", "runId", "waitSeconds"}));
  e = Check("get_artifacts", R"({"runId":"x","expiresIn":59})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].path, "expiresIn");
  EXPECT_EQ(e[0].message, "expiresIn must be from 60 to 86400");
  e = Check("get_logs", R"({"runId":"x","offset":-1})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].path, "offset");
}

TEST(JsonSchema, OneOfReportsTheClosestForm) {
  auto e = ValidateSchema(json::value(DispatchInputSchema()),
                          json::parse(R"({"agent":["shell",3],"task":"t"})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].path, "agent[1]");
}

}  // namespace
}  // namespace outpost::mcp
