// MCP end to end: a real `outpost serve`, its POST /mcp spoken raw, `outpost mcp` (stdio)
// spoken raw, and the MCP inspector CLI (npm, package.json) calling every tool through both.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "testing/fake_http_server.h"
#include "tests/integration/server_test.h"
#include "tests/mcp/mcp_child.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kSource = OUTPOST_SOURCE_DIR;
const std::string kInspector =
    kSource + "/node_modules/@modelcontextprotocol/inspector-cli/build/index.js";

std::string Rpc(int id, std::string_view method, std::string_view params = "{}") {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) +
         R"(","params":)" + std::string(params) + "}";
}
std::string Call(int id, std::string_view tool, std::string_view args) {
  return Rpc(id, "tools/call",
             R"({"name":")" + std::string(tool) + R"(","arguments":)" + std::string(args) + "}");
}
std::string Text(const json::value& reply) {
  return std::string(reply.at("result").at("content").at(0).at("text").as_string());
}
bool IsError(const json::value& reply) { return reply.at("result").at("isError").as_bool(); }

class McpTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_CANCEL_GRACE_SECONDS", "1"}});
    endpoint_ = "http://" + server_->address();
  }

  HttpResponse PostMcp(const std::string& body, std::map<std::string, std::string> headers = {}) {
    headers.emplace("Content-Type", "application/json");
    headers.emplace("Accept", "application/json, text/event-stream");
    return Http(server_->address(), "POST", "/mcp", body, headers);
  }
  json::value PostRpc(const std::string& body, std::map<std::string, std::string> headers = {}) {
    HttpResponse r = PostMcp(body, std::move(headers));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  std::string DispatchOverMcp(const std::string& task) {
    json::value r = PostRpc(
        Call(1, "dispatch", json::serialize(json::object{{"agent", "shell"}, {"task", task}})));
    EXPECT_FALSE(IsError(r)) << json::serialize(r);
    return std::string(r.at("result").at("structuredContent").at("runId").as_string());
  }
  std::unique_ptr<Child> StartStdio() {
    return std::make_unique<Child>(
        std::vector<std::string>{OutpostBin(), "mcp", "--endpoint", endpoint_});
  }
  // The next stdout line of `c` that is a reply to `id`.
  static json::value ReplyTo(Child& c, int id, std::chrono::milliseconds timeout = 60s) {
    while (auto line = c.ReadLine(timeout)) {
      json::value v = json::parse(*line);
      if (v.as_object().contains("id") && v.at("id") == json::value(id)) return v;
    }
    ADD_FAILURE() << "no reply to " << id << "; stderr: " << c.Stderr();
    return json::object{};
  }

  std::string endpoint_;
};

TEST_F(McpTest, HttpNegotiatesVersionsAndGivesASession) {
  HttpResponse r = PostMcp(Rpc(
      1, "initialize",
      R"({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("result").at("protocolVersion"), "2025-06-18");
  EXPECT_FALSE(r.headers["mcp-session-id"].empty());
  json::value latest =
      PostRpc(Rpc(2, "initialize", R"({"protocolVersion":"1999-01-01","capabilities":{}})"));
  EXPECT_EQ(latest.at("result").at("protocolVersion"), "2025-11-25");
  EXPECT_EQ(PostMcp(Rpc(3, "ping"), {{"MCP-Protocol-Version", "1999-01-01"}}).status, 400);
  EXPECT_EQ(PostMcp(Rpc(3, "ping"), {{"MCP-Protocol-Version", "2025-11-25"}}).status, 200);
  // 2025-03-26, what most deployed clients still speak: negotiated and accepted in the header.
  json::value old = PostRpc(Rpc(
      6, "initialize",
      R"({"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}})"));
  EXPECT_EQ(old.at("result").at("protocolVersion"), "2025-03-26");
  EXPECT_EQ(PostMcp(Rpc(7, "tools/list"), {{"MCP-Protocol-Version", "2025-03-26"}}).status, 200);
  HttpResponse unsupported = PostMcp(Rpc(8, "ping"), {{"MCP-Protocol-Version", "2024-11-05"}});
  EXPECT_EQ(unsupported.status, 400);
  EXPECT_NE(unsupported.body.find("2025-11-25, 2025-06-18, 2025-03-26"), std::string::npos)
      << unsupported.body;
  EXPECT_EQ(PostMcp(R"({"jsonrpc":"2.0","method":"notifications/initialized"})").status, 202);
  EXPECT_EQ(server_->Get("/mcp").status, 405);
  EXPECT_EQ(PostMcp(Rpc(4, "ping"), {{"Origin", "http://evil.example"}}).status, 403);
  EXPECT_EQ(PostMcp(Rpc(4, "ping"), {{"Origin", "http://localhost:3000"}}).status, 200);
  // A client that takes only SSE gets one `message` event.
  HttpResponse sse = Http(server_->address(), "POST", "/mcp", Rpc(5, "tools/list"),
                          {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}});
  EXPECT_EQ(sse.headers["content-type"].rfind("text/event-stream", 0), 0u);
  EXPECT_EQ(sse.body.rfind("event: message\ndata: {", 0), 0u) << sse.body;
}

TEST_F(McpTest, HttpProtocolErrorsAndToolErrors) {
  HttpResponse bad = PostMcp("{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body).at("error").at("code"), -32700);
  EXPECT_EQ(PostRpc(Rpc(1, "resources/list")).at("error").at("code"), -32601);
  json::value unknown = PostRpc(Call(2, "launch_rocket", "{}"));
  EXPECT_EQ(unknown.at("error").at("code"), -32602);
  // Bad arguments are tool errors that name the field, exactly as the REST API names it.
  json::value no_task = PostRpc(Call(3, "dispatch", R"({"agent":"shell","timeoutSeconds":0})"));
  EXPECT_TRUE(IsError(no_task));
  EXPECT_NE(Text(no_task).find("- task: task is required"), std::string::npos) << Text(no_task);
  EXPECT_NE(Text(no_task).find("- timeoutSeconds:"), std::string::npos);
  json::value wait = PostRpc(Call(4, "get_run", R"({"runId":"x","waitSeconds":301})"));
  EXPECT_TRUE(IsError(wait));
  EXPECT_NE(Text(wait).find("waitSeconds"), std::string::npos);
  json::value missing = PostRpc(Call(5, "get_run", R"({"runId":"01J00000000000000000000000"})"));
  EXPECT_TRUE(IsError(missing));
  EXPECT_NE(Text(missing).find("NOT_FOUND"), std::string::npos) << Text(missing);
}

TEST_F(McpTest, HttpGetRunWaitsWithoutHoldingTheServerAndEndsOnCancelled) {
  const std::string id = DispatchOverMcp("sleep 60");
  // Three waits (the server has two io threads), then a ping is still answered at once.
  std::vector<std::future<HttpResponse>> waits;
  for (int i = 0; i < 3; ++i) {
    waits.push_back(std::async(std::launch::async, [&, i] {
      return PostMcp(Call(100 + i, "get_run", R"({"runId":")" + id + R"(","waitSeconds":120})"),
                     {{"Mcp-Session-Id", "S1"}});
    }));
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(PostMcp(Rpc(9, "ping")).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  // Cancel each wait: its response ends without an answer.
  for (int i = 0; i < 3; ++i) {
    HttpResponse c;
    // The cancel may overtake the wait's registration: repeat it until the wait ended.
    ASSERT_TRUE(WaitFor(
        [&] {
          PostMcp(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":)" +
                      std::to_string(100 + i) + "}}",
                  {{"Mcp-Session-Id", "S1"}});
          return waits[i].wait_for(200ms) == std::future_status::ready;
        },
        20s));
    HttpResponse r = waits[i].get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("\"result\""), std::string::npos) << r.body;
  }
  // A short wait answers with the running run and terminal false.
  json::value still = PostRpc(Call(10, "get_run", R"({"runId":")" + id + R"(","waitSeconds":1})"));
  EXPECT_FALSE(still.at("result").at("structuredContent").at("terminal").as_bool());
  // cancel, then a wait sees CANCELLED.
  json::value cancel = PostRpc(Call(11, "cancel", R"({"runId":")" + id + R"(","reason":"test"})"));
  EXPECT_FALSE(IsError(cancel)) << json::serialize(cancel);
  json::value done = PostRpc(Call(12, "get_run", R"({"runId":")" + id + R"(","waitSeconds":60})"));
  EXPECT_EQ(done.at("result").at("structuredContent").at("status"), "CANCELLED");
}

// The runbook's `mcp call outpost:health`: GET /health's body and GET /health/fleet's summary,
// the same as those routes answer.
void ExpectHealthMatchesRoutes(const json::value& reply, const ServerProcess& server) {
  ASSERT_FALSE(IsError(reply)) << json::serialize(reply);
  const json::object& h = reply.at("result").at("structuredContent").as_object();
  const json::object health = server.Get("/health").Json().as_object();
  const json::object fleet = server.Get("/health/fleet").Json().as_object();
  EXPECT_EQ(h.at("status"), health.at("status"));
  EXPECT_EQ(h.at("version"), health.at("version"));
  std::set<std::string> tool_checks, route_checks;
  for (const auto& kv : h.at("checks").as_object()) tool_checks.emplace(kv.key());
  for (const auto& kv : health.at("checks").as_object()) route_checks.emplace(kv.key());
  EXPECT_EQ(tool_checks, route_checks);
  EXPECT_TRUE(tool_checks.count("store")) << json::serialize(h);
  EXPECT_EQ(h.at("checks").at("runner"), health.at("checks").at("runner"));
  const json::object& f = h.at("fleet").as_object();
  EXPECT_EQ(f.at("status"), fleet.at("status"));
  EXPECT_EQ(f.at("healthy"), fleet.at("healthy"));
  EXPECT_EQ(f.at("capacity").at("maxConcurrent"), fleet.at("capacity").at("maxConcurrent"));
  // Per agent only whether it can take a run; the details stay with fleet_status.
  ASSERT_EQ(f.at("agents").as_array().size(), fleet.at("agents").as_array().size());
  for (std::size_t i = 0; i < fleet.at("agents").as_array().size(); ++i) {
    const json::value& a = f.at("agents").at(i);
    EXPECT_EQ(a.at("agent"), fleet.at("agents").at(i).at("agent"));
    EXPECT_EQ(a.at("available"), fleet.at("agents").at(i).at("available"));
    EXPECT_FALSE(a.as_object().contains("maxConcurrent"));
  }
  EXPECT_FALSE(f.contains("reaper"));
  EXPECT_FALSE(f.contains("replicas"));
  const std::string text = Text(reply);
  EXPECT_EQ(text.rfind("health: " + std::string(health.at("status").as_string()) +
                           "; fleet: " + std::string(fleet.at("status").as_string()),
                       0),
            0u)
      << text;
}

// The cancel reason is judged once, by the service, in characters: 300 CJK characters (900 bytes)
// are accepted over REST and MCP alike, 501 refused by both with the same error.
TEST_F(McpTest, CancelReasonLimitIsTheSameCharactersOverRestAndMcp) {
  auto cjk = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "\xe4\xb8\xad";  // U+4E2D, three bytes
    return s;
  };
  const std::string rest_id = server_->Dispatch(R"({"agent":"shell","task":"sleep 30"})");
  ASSERT_FALSE(rest_id.empty());
  const std::string mcp_id = DispatchOverMcp("sleep 30");

  const std::string long_reason = cjk(501);
  HttpResponse rest_refused = server_->Post("/runs/" + rest_id + "/cancel",
                                            json::serialize(json::object{{"reason", long_reason}}));
  EXPECT_EQ(rest_refused.status, 400) << rest_refused.body;
  const json::value rest_error = json::parse(rest_refused.body).at("error");
  json::value mcp_refused = PostRpc(
      Call(1, "cancel", json::serialize(json::object{{"runId", mcp_id}, {"reason", long_reason}})));
  ASSERT_TRUE(IsError(mcp_refused)) << json::serialize(mcp_refused);
  const json::value& mcp_error = mcp_refused.at("result").at("_meta").at("outpost/error");
  EXPECT_EQ(json::serialize(rest_error.at("details")), json::serialize(mcp_error.at("details")));
  EXPECT_EQ(json::serialize(rest_error.at("details").at("errors")),
            R"([{"path":"reason","message":"must be at most 500 characters"}])");
  EXPECT_EQ(rest_error.at("message"), mcp_error.at("message"));
  EXPECT_EQ(rest_error.at("code"), mcp_error.at("code"));
  // Refused changes nothing.
  EXPECT_TRUE(server_->Run(rest_id).at("cancelReason").is_null());
  EXPECT_TRUE(server_->Run(mcp_id).at("cancelReason").is_null());

  const std::string reason = cjk(300);
  HttpResponse rest_ok = server_->Post("/runs/" + rest_id + "/cancel",
                                       json::serialize(json::object{{"reason", reason}}));
  EXPECT_TRUE(rest_ok.status == 200 || rest_ok.status == 202) << rest_ok.body;
  json::value mcp_ok = PostRpc(
      Call(2, "cancel", json::serialize(json::object{{"runId", mcp_id}, {"reason", reason}})));
  EXPECT_FALSE(IsError(mcp_ok)) << json::serialize(mcp_ok);
  EXPECT_EQ(server_->Run(rest_id).at("cancelReason"), json::value(reason));
  EXPECT_EQ(server_->Run(mcp_id).at("cancelReason"), json::value(reason));
}

TEST_F(McpTest, HttpHealthIsWhatTheHealthRoutesAnswer) {
  json::value list = PostRpc(Rpc(1, "tools/list"));
  bool listed = false;
  for (const auto& t : list.at("result").at("tools").as_array()) {
    if (t.at("name") == "health") {
      listed = true;
      EXPECT_TRUE(t.at("annotations").at("readOnlyHint").as_bool());
    }
  }
  EXPECT_TRUE(listed) << json::serialize(list);
  ExpectHealthMatchesRoutes(PostRpc(Call(2, "health", "{}")), *server_);
  json::value bad = PostRpc(Call(3, "health", R"({"deep":true})"));
  EXPECT_TRUE(IsError(bad));
  EXPECT_NE(Text(bad).find("deep"), std::string::npos) << Text(bad);
}

TEST_F(McpTest, StdioHealthIsForwardedToTheServer) {
  auto c = StartStdio();
  c->Send(Rpc(1, "initialize", R"({"protocolVersion":"2025-03-26","capabilities":{}})"));
  EXPECT_EQ(ReplyTo(*c, 1).at("result").at("protocolVersion"), "2025-03-26");
  c->Send(Call(2, "health", "{}"));
  ExpectHealthMatchesRoutes(ReplyTo(*c, 2), *server_);
}

TEST_F(McpTest, StdioRawJsonRpc) {
  auto c = StartStdio();
  c->Send(Rpc(
      1, "initialize",
      R"({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}})"));
  EXPECT_EQ(ReplyTo(*c, 1).at("result").at("protocolVersion"), "2025-06-18");
  c->Send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  c->Send(Rpc(2, "tools/list"));
  json::value list = ReplyTo(*c, 2);
  EXPECT_EQ(list.at("result").at("tools").as_array().size(), 10u);  // get_diff is the tenth
  // The server's own list (fetched at initialize): dispatch names this server's agents.
  const json::value& agent =
      list.at("result").at("tools").at(0).at("inputSchema").at("properties").at("agent");
  EXPECT_NE(json::serialize(agent.at("oneOf").at(0).at("enum")).find("\"shell\""),
            std::string::npos)
      << json::serialize(agent);
  c->Send("{oops");
  json::value parse_error = json::parse(*c->ReadLine(30s));
  EXPECT_EQ(parse_error.at("error").at("code"), -32700);
  EXPECT_TRUE(parse_error.at("id").is_null());
  c->Send(Rpc(3, "prompts/list"));
  EXPECT_EQ(ReplyTo(*c, 3).at("error").at("code"), -32601);
  c->Send(Call(4, "nope", "{}"));
  EXPECT_EQ(ReplyTo(*c, 4).at("error").at("code"), -32602);
  c->Send(
      Call(5, "dispatch", R"({"agent":"shell","task":"echo stdio-ok","timeoutSeconds":"soon"})"));
  json::value invalid = ReplyTo(*c, 5);
  EXPECT_TRUE(IsError(invalid));
  EXPECT_NE(Text(invalid).find("- timeoutSeconds: timeoutSeconds must be an integer"),
            std::string::npos)
      << Text(invalid);
  // A run made through stdio, waited for through stdio.
  c->Send(Call(6, "dispatch", R"({"agent":"shell","task":"echo stdio-ok"})"));
  json::value dispatched = ReplyTo(*c, 6);
  const std::string id(dispatched.at("result").at("structuredContent").at("runId").as_string());
  c->Send(Call(7, "get_run", R"({"runId":")" + id + R"(","waitSeconds":60,"includeOutput":true})"));
  json::value done = ReplyTo(*c, 7);
  EXPECT_EQ(done.at("result").at("structuredContent").at("status"), "COMPLETED");
  EXPECT_NE(Text(done).find("stdio-ok"), std::string::npos);
  EXPECT_EQ(server_->Run(id).at("status"), "COMPLETED");
}

TEST_F(McpTest, StdioCancelledCallIsDroppedAndItsServerWaitEnds) {
  const std::string id = DispatchOverMcp("sleep 120");
  auto c = StartStdio();
  c->Send(Rpc(1, "initialize", R"({"protocolVersion":"2025-11-25","capabilities":{}})"));
  ReplyTo(*c, 1);
  c->Send(Call(50, "get_run", R"({"runId":")" + id + R"(","waitSeconds":300})"));
  c->Send(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":50,"reason":"user"}})");
  c->Send(Rpc(51, "ping"));
  // The ping is answered while call 50 is (or was) in flight.
  std::string seen;
  for (;;) {
    auto line = c->ReadLine(30s);
    ASSERT_TRUE(line) << "seen: " << seen << "; stderr: " << c->Stderr();
    seen += *line + "\n";
    if (json::parse(*line).at("id") == 51) break;
  }
  // End of input: the stdio server stops its calls; the forwarded cancellation ended the
  // server's wait, so this takes far less than the 300 s asked for.
  c->CloseStdin();
  seen += c->ReadRest(30s);
  auto status = c->Wait(30s);
  ASSERT_TRUE(status) << "outpost mcp did not exit: the cancelled wait still runs";
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(seen.find("\"id\":50"), std::string::npos) << seen;
}

// A client that sends its last call and closes stdin still gets the answer (issue 24 item 6).
TEST_F(McpTest, StdioAnswersCallsInFlightWhenStdinCloses) {
  const std::string id = DispatchOverMcp("sleep 1; echo answered-after-eof");
  auto c = StartStdio();
  c->Send(Rpc(1, "initialize", R"({"protocolVersion":"2025-11-25","capabilities":{}})"));
  ReplyTo(*c, 1);
  c->Send(Call(60, "get_run", R"({"runId":")" + id + R"(","waitSeconds":60})"));
  c->CloseStdin();
  const std::string rest = c->ReadRest(60s);
  auto status = c->Wait(30s);
  ASSERT_TRUE(status) << "outpost mcp did not exit";
  EXPECT_EQ(*status, 0);
  ASSERT_NE(rest.find("\"id\":60"), std::string::npos) << rest << c->Stderr();
  EXPECT_NE(rest.find("COMPLETED"), std::string::npos) << rest;
}

// An endpoint where nothing listens: initialize says so on stderr at once, and a call is a tool
// error naming the endpoint after the short unreachable budget (4 s), not the 30 s of retries a
// server answering 5xx gets (issue 24 item 6).
TEST_F(McpTest, StdioUnreachableServerIsAToolErrorQuickly) {
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(UnusedPort());
  Child c({OutpostBin(), "mcp", "--endpoint", nowhere});
  c.Send(Rpc(1, "initialize", R"({"protocolVersion":"2025-11-25","capabilities":{}})"));
  ReplyTo(c, 1);
  c.Send(Rpc(2, "tools/list"));  // the compiled catalog: the server could not be asked
  EXPECT_EQ(ReplyTo(c, 2).at("result").at("tools").as_array().size(), 10u);
  c.Send(Call(3, "fleet_status", "{}"));
  // 4 s of retries plus the process's own time; 30 s of retries would miss this.
  json::value r = ReplyTo(c, 3, 15s);
  ASSERT_TRUE(r.as_object().contains("result")) << c.Stderr();
  EXPECT_TRUE(IsError(r));
  EXPECT_NE(Text(r).find("does not answer"), std::string::npos) << Text(r);
  EXPECT_NE(Text(r).find(nowhere.substr(7)), std::string::npos) << Text(r);
  c.CloseStdin();
  EXPECT_EQ(c.Wait(30s), 0);
  EXPECT_NE(c.Stderr().find("does not answer; every tool call will say so"), std::string::npos)
      << c.Stderr();
}

TEST_F(McpTest, HttpToolsListNamesThisServersAgents) {
  json::value r = PostRpc(Rpc(1, "tools/list"));
  const json::value& dispatch = r.at("result").at("tools").at(0);
  ASSERT_EQ(dispatch.at("name"), "dispatch");
  const json::value& agent = dispatch.at("inputSchema").at("properties").at("agent");
  const std::string names = json::serialize(agent.at("oneOf").at(0).at("enum"));
  EXPECT_NE(names.find("\"shell\""), std::string::npos) << names;
  EXPECT_NE(names.find("\"all\""), std::string::npos) << names;
  EXPECT_EQ(json::serialize(agent.at("oneOf").at(1).at("items").at("enum")).find("\"all\""),
            std::string::npos);
  // A disabled agent is not offered: the fleet is the judge of which are enabled.
  json::value fleet = json::parse(server_->Get("/health/fleet").body);
  for (const json::value& a : fleet.at("agents").as_array()) {
    EXPECT_NE(names.find("\"" + std::string(a.at("agent").as_string()) + "\""), std::string::npos)
        << a;
  }
}

TEST_F(McpTest, StdioWithoutEndpointExplainsHowToConnect) {
  Child c({OutpostBin(), "mcp"}, {{"PATH", "/usr/bin:/bin"}, {"HOME", dir_}}, /*clear_env=*/true);
  c.Send(Rpc(1, "tools/list"));
  EXPECT_EQ(ReplyTo(c, 1).at("result").at("tools").as_array().size(), 10u);
  c.Send(Call(2, "fleet_status", "{}"));
  json::value r = ReplyTo(c, 2);
  EXPECT_TRUE(IsError(r));
  EXPECT_NE(Text(r).find("outpost mcp --endpoint http://127.0.0.1:8080"), std::string::npos);
  c.CloseStdin();
  EXPECT_EQ(c.Wait(30s), 0);
  EXPECT_NE(c.Stderr().find("OUTPOST_API_URL"), std::string::npos) << c.Stderr();
}

// ---------------------------------------------------------------- the MCP inspector CLI

class McpInspectorTest : public McpTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    McpTest::SetUp();
    // A missing inspector is a failure naming it, never a skip.
    ASSERT_TRUE(std::filesystem::exists(kInspector))
        << "the MCP inspector CLI is missing: no " << kInspector
        << " (make deps installs package.json's npm packages)";
  }
  // The inspector's target: `outpost mcp --endpoint …` (stdio) or the server's /mcp (http).
  std::vector<std::string> Target() const {
    if (GetParam() == "stdio") return {OutpostBin(), "mcp", "--endpoint", endpoint_};
    return {endpoint_ + "/mcp", "--transport", "http"};
  }
  // The inspector exits 0 even when a call fails: the JSON it prints is what counts.
  json::value Inspect(std::vector<std::string> args) {
    std::vector<std::string> argv = {"node", kInspector};
    for (auto& a : Target()) argv.push_back(a);
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = RunToEnd(argv, 120s);
    boost::system::error_code ec;
    json::value v = json::parse(out, ec);
    EXPECT_FALSE(ec) << "inspector printed: " << out;
    return v;
  }
  json::object CallTool(const std::string& tool, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {"--method", "tools/call", "--tool-name", tool};
    if (!args.empty()) argv.push_back("--tool-arg");
    argv.insert(argv.end(), args.begin(), args.end());
    json::value v = Inspect(argv);
    if (!v.is_object() || !v.as_object().contains("structuredContent")) {
      ADD_FAILURE() << tool << ": " << json::serialize(v);
      return {};
    }
    EXPECT_FALSE(v.at("isError").as_bool()) << json::serialize(v);
    return v.at("structuredContent").as_object();
  }
};

TEST_P(McpInspectorTest, ListsAndCallsEveryTool) {
  json::value list = Inspect({"--method", "tools/list"});
  std::set<std::string> names;
  for (const auto& t : list.at("tools").as_array()) names.emplace(t.at("name").as_string());
  EXPECT_EQ(names,
            (std::set<std::string>{"dispatch", "get_run", "list_runs", "cancel", "fleet_status",
                                   "health", "get_logs", "get_artifacts", "promote", "get_diff"}));
  json::object health = CallTool("health");
  EXPECT_TRUE(health.contains("checks")) << json::serialize(health);
  EXPECT_TRUE(health["fleet"].as_object().contains("healthy")) << json::serialize(health);
  json::object d = CallTool("dispatch", {"agent=shell", "task=echo inspected-" + GetParam()});
  ASSERT_TRUE(d.contains("runId"));
  const std::string id(d.at("runId").as_string());
  json::object run = CallTool("get_run", {"runId=" + id, "waitSeconds=60", "includeOutput=true"});
  EXPECT_EQ(run["status"], "COMPLETED");
  EXPECT_EQ(run["output"].at("lines").at(0).at("message"), json::value("inspected-" + GetParam()));
  json::object runs = CallTool("list_runs", {"limit=5", "status=COMPLETED"});
  EXPECT_EQ(runs["items"].at(0).at("runId"), json::value(id));
  json::object logs = CallTool("get_logs", {"runId=" + id, "offset=0", "limit=10"});
  EXPECT_EQ(logs["entries"].at(0).at("message"), json::value("inspected-" + GetParam()));
  json::object fleet = CallTool("fleet_status");
  EXPECT_TRUE(fleet.contains("agents"));
  json::object arts;
  ASSERT_TRUE(WaitFor(
      [&] {
        arts = CallTool("get_artifacts", {"runId=" + id, "expiresIn=600"});
        return arts.contains("artifacts") && !arts["artifacts"].as_array().empty();
      },
      30s));
  EXPECT_FALSE(arts["artifacts"].at(0).at("url").as_string().empty());
  EXPECT_FALSE(arts["artifacts"].at(0).at("expiresAt").as_string().empty());
  const std::string sleeper = DispatchOverMcp("sleep 60");
  json::object cancelled = CallTool("cancel", {"runId=" + sleeper, "reason=inspector"});
  EXPECT_EQ(cancelled["cancelRequested"], true);
  EXPECT_EQ(server_->WaitTerminal(sleeper).at("status"), "CANCELLED");
}

INSTANTIATE_TEST_SUITE_P(Transports, McpInspectorTest, ::testing::Values("stdio", "http"));

// get_diff: a run's diff.patch inline, bounded; refused while the run is active.
class McpDiffTest : public McpTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    repos_ = MakeTempDir();
    origin_ = repos_ + "/origin";
    Sh("git init -q -b trunk " + origin_ + " && cd " + origin_ +
       " && echo hello > README.md && git add README.md && "
       "git -c user.name=t -c user.email=t@e commit -q -m init");
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                                          {"OUTPOST_LOCAL_REPO_ROOTS", repos_},
                                          {"OUTPOST_CANCEL_GRACE_SECONDS", "1"}});
    endpoint_ = "http://" + server_->address();
  }
  void TearDown() override {
    McpTest::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(repos_, ec);
  }
  std::string DispatchOnRepo(const std::string& task) {
    json::value r = PostRpc(
        Call(1, "dispatch",
             json::serialize(json::object{{"agent", "shell"}, {"task", task}, {"repo", origin_}})));
    EXPECT_FALSE(IsError(r)) << json::serialize(r);
    return std::string(r.at("result").at("structuredContent").at("runId").as_string());
  }
  std::string repos_, origin_;
};

TEST_F(McpDiffTest, GetDiffReturnsTheDiffInlineAndBounded) {
  const std::string id = DispatchOnRepo("echo more >> README.md && seq 1 3000 > numbers.txt");
  ASSERT_EQ(server_->WaitTerminal(id).at("status"), "COMPLETED");
  json::value whole;
  for (int i = 0; i < 50; ++i) {  // the artifacts' upload may follow the status briefly
    whole = PostRpc(Call(2, "get_diff", R"({"runId":")" + id + R"("})"));
    if (!IsError(whole) || Text(whole).find("still being uploaded") == std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_FALSE(IsError(whole)) << json::serialize(whole);
  const json::value& sc = whole.at("result").at("structuredContent");
  const std::string diff(sc.at("diff").as_string());
  EXPECT_NE(diff.find("+more"), std::string::npos) << diff.substr(0, 500);
  EXPECT_NE(diff.find("+++ b/numbers.txt"), std::string::npos);
  EXPECT_NE(diff.find("+3000\n"), std::string::npos);
  EXPECT_FALSE(sc.at("truncated").as_bool());
  EXPECT_EQ(sc.at("sizeBytes").as_int64(), static_cast<std::int64_t>(diff.size()));

  json::value cut = PostRpc(Call(3, "get_diff", R"({"runId":")" + id + R"(","maxBytes":1024})"));
  ASSERT_FALSE(IsError(cut)) << json::serialize(cut);
  const json::value& c = cut.at("result").at("structuredContent");
  const std::string part(c.at("diff").as_string());
  EXPECT_TRUE(c.at("truncated").as_bool());
  EXPECT_LE(part.size(), 1024u);
  EXPECT_EQ(part.back(), '\n');  // cut at a line end
  EXPECT_EQ(diff.rfind(part, 0), 0u) << "the first bytes of the same diff";
  EXPECT_EQ(c.at("sizeBytes").as_int64(), static_cast<std::int64_t>(diff.size()));
  EXPECT_NE(Text(cut).find("truncated: "), std::string::npos);

  // Bad input: a maxBytes out of range, an unknown run; a run still active; a run without repo.
  EXPECT_TRUE(IsError(PostRpc(Call(4, "get_diff", R"({"runId":")" + id + R"(","maxBytes":5})"))));
  json::value unknown = PostRpc(Call(5, "get_diff", R"({"runId":"01J0000000000000000000000X"})"));
  EXPECT_TRUE(IsError(unknown));
  EXPECT_NE(Text(unknown).find("NOT_FOUND"), std::string::npos) << Text(unknown);
  const std::string active = DispatchOnRepo("sleep 60");
  json::value running = PostRpc(Call(6, "get_diff", R"({"runId":")" + active + R"("})"));
  EXPECT_TRUE(IsError(running));
  EXPECT_NE(Text(running).find("once it has ended"), std::string::npos) << Text(running);
  EXPECT_EQ(server_->Post("/runs/" + active + "/cancel", "{}").status, 202);  // being stopped
  const std::string plain = DispatchOverMcp("true");
  ASSERT_EQ(server_->WaitTerminal(plain).at("status"), "COMPLETED");
  json::value norepo = PostRpc(Call(7, "get_diff", R"({"runId":")" + plain + R"("})"));
  EXPECT_TRUE(IsError(norepo));
  EXPECT_NE(Text(norepo).find("has no repository"), std::string::npos) << Text(norepo);
}

}  // namespace
}  // namespace outpost::testing
