// The run channel's routes (/internal/v1) over real HTTP: a real HttpServer, the real request
// authenticator with an API key in the auth store (so the server is not in open mode), a real
// RunService and RunChannel over a SQLite run store and SQLite event log. The refusals' rules
// are core/run_channel_test.cc's; here: status codes, the envelope, headers, and that the run
// token and API keys are each useless where the other belongs.
#include "api/channel_routes.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "agents/agent.h"
#include "api/routes.h"
#include "artifacts/local/local_artifact_store.h"
#include "auth/admin_service.h"
#include "auth/key_verifier.h"
#include "auth/request_authenticator.h"
#include "auth/testing/counting_auth_store.h"
#include "common/crypto.h"
#include "common/ids.h"
#include "config/options.h"
#include "core/run_service.h"
#include "http/http_server.h"
#include "http/test_client.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_run_store.h"
#include "testing/temp_dir.h"

namespace outpost::api {
namespace {

namespace json = boost::json;
using http::testing::RawClient;
using http::testing::RawResponse;

// An event log whose appends answer kUnavailable (a throttled store) while `throttled`.
class ThrottledEventLog final : public EventLog {
 public:
  explicit ThrottledEventLog(EventLog& inner) : inner_(inner) {}
  std::atomic<bool> throttled = false;
  Result<EventAppend> Append(std::string_view id, const std::vector<RunEvent>& e) override {
    if (throttled) return Unavailable("throttled");
    return inner_.Append(id, e);
  }
  Result<EventBatch> Read(std::string_view id, std::int64_t after, int limit,
                          std::size_t max_bytes) override {
    return inner_.Read(id, after, limit, max_bytes);
  }
  Result<EventLogTail> Tail(std::string_view id) override { return inner_.Tail(id); }
  Status Remove(std::string_view id) override { return inner_.Remove(id); }

 private:
  EventLog& inner_;
};

class ChannelRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_ = DefaultOptions();
    opts_.data_dir = dir_.path();
    auto store = SqliteRunStore::Open(dir_.path() + "/outpost.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto log = SqliteEventLog::Open(dir_.path() + "/outpost.db");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    throttled_ = std::make_unique<ThrottledEventLog>(*log_);
    agents_ = std::make_unique<AgentRegistry>(opts_);
    service_ = std::make_unique<RunService>(*store_, *agents_, clock_, opts_, nullptr);
    // The spec source stands for Supervisor::SpecFor: the run's task in argv, a secret in env.
    channel_ = std::make_unique<RunChannel>(
        *store_, *throttled_, RunChannel::Notify{}, [this](const outpost::Run& run) {
          ++spec_calls_;
          RunSpec spec;
          spec.id = run.id;
          spec.argv = {"sh", "-c", run.task};
          spec.env = {{"API_KEY", "sk-spec-secret"}};
          spec.redact = {"sk-spec-secret"};
          spec.channel = ChannelAccess{"http://cp", "must-not-be-echoed"};
          return Result<RunSpec>(spec);
        });
    // Outputs over the channel go to a local artifact store; the output cap is 64 bytes here.
    auto signer = artifacts::UrlSigner::LoadOrCreate(dir_.path());
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    auto art = artifacts::OpenLocalArtifactStore(dir_.path() + "/artifacts", *signer,
                                                 [] { return std::string("http://cp"); });
    ASSERT_TRUE(art.ok()) << art.status().ToString();
    artifacts_ = std::move(*art);
    channel_->SetOutputs(artifacts_.get(), 64);
    // One API key: the server is not open, every public route needs a key.
    auto tenant = admin_.CreateTenant("acme");
    ASSERT_TRUE(tenant.ok()) << tenant.status().ToString();
    auth::KeyRequest request;
    request.tenant = tenant->id;
    request.scopes = std::vector<std::string>{"admin"};
    auto key = admin_.CreateKey(request);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    api_key_ = key->key;
    tenant_ = tenant->id;
    router_.SetAuthenticator(&authenticator_);
    RegisterRoutes(router_, *service_, clock_);
    RegisterChannelRoutes(router_, *channel_, clock_);
    http::HttpServerOptions http;
    http.port = 0;
    http.clock = &clock_;
    http.max_body_bytes = 8 << 20;  // above the channel's own bound, to reach it
    server_ = std::make_unique<http::HttpServer>(router_, http);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // A RUNNING run with a channel token, as the supervisor launches it.
  std::pair<RunId, std::string> StartRun() {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(std::chrono::milliseconds(1));
    r.tenant = tenant_;
    r.agent = "shell";
    r.model_id = "shell";
    r.task = "echo hi";
    r.created_at = clock_.Now();
    r.status = RunStatus::kRunning;
    r.phase = RunPhase::kRunning;
    r.started_at = clock_.Now();
    EXPECT_TRUE(store_->Create(r).ok());
    RunWriter writer(*store_);
    auto token = IssueChannelToken(writer, r.id);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return {r.id, token.ok() ? *token : ""};
  }
  void End(const RunId& id) {
    auto r = store_->Get(id);
    ASSERT_TRUE(r.ok());
    r->status = RunStatus::kCompleted;
    r->phase = RunPhase::kDone;
    r->reason = "succeeded";
    r->ended_at = clock_.Now();
    ASSERT_TRUE(store_->Update(*r).ok());
  }
  RawResponse Call(std::string_view method, std::string_view target, std::string_view headers,
                   std::string_view body = "") {
    RawClient client(server_->BoundAddress());
    EXPECT_TRUE(client.connected());
    auto r = client.Request(method, target, headers, body);
    EXPECT_TRUE(r) << method << " " << target;
    return r ? *r : RawResponse{};
  }
  static std::string Bearer(const std::string& token) {
    return "Authorization: Bearer " + token + "\r\n";
  }
  RawResponse PostEvents(const RunId& id, const std::string& headers, const std::string& body) {
    return Call("POST", "/internal/v1/runs/" + id.str() + "/events",
                "Content-Type: application/json\r\n" + headers, body);
  }
  static std::string Batch(int first, int last) {
    json::array events;
    for (int s = first; s <= last; ++s) {
      events.push_back(json::object{{"seq", s},
                                    {"ts", "2026-12-06T10:00:00.000Z"},
                                    {"type", "output"},
                                    {"stream", "stdout"},
                                    {"data", "line\n"}});
    }
    return json::serialize(json::object{{"events", std::move(events)}});
  }
  static std::string ExitJson(int code, std::string_view extra = "") {
    return R"({"outcome":"exited","exit_code":)" + std::to_string(code) +
           R"(,"ended_at":"2026-12-06T10:00:05.000Z")" + std::string(extra) + "}";
  }
  static std::string Code(const RawResponse& r) {
    const json::value body = r.Json();
    if (!body.is_object() || !body.as_object().contains("error")) return "";
    return std::string(body.at("error").at("code").as_string());
  }
  std::size_t StoredEvents(const RunId& id) {
    auto b = log_->Read(id.str(), 0, 10000);
    EXPECT_TRUE(b.ok());
    return b.ok() ? b->events.size() : 0;
  }

  outpost::testing::TempDir dir_;
  Options opts_;
  SimulatedClock clock_;
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<SqliteEventLog> log_;
  std::unique_ptr<ThrottledEventLog> throttled_;
  std::unique_ptr<AgentRegistry> agents_;
  std::unique_ptr<RunService> service_;
  std::unique_ptr<RunChannel> channel_;
  std::unique_ptr<artifacts::ArtifactStore> artifacts_;
  int spec_calls_ = 0;
  auth::testing::CountingAuthStore auth_store_;
  auth::AdminService admin_{auth_store_, clock_};
  auth::KeyVerifier verifier_{auth_store_, clock_};
  auth::RequestAuthenticator authenticator_{verifier_, {/*allow_open=*/true, ""}};
  std::string api_key_;
  std::string tenant_;  // the key's: its runs are the key's to see
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(ChannelRoutesTest, EventsExitAndControlAnswerTheRunsTokenInEitherHeader) {
  auto [id, token] = StartRun();
  RawResponse r = PostEvents(id, Bearer(token), Batch(1, 3));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("lastSeq"), 3);
  EXPECT_EQ(r.Json().at("data").at("stored"), 3);
  r = PostEvents(id, "X-Outpost-Run-Token: " + token + "\r\n", Batch(4, 4));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(StoredEvents(id), 4u);
  r = Call("GET", "/internal/v1/runs/" + id.str() + "/control", Bearer(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("status"), "RUNNING");
  EXPECT_EQ(r.Json().at("data").at("cancelRequested"), false);
  EXPECT_TRUE(r.Json().at("data").at("deadlineAt").is_string());
  r = Call("POST", "/internal/v1/runs/" + id.str() + "/exit",
           "Content-Type: application/json\r\n" + Bearer(token), ExitJson(0));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("stored"), true);
}

// A run launched far away: its launch carries the bootstrap token, exchanged once for the
// channel token; the launch's own channel token stops working.
TEST_F(ChannelRoutesTest, TheBootstrapTokenIsExchangedOnceForAWorkingChannelToken) {
  auto [id, unused] = StartRun();
  RunWriter writer(*store_);
  auto issued = IssueChannelTokens(writer, id);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_NE(issued->token, issued->bootstrap);
  const outpost::Run stored = *store_->Get(id);
  EXPECT_EQ(stored.channel_bootstrap_sha256, ChannelTokenHash(issued->bootstrap));
  const std::string path = "/internal/v1/runs/" + id.str() + "/bootstrap";
  // Not with the channel token, nor without one, nor with the stored hash itself.
  EXPECT_EQ(Call("POST", path, Bearer(issued->token)).status, 401);
  EXPECT_EQ(Call("POST", path, "").status, 401);
  EXPECT_EQ(Call("POST", path, Bearer(id.str() + "." + stored.channel_bootstrap_sha256)).status,
            401);
  RawResponse r = Call("POST", path, "X-Outpost-Run-Token: " + issued->bootstrap + "\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("Cache-Control").value_or(""), "no-store");
  const std::string token(r.Json().at("data").at("token").as_string());
  EXPECT_NE(token, issued->token);
  EXPECT_EQ(store_->Get(id)->channel_bootstrap_sha256, "");
  EXPECT_EQ(store_->Get(id)->channel_token_sha256, ChannelTokenHash(token));
  // The exchanged token works; the launch's does not; a second exchange is refused.
  EXPECT_EQ(Call("GET", "/internal/v1/runs/" + id.str() + "/control", Bearer(token)).status, 200);
  EXPECT_EQ(Call("GET", "/internal/v1/runs/" + id.str() + "/control", Bearer(issued->token)).status,
            401);
  r = Call("POST", path, Bearer(issued->bootstrap));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(Code(r), "AUTHENTICATION_ERROR");
  EXPECT_EQ(store_->Get(id)->channel_token_sha256, ChannelTokenHash(token));
}

TEST_F(ChannelRoutesTest, TheBootstrapOfAnEndedRunIs409) {
  auto [id, unused] = StartRun();
  RunWriter writer(*store_);
  auto issued = IssueChannelTokens(writer, id);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  End(id);
  RawResponse r =
      Call("POST", "/internal/v1/runs/" + id.str() + "/bootstrap", Bearer(issued->bootstrap));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(store_->Get(id)->channel_bootstrap_sha256, ChannelTokenHash(issued->bootstrap));
}

TEST_F(ChannelRoutesTest, OutputsAreStoredAsTheRunsArtifactsBoundedAndIdempotent) {
  auto [id, token] = StartRun();
  auto [other, other_token] = StartRun();
  const std::string base = "/internal/v1/runs/" + id.str() + "/outputs/";
  const std::string octets = "Content-Type: application/octet-stream\r\n";
  // Auth: none, another run's token.
  EXPECT_EQ(Call("PUT", base + "stdout", octets, "hello\n").status, 401);
  EXPECT_EQ(Call("PUT", base + "stdout", octets + Bearer(other_token), "hello\n").status, 403);
  EXPECT_EQ(artifacts_->Head("dispatches/" + id.str() + "/output.log").status().code(),
            outpost::Code::kNotFound);
  // Stored under the key the end-of-run upload uses.
  RawResponse r = Call("PUT", base + "stdout", octets + Bearer(token), "hello\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("stored"), true);
  EXPECT_EQ(*artifacts_->Get("dispatches/" + id.str() + "/output.log"), "hello\n");
  ASSERT_EQ(Call("PUT", base + "diff", octets + Bearer(token), "--- a\n+++ b\n").status, 200);
  EXPECT_EQ(artifacts_->Head("dispatches/" + id.str() + "/diff.patch")->content_type,
            "text/x-diff; charset=utf-8");
  // Bounds: an unknown name, over the output cap (64 bytes here).
  r = Call("PUT", base + "secrets", octets + Bearer(token), "x");
  EXPECT_EQ(r.status, 400) << r.body;
  r = Call("PUT", base + "stderr", octets + Bearer(token), std::string(65, 'e'));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(r.Json().at("error").at("details").at("maxBytes"), 64);
  EXPECT_EQ(artifacts_->Head("dispatches/" + id.str() + "/stderr.log").status().code(),
            outpost::Code::kNotFound);
  // A resend: identical is acknowledged (nothing new); while running a new content replaces.
  r = Call("PUT", base + "stdout", octets + Bearer(token), "hello\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("stored"), false);
  ASSERT_EQ(Call("PUT", base + "stdout", octets + Bearer(token), "hello again\n").status, 200);
  // After the end: only an identical resend.
  End(id);
  r = Call("PUT", base + "stdout", octets + Bearer(token), "hello again\n");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("stored"), false);
  r = Call("PUT", base + "stdout", octets + Bearer(token), "changed\n");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.Json().at("error").at("details").at("currentStatus"), "COMPLETED");
  r = Call("PUT", base + "bundle", octets + Bearer(token), "late");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(*artifacts_->Get("dispatches/" + id.str() + "/output.log"), "hello again\n");
  EXPECT_EQ(artifacts_->Head("dispatches/" + id.str() + "/changes.bundle").status().code(),
            outpost::Code::kNotFound);
}

TEST_F(ChannelRoutesTest, NoTokenIs401AnotherRunsIs403AndNothingIsStored) {
  auto [a, token_a] = StartRun();
  auto [b, token_b] = StartRun();
  RawResponse r = PostEvents(b, "", Batch(1, 1));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(Code(r), "AUTHENTICATION_ERROR");
  r = PostEvents(b, Bearer(token_a), Batch(1, 1));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Code(r), "AUTHORIZATION_ERROR");
  EXPECT_EQ(StoredEvents(a), 0u);
  EXPECT_EQ(StoredEvents(b), 0u);
}

TEST_F(ChannelRoutesTest, AnApiKeyIsUselessOnTheChannelAndTheTokenOnPublicRoutes) {
  auto [id, token] = StartRun();
  // The admin key: 401 on every channel route.
  EXPECT_EQ(PostEvents(id, Bearer(api_key_), Batch(1, 1)).status, 401);
  EXPECT_EQ(Call("GET", "/internal/v1/runs/" + id.str() + "/control", Bearer(api_key_)).status,
            401);
  EXPECT_EQ(
      Call("GET", "/internal/v1/runs/" + id.str() + "/control", "X-API-Key: " + api_key_ + "\r\n")
          .status,
      401);
  EXPECT_EQ(StoredEvents(id), 0u);
  // The run's token: 401 on the public API, its own run's routes included.
  for (const std::string& target :
       {"/runs/" + id.str(), std::string("/runs"), "/runs/" + id.str() + "/logs"}) {
    RawResponse r = Call("GET", target, Bearer(token));
    EXPECT_EQ(r.status, 401) << target << ": " << r.body;
    EXPECT_EQ(Code(r), "AUTHENTICATION_ERROR");
  }
  EXPECT_EQ(Call("POST", "/runs/" + id.str() + "/cancel",
                 "Content-Type: application/json\r\nX-API-Key: " + token + "\r\n", "{}")
                .status,
            401);
  EXPECT_FALSE(store_->Get(id)->cancel_requested_at.has_value());
  // The key still works where it belongs; the public run JSON shows nothing of the channel.
  ASSERT_EQ(Call("POST", "/internal/v1/runs/" + id.str() + "/exit",
                 "Content-Type: application/json\r\n" + Bearer(token), ExitJson(0))
                .status,
            200);
  RawResponse run = Call("GET", "/runs/" + id.str(), Bearer(api_key_));
  EXPECT_EQ(run.status, 200);
  EXPECT_EQ(run.body.find("channel"), std::string::npos) << run.body;
  EXPECT_EQ(run.body.find(store_->Get(id)->channel_token_sha256), std::string::npos) << run.body;
}

TEST_F(ChannelRoutesTest, AfterTheEndNewDataIs409AndAnIdenticalResendIs200) {
  auto [id, token] = StartRun();
  const std::string exit_path = "/internal/v1/runs/" + id.str() + "/exit";
  const std::string json_token = "Content-Type: application/json\r\n" + Bearer(token);
  ASSERT_EQ(PostEvents(id, Bearer(token), Batch(1, 2)).status, 200);
  ASSERT_EQ(Call("POST", exit_path, json_token, ExitJson(0)).status, 200);
  End(id);
  RawResponse r = PostEvents(id, Bearer(token), Batch(1, 2));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("stored"), 0);
  r = Call("POST", exit_path, json_token, ExitJson(0));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("data").at("stored"), false);
  r = PostEvents(id, Bearer(token), Batch(3, 3));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Code(r), "CONFLICT");
  EXPECT_EQ(r.Json().at("error").at("details").at("currentStatus"), "COMPLETED");
  EXPECT_EQ(Call("POST", exit_path, json_token, ExitJson(1)).status, 409);
  EXPECT_EQ(StoredEvents(id), 2u);
}

TEST_F(ChannelRoutesTest, OversizedBodiesAndBatchesAre413) {
  auto [id, token] = StartRun();
  std::string huge = R"({"events":[{"seq":1,"ts":"2026-12-06T10:00:00.000Z","type":"output",)"
                     R"("stream":"stdout","data":")" +
                     std::string(kMaxChannelBodyBytes, 'x') + "\"}]}";
  RawResponse r = PostEvents(id, Bearer(token), huge);
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 300);
  EXPECT_EQ(Code(r), "PAYLOAD_TOO_LARGE");
  r = PostEvents(id, Bearer(token), Batch(1, static_cast<int>(kMaxChannelBatchEvents) + 1));
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json().at("error").at("details").at("maxEvents"), kMaxChannelBatchEvents);
  EXPECT_EQ(StoredEvents(id), 0u);
}

TEST_F(ChannelRoutesTest, AThrottledEventLogIs429WithRetryAfter) {
  auto [id, token] = StartRun();
  throttled_->throttled = true;
  RawResponse r = PostEvents(id, Bearer(token), Batch(1, 1));
  throttled_->throttled = false;
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(Code(r), "RATE_LIMIT_EXCEEDED");
  EXPECT_EQ(r.headers.Get("Retry-After"), std::to_string(kChannelRetryAfterSeconds));
  EXPECT_EQ(StoredEvents(id), 0u);
  EXPECT_EQ(PostEvents(id, Bearer(token), Batch(1, 1)).status, 200);  // the retry
}

TEST_F(ChannelRoutesTest, AnOlderAndANewerClientAreServedA2xOrMalformedVersionIs400) {
  auto [id, token] = StartRun();
  const std::string exit_path = "/internal/v1/runs/" + id.str() + "/exit";
  const std::string json_token = "Content-Type: application/json\r\n" + Bearer(token);
  // A 2.0 client and a malformed header: 400 naming the supported range, nothing stored.
  for (std::string v : {"2.0", "one"}) {
    RawResponse r =
        PostEvents(id, Bearer(token) + "Outpost-Channel-Version: " + v + "\r\n", Batch(1, 1));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.Json().at("error").at("message").as_string().find("1.x"), std::string::npos)
        << r.body;
  }
  EXPECT_EQ(StoredEvents(id), 0u);
  // An older client (no header = 1.0) with the fields it knows.
  ASSERT_EQ(PostEvents(id, Bearer(token), Batch(1, 1)).status, 200);
  // A newer one (1.4) with fields this server does not know: ignored in the exit, events as sent.
  const std::string newer = "Outpost-Channel-Version: 1.4\r\n";
  RawResponse r = PostEvents(
      id, Bearer(token) + newer,
      R"({"events":[{"seq":2,"ts":"2026-12-06T10:00:01.000Z","type":"output","stream":"stdout",)"
      R"("data":"x","chunkRef":"s3://b/k"}],"compression":"none"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto stored = log_->Read(id.str(), 1, 10);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->events.size(), 1u);
  EXPECT_NE(stored->events[0].json.find(R"("chunkRef":"s3://b/k")"), std::string::npos);
  // The same unknown exit field from a 1.0 client is refused; from the newer one ignored.
  EXPECT_EQ(Call("POST", exit_path, json_token, ExitJson(0, R"(,"taskArn":"arn:x")")).status, 400);
  r = Call("POST", exit_path, json_token + newer, ExitJson(0, R"(,"taskArn":"arn:x")"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("GET", "/internal/v1/runs/" + id.str() + "/control", Bearer(token) + newer);
  EXPECT_EQ(r.status, 200) << r.body;
}

// GET …/spec: the run's RunSpec (secrets included) for its current token only, never cached.
TEST_F(ChannelRoutesTest, SpecIsServedToTheRunsCurrentTokenOnlyAndNeverCached) {
  auto [id, token] = StartRun();
  auto [other, other_token] = StartRun();
  const std::string path = "/internal/v1/runs/" + id.str() + "/spec";
  RawResponse r = Call("GET", path, Bearer(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store");
  const json::object data = r.Json().at("data").as_object();
  Result<RunSpec> spec = RunSpecFromJson(data);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->id, id);
  EXPECT_EQ(spec->argv, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(spec->env.at("API_KEY"), "sk-spec-secret");
  EXPECT_FALSE(spec->channel.has_value());  // the caller's token is not echoed
  EXPECT_EQ(r.body.find("must-not-be-echoed"), std::string::npos);
  EXPECT_EQ(spec_calls_, 1);

  // Forged (right run, wrong secret), malformed, none: 401; another run's current token: 403.
  const std::string forged = id.str() + "." + std::string(43, 'A');
  for (const std::string& headers : {Bearer(forged), Bearer("nonsense"), std::string()}) {
    r = Call("GET", path, headers);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Code(r), "AUTHENTICATION_ERROR");
    EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store");
    EXPECT_EQ(r.body.find("sk-spec-secret"), std::string::npos);
  }
  r = Call("GET", path, Bearer(other_token));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.body.find("sk-spec-secret"), std::string::npos);
  // An API key is no run token.
  EXPECT_EQ(Call("GET", path, Bearer(api_key_)).status, 401);
  // A stale token: the attempt's token replaced by a new attempt's.
  RunWriter writer(*store_);
  ASSERT_TRUE(IssueChannelToken(writer, id).ok());
  r = Call("GET", path, Bearer(token));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(spec_calls_, 1);  // no refused request reached the source
}

TEST_F(ChannelRoutesTest, SpecOfARunThatIsNotRunningIs409WithItsStatus) {
  auto [id, token] = StartRun();
  End(id);
  RawResponse r = Call("GET", "/internal/v1/runs/" + id.str() + "/spec", Bearer(token));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Code(r), "CONFLICT");
  EXPECT_EQ(r.Json().at("error").at("details").at("currentStatus"), "COMPLETED");
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store");
  EXPECT_EQ(r.body.find("sk-spec-secret"), std::string::npos);
  EXPECT_EQ(spec_calls_, 0);
}

}  // namespace
}  // namespace outpost::api
