#include "mcp/protocol.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/status.h"
#include "mcp/tool_result.h"

namespace outpost::mcp {
namespace {
namespace json = boost::json;

json::object Answer(std::string_view text) {
  Parsed p = ParseMessage(text);
  if (!p.message) return p.error_reply;
  Step s = HandleRequest(*p.message);
  if (s.reply) return *s.reply;
  return json::object{{"call", s.call->name}};
}

int ErrorCode(const json::object& reply) {
  return static_cast<int>(reply.at("error").at("code").as_int64());
}

TEST(McpProtocol, InitializeAnswersTheClientsVersionWhenSupportedElseTheLatest) {
  for (std::string v : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    auto r =
        Answer(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":")" +
               v + R"(","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
    EXPECT_EQ(r.at("result").at("protocolVersion"), json::value(v));
    EXPECT_TRUE(r.at("result").at("capabilities").as_object().contains("tools"));
  }
  auto r = Answer(
      R"({"jsonrpc":"2.0","id":"a","method":"initialize","params":{"protocolVersion":"2024-11-05"}})");
  EXPECT_EQ(r.at("result").at("protocolVersion"), "2025-11-25");
  EXPECT_EQ(r.at("id"), "a");
}

TEST(McpProtocol, SupportsTheThreeVersionsDeployedClientsSpeak) {
  EXPECT_TRUE(IsSupportedVersion("2025-11-25"));
  EXPECT_TRUE(IsSupportedVersion("2025-06-18"));
  EXPECT_TRUE(IsSupportedVersion("2025-03-26"));
  EXPECT_FALSE(IsSupportedVersion("2024-11-05"));
  EXPECT_FALSE(IsSupportedVersion(""));
  EXPECT_EQ(SupportedVersionsText(), "2025-11-25, 2025-06-18, 2025-03-26");
}

TEST(McpProtocol, ProtocolErrorsFollowJsonRpc) {
  EXPECT_EQ(ErrorCode(Answer("{not json")), kParseError);
  EXPECT_EQ(ErrorCode(Answer(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])")), kInvalidRequest);
  EXPECT_EQ(ErrorCode(Answer(R"({"jsonrpc":"1.0","id":1,"method":"ping"})")), kInvalidRequest);
  EXPECT_EQ(ErrorCode(Answer(R"({"jsonrpc":"2.0","id":{},"method":"ping"})")), kInvalidRequest);
  auto unknown = Answer(R"({"jsonrpc":"2.0","id":7,"method":"resources/list"})");
  EXPECT_EQ(ErrorCode(unknown), kMethodNotFound);
  EXPECT_EQ(unknown.at("id"), 7);
  auto tool = Answer(R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nope"}})");
  EXPECT_EQ(ErrorCode(tool), kInvalidParams);
  EXPECT_NE(json::serialize(tool).find("nope"), std::string::npos);
  EXPECT_EQ(ErrorCode(Answer(R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{}})")),
            kInvalidParams);
  EXPECT_EQ(
      ErrorCode(Answer(
          R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"cancel","arguments":[1]}})")),
      kInvalidParams);
}

TEST(McpProtocol, ToolsListHasEveryToolWithSchemas) {
  auto r = Answer(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  std::vector<std::string> names;
  for (const auto& t : r.at("result").at("tools").as_array()) {
    names.emplace_back(t.at("name").as_string());
    EXPECT_EQ(t.at("inputSchema").at("type"), "object");
    EXPECT_EQ(t.at("outputSchema").at("type"), "object");
    EXPECT_GT(t.at("description").as_string().size(), 80u);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"dispatch", "get_run", "list_runs", "cancel",
                                             "fleet_status", "health", "get_logs", "get_artifacts",
                                             "promote", "get_diff"}));
  EXPECT_EQ(Answer(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_run"}})")
                .at("call"),
            "get_run");
}

TEST(McpProtocol, CancelledNotificationNamesTheRequest) {
  Parsed p = ParseMessage(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"x"}})");
  ASSERT_TRUE(p.message);
  EXPECT_EQ(p.message->kind, Message::Kind::kNotification);
  EXPECT_EQ(CancelledRequestId(*p.message), json::value(5));
}

TEST(McpToolResult, StatusMapsToAToolErrorNamingEachField) {
  json::object r =
      ToolError(Status::Invalid({{"task", "task is required"}, {"timeoutSeconds", "too big"}}));
  EXPECT_TRUE(r.at("isError").as_bool());
  const std::string text(r.at("content").at(0).at("text").as_string());
  EXPECT_NE(text.find("VALIDATION_ERROR"), std::string::npos);
  EXPECT_NE(text.find("- task: task is required"), std::string::npos);
  EXPECT_NE(text.find("- timeoutSeconds: too big"), std::string::npos);
  EXPECT_EQ(ToolErrorHttpStatus(r), 400);
  EXPECT_FALSE(r.contains("structuredContent"));
  EXPECT_EQ(ToolErrorHttpStatus(ToolError(NotFound("run x not found"))), 404);
  EXPECT_EQ(ToolErrorHttpStatus(ToolError(Unavailable("store down"))), 503);
  json::object internal = ToolError(Internal("secret detail"));
  EXPECT_EQ(json::serialize(internal).find("secret detail"), std::string::npos);
  EXPECT_EQ(ToolErrorHttpStatus(ToolSuccess({}, "ok")), std::nullopt);
}

TEST(McpToolResult, AQuotaRefusalIsARateLimitToolErrorWithItsDetails) {
  Status quota(Code::kResourceExhausted, "quota exceeded: concurrent runs (2 of 2 in use)");
  quota.WithDetail("quota", "concurrent_runs").WithDetail("retryAfterSeconds", 10);
  json::object r = ToolError(quota);
  EXPECT_TRUE(r.at("isError").as_bool());
  EXPECT_EQ(ToolErrorHttpStatus(r), 429);
  const std::string text(r.at("content").at(0).at("text").as_string());
  EXPECT_EQ(text.rfind("RATE_LIMIT_EXCEEDED: quota exceeded", 0), 0u) << text;
  EXPECT_NE(text.find("retryAfterSeconds: 10"), std::string::npos) << text;
  EXPECT_EQ(r.at("_meta").at("outpost/error").at("code"), "RATE_LIMIT_EXCEEDED");
}

}  // namespace
}  // namespace outpost::mcp
