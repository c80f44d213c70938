// The REST routes over a real RunService and SqliteRunStore, through a real HttpServer.
#include "api/routes.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <filesystem>

#include "agents/agent.h"
#include "common/ids.h"
#include "config/options.h"
#include "core/run_service.h"
#include "http/http_server.h"
#include "http/test_client.h"
#include "store/sqlite/sqlite_run_store.h"

namespace outpost::api {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using http::HttpServer;
using http::HttpServerOptions;
using http::Router;
using http::testing::RawClient;
using http::testing::RawResponse;

constexpr std::string_view kJson = "Content-Type: application/json\r\n";

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("outpost-routes-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(dir_);
    opts_ = DefaultOptions();
    opts_.data_dir = dir_.string();
    auto store = SqliteRunStore::Open((dir_ / "outpost.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    agents_ = std::make_unique<AgentRegistry>(opts_);
    service_ = std::make_unique<RunService>(*store_, *agents_, clock_, opts_, nullptr);
    RegisterRoutes(router_, *service_, clock_);
    HttpServerOptions http;
    http.port = 0;
    http.clock = &clock_;
    server_ = std::make_unique<HttpServer>(router_, http);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<RawClient>(server_->BoundAddress());
    ASSERT_TRUE(client_->connected());
  }

  void TearDown() override {
    if (server_) server_->Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  RawResponse Call(std::string_view method, std::string_view target, std::string_view headers = "",
                   std::string_view body = "") {
    auto r = client_->Request(method, target, headers, body);
    EXPECT_TRUE(r) << method << " " << target;
    return r ? *r : RawResponse{};
  }

  RawResponse Dispatch(std::string_view body, std::string_view extra_headers = "") {
    return Call("POST", "/dispatch", std::string(kJson) + std::string(extra_headers), body);
  }

  std::string DispatchShell(std::string_view task = "echo hi") {
    RawResponse r = Dispatch(R"({"agent":"shell","task":")" + std::string(task) + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.Json().at("data").at("runId").as_string());
  }

  // The paths listed in details.errors of a validation error.
  static std::vector<std::string> ErrorPaths(const RawResponse& r) {
    std::vector<std::string> paths;
    json::value body = r.Json();
    EXPECT_EQ(body.at("error").at("code"), "VALIDATION_ERROR") << r.body;
    for (const auto& e : body.at("error").at("details").at("errors").as_array()) {
      paths.emplace_back(e.at("path").as_string());
    }
    return paths;
  }

  std::size_t RunCount() {
    RawResponse r = Call("GET", "/runs?limit=100");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().at("data").at("items").as_array().size();
  }

  fs::path dir_;
  Options opts_;
  SimulatedClock clock_;
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<AgentRegistry> agents_;
  std::unique_ptr<RunService> service_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<RawClient> client_;
};

TEST_F(RoutesTest, DispatchIs201WithLocationAndTheRunSummary) {
  RawResponse r = Dispatch(R"({"agent":"shell","task":"echo hi"})");
  ASSERT_EQ(r.status, 201) << r.body;
  json::value body = r.Json();
  EXPECT_EQ(body.at("success"), true);
  const json::object& data = body.at("data").as_object();
  std::string id(data.at("runId").as_string());
  EXPECT_TRUE(IsUlid(id));
  EXPECT_EQ(r.headers.Get("Location"), "/runs/" + id);
  EXPECT_EQ(data.at("dispatchId"), data.at("runId"));
  EXPECT_EQ(data.at("status"), "PENDING");
  EXPECT_EQ(data.at("agent"), "shell");
  EXPECT_EQ(data.at("modelId"), "shell");
  EXPECT_TRUE(data.at("createdAt").is_string());
  EXPECT_EQ(data.at("idempotent"), false);
  EXPECT_EQ(body.at("meta").at("requestId"), json::value(*r.headers.Get("X-Request-ID")));

  RawResponse got = Call("GET", "/runs/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.Json().at("data").at("runId"), json::value(id));
  EXPECT_EQ(got.Json().at("data").at("task"), "echo hi");
}

TEST_F(RoutesTest, IdempotentReplayIs200WithTheSameRun) {
  std::string body = R"({"agent":"shell","task":"echo once"})";
  RawResponse first = Dispatch(body, "Idempotency-Key: key-1\r\n");
  RawResponse again = Dispatch(body, "Idempotency-Key: key-1\r\n");
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json().at("data").at("runId"), first.Json().at("data").at("runId"));
  EXPECT_EQ(again.Json().at("data").at("idempotent"), true);
  RawResponse other =
      Dispatch(R"({"agent":"shell","task":"echo other"})", "Idempotency-Key: key-1\r\n");
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.Json().at("error").at("code"), "CONFLICT");
  EXPECT_EQ(RunCount(), 1u);
}

TEST_F(RoutesTest, UnknownFieldIs400ListingIt) {
  RawResponse r = Dispatch(R"({"agent":"shell","task":"x","bogus":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorPaths(r), std::vector<std::string>{"bogus"});
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(RoutesTest, EveryBadFieldIsListed) {
  RawResponse r = Dispatch(R"({"agent":"nope","task":"","timeoutSeconds":0,"extra":true})");
  EXPECT_EQ(r.status, 400);
  std::vector<std::string> paths = ErrorPaths(r);
  for (const char* want : {"agent", "task", "timeoutSeconds", "extra"}) {
    EXPECT_NE(std::find(paths.begin(), paths.end(), want), paths.end()) << want << " in " << r.body;
  }
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(RoutesTest, MalformedJsonIs400) {
  RawResponse r = Dispatch(R"({"agent":"shell",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorPaths(r).size(), 1u);
  EXPECT_NE(r.body.find("JSON"), std::string::npos);
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(RoutesTest, DeeplyNestedJsonIs400) {
  RawResponse r = Dispatch(std::string(100, '[') + std::string(100, ']'));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(RoutesTest, NonObjectBodyIs400) {
  for (std::string_view body : {"[1,2]", "\"text\"", "42", "null"}) {
    RawResponse r = Dispatch(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.Json().at("error").at("code"), "VALIDATION_ERROR") << body;
  }
  RawResponse empty = Call("POST", "/dispatch", kJson, "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(RoutesTest, WrongOrMissingContentTypeIs415) {
  std::string body = R"({"agent":"shell","task":"x"})";
  RawResponse plain = Call("POST", "/dispatch", "Content-Type: text/plain\r\n", body);
  EXPECT_EQ(plain.status, 415);
  EXPECT_EQ(plain.Json().at("error").at("code"), "UNSUPPORTED_MEDIA_TYPE");
  RawResponse none = Call("POST", "/dispatch", "", body);
  EXPECT_EQ(none.status, 415);
  EXPECT_EQ(RunCount(), 0u);
  RawResponse utf8 =
      Call("POST", "/dispatch", "Content-Type: application/json; charset=utf-8\r\n", body);
  EXPECT_EQ(utf8.status, 201) << utf8.body;
}

TEST_F(RoutesTest, BodyOverOneMebibyteIs413) {
  std::string task(1 << 20, 'a');
  RawResponse r = Dispatch(R"({"agent":"shell","task":")" + task + R"("})");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Json().at("error").at("code"), "PAYLOAD_TOO_LARGE");
  EXPECT_TRUE(r.headers.Has("X-Request-ID"));
  client_ = std::make_unique<RawClient>(server_->BoundAddress());  // that one was closed
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(RoutesTest, MalformedRunIdIs400NamingRunId) {
  for (std::string_view target :
       {"/runs/not-a-ulid", "/dispatch/xyz", "/runs/01ARZ3NDEKTSV4RRFFQ69G5FA"}) {
    RawResponse r = Call("GET", target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(ErrorPaths(r), std::vector<std::string>{"runId"}) << target;
  }
  RawResponse cancel = Call("POST", "/runs/bad/cancel");
  EXPECT_EQ(cancel.status, 400);
}

TEST_F(RoutesTest, UnknownRunIs404) {
  const std::string id = NewUlid(clock_.Now());
  for (std::string target : {"/runs/" + id, "/dispatch/" + id}) {
    RawResponse r = Call("GET", target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.Json().at("error").at("code"), "NOT_FOUND");
  }
  EXPECT_EQ(Call("POST", "/runs/" + id + "/cancel").status, 404);
  EXPECT_EQ(Call("DELETE", "/dispatch/" + id).status, 404);
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(RoutesTest, ListPagesNewestFirstWithPagination) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(DispatchShell("echo " + std::to_string(i)));
    clock_.Advance(std::chrono::milliseconds(5));  // distinct ULID times
  }
  RawResponse first = Call("GET", "/runs?limit=2");
  ASSERT_EQ(first.status, 200) << first.body;
  json::value body = first.Json();
  const json::array& items = body.at("data").at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("runId"), json::value(ids[2]));
  EXPECT_EQ(items[1].at("runId"), json::value(ids[1]));
  EXPECT_EQ(body.at("data").at("hasMore"), true);
  const json::value& cursor = body.at("data").at("nextCursor");
  ASSERT_TRUE(cursor.is_string());
  EXPECT_EQ(body.at("meta").at("pagination"),
            (json::object{{"cursor", cursor}, {"hasMore", true}, {"limit", 2}}));

  RawResponse second = Call("GET", "/runs?limit=2&cursor=" + std::string(cursor.as_string()));
  ASSERT_EQ(second.status, 200) << second.body;
  json::value body2 = second.Json();
  ASSERT_EQ(body2.at("data").at("items").as_array().size(), 1u);
  EXPECT_EQ(body2.at("data").at("items").at(0).at("runId"), json::value(ids[0]));
  EXPECT_EQ(body2.at("data").at("hasMore"), false);
  EXPECT_TRUE(body2.at("data").at("nextCursor").is_null());
  EXPECT_TRUE(body2.at("meta").at("pagination").at("cursor").is_null());
}

TEST_F(RoutesTest, ListWithBadParametersIs400) {
  RawResponse r = Call("GET", "/runs?limit=0&status=NOPE");
  EXPECT_EQ(r.status, 400);
  std::vector<std::string> paths = ErrorPaths(r);
  EXPECT_NE(std::find(paths.begin(), paths.end(), "limit"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "status"), paths.end());
}

TEST_F(RoutesTest, CancelPendingRunIs200AndIdempotent) {
  std::string id = DispatchShell();
  RawResponse r = Call("POST", "/runs/" + id + "/cancel", kJson, R"({"reason":"not needed"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value data = r.Json().at("data");
  EXPECT_EQ(data.at("status"), "CANCELLED");
  EXPECT_EQ(data.at("cancelReason"), "not needed");
  EXPECT_EQ(data.at("cancelRequested"), true);
  // Again, without a body, and through the DELETE alias: still 200, still CANCELLED.
  EXPECT_EQ(Call("POST", "/runs/" + id + "/cancel").status, 200);
  RawResponse alias = Call("DELETE", "/dispatch/" + id);
  EXPECT_EQ(alias.status, 200);
  EXPECT_EQ(alias.Json().at("data").at("status"), "CANCELLED");
}

TEST_F(RoutesTest, CancelRunningRunIs202InProgress) {
  std::string id = DispatchShell();
  auto run = store_->Get(RunId(id));
  ASSERT_TRUE(run.ok());
  run->status = RunStatus::kRunning;
  run->phase = RunPhase::kRunning;
  run->started_at = clock_.Now();
  ASSERT_TRUE(store_->Update(*run).ok());
  RawResponse r = Call("POST", "/runs/" + id + "/cancel");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.Json().at("data").at("status"), "RUNNING");
  EXPECT_EQ(r.Json().at("data").at("cancelRequested"), true);
}

TEST_F(RoutesTest, CancelBodyIsValidated) {
  std::string id = DispatchShell();
  RawResponse unknown = Call("POST", "/runs/" + id + "/cancel", kJson, R"({"why":"x"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(ErrorPaths(unknown), std::vector<std::string>{"why"});
  RawResponse wrong_type = Call("POST", "/runs/" + id + "/cancel", kJson, R"({"reason":5})");
  EXPECT_EQ(ErrorPaths(wrong_type), std::vector<std::string>{"reason"});
  RawResponse not_json =
      Call("POST", "/runs/" + id + "/cancel", "Content-Type: text/plain\r\n", "stop");
  EXPECT_EQ(not_json.status, 415);
  EXPECT_EQ(Call("GET", "/runs/" + id).Json().at("data").at("status"), "PENDING");
}

TEST_F(RoutesTest, DispatchAliasValidatesItsQuery) {
  std::string id = DispatchShell();
  RawResponse bad = Call("GET", "/dispatch/" + id + "?logLimit=0&skipLogs=yes");
  EXPECT_EQ(bad.status, 400);
  std::vector<std::string> paths = ErrorPaths(bad);
  EXPECT_EQ(paths, (std::vector<std::string>{"logLimit", "skipLogs"}));
  RawResponse token = Call("GET", "/dispatch/" + id + "?logOffset=t");
  EXPECT_EQ(ErrorPaths(token), std::vector<std::string>{"logOffset"});
  RawResponse ok = Call("GET", "/dispatch/" + id + "?logLimit=1000&skipLogs=false&logOffset=0");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json().at("data").at("runId"), json::value(id));
  // skipLogs=false means false: the logs are there (none yet), with the offset to go on from.
  EXPECT_TRUE(ok.Json().at("data").at("logs").as_array().empty());
  EXPECT_EQ(ok.Json().at("data").at("logOffset"), "0");
  RawResponse skip = Call("GET", "/dispatch/" + id + "?skipLogs=true");
  EXPECT_FALSE(skip.Json().at("data").as_object().contains("logs"));
}

TEST_F(RoutesTest, HealthEndpointsAreNotEnveloped) {
  RawResponse health = Call("GET", "/health");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.Json().at("status"), "healthy");
  EXPECT_TRUE(health.headers.Has("X-Request-ID"));
  EXPECT_EQ(Call("GET", "/health/live").Json(), json::parse(R"({"status":"ok"})"));
  EXPECT_EQ(Call("GET", "/health/ready").Json().at("status"), "ready");
  // No supervisor runs in this test, so the fleet reports itself unhealthy: 503, top-level.
  RawResponse fleet = Call("GET", "/health/fleet");
  EXPECT_EQ(fleet.status, 503) << fleet.body;
  EXPECT_EQ(fleet.Json().at("healthy"), false);
  EXPECT_EQ(fleet.Json().at("status"), "unhealthy");
}

// The JSON banner, whatever the Accept: a browser's HTML is web/'s (RegisterWebRoutes puts the
// app shell in front of this route; web_test, and run_lifecycle_test end to end).
TEST_F(RoutesTest, RootIsTheJsonBanner) {
  RawResponse json_banner = Call("GET", "/");
  EXPECT_EQ(json_banner.status, 200);
  EXPECT_EQ(json_banner.Json().at("service"), "outpost-control-plane");
  EXPECT_EQ(json_banner.Json().at("status"), "operational");
  EXPECT_EQ(json_banner.headers.Get("Vary"), "Accept");
  RawResponse html = Call("GET", "/", "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(html.Json().at("service"), "outpost-control-plane");
  RawResponse explicit_json = Call("GET", "/", "Accept: application/json\r\n");
  EXPECT_EQ(explicit_json.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(explicit_json.Json().at("service"), "outpost-control-plane");
}

}  // namespace
}  // namespace outpost::api
