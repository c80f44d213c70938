// RemoteTools (the stdio server's way to the server) against a scripted HTTP server: what is
// retried and what is not, and the answers when the server cannot be asked.
#include "mcp/remote_tools.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "mcp/mcp_command.h"
#include "mcp/tool_result.h"
#include "testing/fake_http_server.h"

namespace outpost::mcp {
namespace {
namespace json = boost::json;
using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;

std::string ToolReply(const json::object& result) {
  return json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"result", result}});
}

class RemoteToolsTest : public ::testing::Test {
 protected:
  // Answers initialize; every tools/call gets the next of `calls` (the last one repeats).
  void Serve(std::vector<FakeResponse> calls) {
    server_ = std::make_unique<FakeHttpServer>([this, calls](const FakeRequest& r) {
      if (r.body.find("\"initialize\"") != std::string::npos) {
        return FakeResponse{
            200,
            R"({"jsonrpc":"2.0","id":"i","result":{"protocolVersion":"2025-06-18"}})",
            {{"Mcp-Session-Id", "S1"}}};
      }
      if (r.body.find("\"tools/call\"") == std::string::npos) return FakeResponse{202, "", {}};
      std::lock_guard lock(mu_);
      seen_.push_back(r);
      return calls[std::min(seen_.size() - 1, calls.size() - 1)];
    });
  }
  RemoteTools Make(std::optional<std::string> endpoint) {
    RemoteOptions o;
    if (endpoint) o.endpoint = *client::ParseEndpoint(*endpoint);
    o.unconfigured_help = UnconfiguredHelp();
    o.retry_for = Millis(10'000);
    o.sleep = [this](Millis d) {
      sleeps_.push_back(d);
      clock_.Advance(d);
    };
    o.clock = &clock_;
    return RemoteTools(std::move(o));
  }
  std::size_t Calls() {
    std::lock_guard lock(mu_);
    return seen_.size();
  }

  SimulatedClock clock_;
  std::unique_ptr<FakeHttpServer> server_;
  std::mutex mu_;
  std::vector<FakeRequest> seen_;
  std::vector<Millis> sleeps_;
};

const std::string kOk =
    ToolReply(ToolSuccess(json::object{{"healthy", true}, {"agents", json::array{}}}, "ok"));

TEST_F(RemoteToolsTest, FiveHundredsAreRetriedWithGrowingBackoff) {
  Serve({{503, "busy", {}}, {502, "bad gateway", {}}, {200, kOk, {}}});
  auto reply = Make(server_->endpoint()).Call(1, {"fleet_status", {}});
  EXPECT_FALSE(reply.at("result").at("isError").as_bool()) << json::serialize(reply);
  EXPECT_EQ(Calls(), 3u);
  EXPECT_EQ(sleeps_, (std::vector<Millis>{Millis(250), Millis(500)}));
  // The session from initialize and the negotiated version go with each call.
  EXPECT_EQ(seen_.back().headers.at("mcp-session-id"), "S1");
  EXPECT_EQ(seen_.back().headers.at("mcp-protocol-version"), "2025-06-18");
}

TEST_F(RemoteToolsTest, AToolErrorWith503IsRetriedButA4xxNever) {
  Serve({{200, ToolReply(ToolError(Unavailable("store down"))), {}}, {200, kOk, {}}});
  auto reply = Make(server_->endpoint()).Call(1, {"get_run", {{"runId", "x"}}});
  EXPECT_FALSE(reply.at("result").at("isError").as_bool());
  EXPECT_EQ(Calls(), 2u);

  seen_.clear();
  Serve({{200, ToolReply(ToolError(NotFound("run x not found"))), {}}, {200, kOk, {}}});
  reply = Make(server_->endpoint()).Call(1, {"get_run", {{"runId", "x"}}});
  EXPECT_TRUE(reply.at("result").at("isError").as_bool());
  EXPECT_EQ(Calls(), 1u);

  seen_.clear();
  Serve({{400, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}})", {}},
         {200, kOk, {}}});
  reply = Make(server_->endpoint()).Call(1, {"get_run", {{"runId", "x"}}});
  EXPECT_EQ(reply.at("error").at("code"), -32600);
  EXPECT_EQ(Calls(), 1u);
}

// The HTTP layer's rate limit answers before MCP, in the REST envelope: a tool error naming it.
TEST_F(RemoteToolsTest, ARateLimitedPostIsAToolErrorWithTheApisCode) {
  Serve({{429,
          R"({"success":false,"error":{"code":"RATE_LIMIT_EXCEEDED","message":"rate limit )"
          R"(exceeded: 2 requests per minute","details":{"quota":"requests_per_minute",)"
          R"("limit":2,"current":2,"retryAfterSeconds":30}},"meta":{}})",
          {{"Retry-After", "30"}}},
         {200, kOk, {}}});
  auto reply = Make(server_->endpoint()).Call(1, {"get_run", {{"runId", "x"}}});
  ASSERT_TRUE(reply.at("result").at("isError").as_bool()) << json::serialize(reply);
  EXPECT_EQ(ToolErrorHttpStatus(reply.at("result").as_object()), 429);
  const std::string text(reply.at("result").at("content").at(0).at("text").as_string());
  EXPECT_EQ(text.rfind("RATE_LIMIT_EXCEEDED: rate limit exceeded", 0), 0u) << text;
  EXPECT_NE(text.find("retryAfterSeconds"), std::string::npos) << text;
  EXPECT_EQ(Calls(), 1u) << "a 429 is not retried at once";
}

TEST_F(RemoteToolsTest, DispatchWithoutIdempotencyKeyIsNotRepeatedAfterA5xx) {
  Serve({{503, "busy", {}}, {200, kOk, {}}});
  auto reply = Make(server_->endpoint()).Call(1, {"dispatch", {{"agent", "shell"}, {"task", "t"}}});
  EXPECT_TRUE(reply.at("result").at("isError").as_bool());
  EXPECT_EQ(Calls(), 1u);
  seen_.clear();
  Serve({{503, "busy", {}}, {200, kOk, {}}});
  reply = Make(server_->endpoint())
              .Call(1, {"dispatch", {{"agent", "shell"}, {"task", "t"}, {"idempotencyKey", "k"}}});
  EXPECT_FALSE(reply.at("result").at("isError").as_bool());
  EXPECT_EQ(Calls(), 2u);
}

// Nothing listening: retried for the unreachable budget (4 s), not retry_for (10 s here, 30 s by
// default): the model hears within 5 s that the server is not there (issue 24 item 6).
TEST_F(RemoteToolsTest, AnUnreachableServerIsRetriedBrieflyThenExplained) {
  const std::string nowhere = "127.0.0.1:" + std::to_string(outpost::testing::UnusedPort());
  auto reply = Make("http://" + nowhere).Call(1, {"fleet_status", {}});
  EXPECT_TRUE(reply.at("result").at("isError").as_bool());
  const std::string text(reply.at("result").at("content").at(0).at("text").as_string());
  EXPECT_NE(text.find("the Outpost server does not answer: cannot reach"), std::string::npos)
      << text;
  EXPECT_NE(text.find(nowhere), std::string::npos) << text;
  EXPECT_NE(text.find("outpost serve"), std::string::npos) << text;
  Millis slept{0};
  for (Millis d : sleeps_) slept += d;
  EXPECT_EQ(sleeps_, (std::vector<Millis>{Millis(250), Millis(500), Millis(1'000), Millis(2'000)}));
  EXPECT_LE(slept, Millis(4'000));
}

TEST_F(RemoteToolsTest, ADispatchThatReachesNothingIsRetriedOnlyBriefly) {
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(outpost::testing::UnusedPort());
  auto reply = Make(nowhere).Call(1, {"dispatch", {{"agent", "shell"}, {"task", "t"}}});
  EXPECT_TRUE(reply.at("result").at("isError").as_bool());
  Millis slept{0};
  for (Millis d : sleeps_) slept += d;
  EXPECT_GT(slept, Millis(0));
  EXPECT_LE(slept, Millis(4'000));
}

// Connect asks the server for its own tools/list (its dispatch schema names its agents); the
// stdio server answers tools/list with it.
TEST_F(RemoteToolsTest, ConnectFetchesTheServersToolsList) {
  server_ = std::make_unique<FakeHttpServer>([](const FakeRequest& r) {
    if (r.body.find("\"initialize\"") != std::string::npos) {
      return FakeResponse{
          200, R"({"jsonrpc":"2.0","id":"i","result":{"protocolVersion":"2025-11-25"}})", {}};
    }
    if (r.body.find("\"tools/list\"") != std::string::npos) {
      return FakeResponse{
          200,
          R"({"jsonrpc":"2.0","id":"outpost-stdio-tools","result":{"tools":[{"name":"x"}]}})",
          {}};
    }
    return FakeResponse{202, "", {}};
  });
  RemoteTools remote = Make(server_->endpoint());
  EXPECT_EQ(remote.ToolsList(Millis(0)), std::nullopt) << "not connected yet";
  remote.Connect();
  auto list = remote.ToolsList(Millis(30'000));
  ASSERT_TRUE(list);
  EXPECT_EQ(json::serialize(*list), R"({"tools":[{"name":"x"}]})");
}

TEST_F(RemoteToolsTest, ConnectToNothingLogsItAndLeavesTheCatalog) {
  RemoteOptions o;
  o.endpoint =
      *client::ParseEndpoint("http://127.0.0.1:" + std::to_string(outpost::testing::UnusedPort()));
  std::vector<std::string> logged;
  std::mutex log_mu;
  o.log = [&](const std::string& s) {
    std::lock_guard lock(log_mu);
    logged.push_back(s);
  };
  RemoteTools remote(std::move(o));
  remote.Connect();
  EXPECT_EQ(remote.ToolsList(Millis(30'000)), std::nullopt);
  std::lock_guard lock(log_mu);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("does not answer"), std::string::npos) << logged[0];
}

TEST_F(RemoteToolsTest, WithoutEndpointEveryCallSaysHowToConfigureOne) {
  auto reply = Make(std::nullopt).Call(1, {"get_run", {{"runId", "x"}}});
  EXPECT_TRUE(reply.at("result").at("isError").as_bool());
  const std::string text(reply.at("result").at("content").at(0).at("text").as_string());
  EXPECT_NE(text.find("--endpoint"), std::string::npos);
  EXPECT_NE(text.find("OUTPOST_API_URL"), std::string::npos);
}

TEST(McpTarget, FlagsThenConfigThenEnvironment) {
  char path[] = "/tmp/outpost-mcp-config-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string body = R"({"endpoint":"http://10.0.0.1:9000","provider":"http","version":"2.0.0"})";
  ASSERT_EQ(write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  close(fd);
  std::map<std::string, std::string> env{{"OUTPOST_API_URL", "http://a:1"},
                                         {"OUTPOST_ENDPOINT", "http://b:2"},
                                         {"OUTPOST_MCP_CONFIG", path},
                                         {"OUTPOST_API_KEY", "k"}};
  EXPECT_EQ(ResolveMcpTarget({"http://f:3", "", ""}, env)->endpoint, "http://f:3");
  EXPECT_EQ(ResolveMcpTarget({"", path, ""}, env)->endpoint, "http://10.0.0.1:9000");
  EXPECT_EQ(ResolveMcpTarget({}, env)->endpoint, "http://a:1");
  EXPECT_EQ(ResolveMcpTarget({}, env)->api_key, "k");
  env.erase("OUTPOST_API_URL");
  EXPECT_EQ(ResolveMcpTarget({}, env)->endpoint, "http://b:2");
  env.erase("OUTPOST_ENDPOINT");
  EXPECT_EQ(ResolveMcpTarget({}, env)->endpoint, "http://10.0.0.1:9000");
  env.erase("OUTPOST_MCP_CONFIG");
  EXPECT_EQ(ResolveMcpTarget({}, env)->endpoint, std::nullopt);
  auto bad = ResolveMcpTarget({"", "/nonexistent.json", ""}, env);
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  unlink(path);
}

}  // namespace
}  // namespace outpost::mcp
