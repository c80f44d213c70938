#include "wire/run_json.h"

#include <gtest/gtest.h>

#include "common/json_util.h"

namespace outpost::wire {
namespace {

const WallTime kT0 = WallTime(std::chrono::milliseconds(1'764'318'160'123));

Run FullRun() {
  Run r;
  r.id = RunId("01KB4TVWHVG2W0AJ1ZCTNHFKX5");
  r.tenant = "acme";
  r.status = RunStatus::kCompleted;
  r.phase = RunPhase::kDone;
  r.reason = "succeeded";
  r.agent = "codex";
  r.model_id = "gpt-5";
  r.task = "fix \"quoted\" things\nand newlines";
  r.repo = "acme/widgets";
  r.branch = "main";
  r.context = "full";
  r.timeout_seconds = 900;
  r.inactivity_timeout_seconds = 120;
  r.max_cost_usd = 2.5;
  r.workspace_mode = "persistent";
  r.network = NetworkPolicy::kAllowlist;
  r.network_blocked = {{"evil.example", 443, kT0 + Millis(2'000)}};
  r.resources = {4096, 4, 20};
  r.additional_secrets = {"GITHUB_TOKEN"};
  r.tags = {{"env", "prod"}, {"team", "core"}};
  r.idempotency_key = "idem-1";
  r.request_hash = "sha256:abc";
  r.group_id = "g-1";
  r.created_at = kT0;
  r.started_at = kT0 + Millis(1'000);
  r.ended_at = kT0 + Millis(65'432);
  r.exit_code = 0;
  r.error_message = "warning only";
  r.final_message = "All done.";
  r.cancel_reason = "operator";
  r.cancel_requested_at = kT0 + Millis(60'000);
  r.changes = Changes{"committed",
                      "aaa",
                      "bbb",
                      {"a.cc", "b.h"},
                      {{"a.cc", 3, 1}, {"b.h", std::nullopt, std::nullopt}},
                      true};
  r.artifacts_state = ArtifactsState::kPartial;
  r.artifacts = {{"output.log", "output", "text/plain; charset=utf-8", 12, "ab12"}};
  r.artifacts_missing = {"diff.patch"};
  r.usage = Usage{100, 200, 0.75, "agent"};
  r.progress = 100;
  r.owner = "replica-3";
  r.key_id = "key-9";
  r.quota_slot = "slot-2";
  r.version = 7;
  r.verify = "make test";
  r.verification = Verification{1, false, "FAIL\n", false};
  return r;
}

// The public run object of FullRun() as the API served it before wire/ existed
// (RunToJson(run, internal=false) in store/run_json.cc): clients read these names.
constexpr std::string_view kPublicRun =
    R"json({"runId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5","dispatchId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5","status":"COMPLETED","phase":"done","reason":"succeeded","agent":"codex","modelId":"gpt-5","task":"fix \"quoted\" things\nand newlines","repo":"acme/widgets","branch":"main","context":"full","timeoutSeconds":900,"inactivityTimeoutSeconds":120,"maxCostUsd":2.5,"workspaceMode":"persistent","network":{"policy":"allowlist","blocked":[{"host":"evil.example","port":443,"time":"2025-11-28T08:22:42.123Z"}]},"resourceConstraints":{"maxMemoryMb":4096,"maxCpuUnits":4,"maxDiskGb":20},"additionalSecrets":["GITHUB_TOKEN"],"tags":{"env":"prod","team":"core"},"idempotencyKey":"idem-1","groupId":"g-1","createdAt":"2025-11-28T08:22:40.123Z","startedAt":"2025-11-28T08:22:41.123Z","endedAt":"2025-11-28T08:23:45.555Z","durationMs":64432,"exitCode":0,"errorMessage":"warning only","finalMessage":"All done.","cancelReason":"operator","cancelRequestedAt":"2025-11-28T08:23:40.123Z","changes":{"kind":"committed","beforeSha":"aaa","afterSha":"bbb","filesChanged":["a.cc","b.h"],"insertions":3,"deletions":1,"diffStat":[{"path":"a.cc","insertions":3,"deletions":1},{"path":"b.h","insertions":null,"deletions":null}],"redacted":true},"usage":{"inputTokens":100,"outputTokens":200,"costUsd":0.75,"costSource":"agent"},"progress":100,"promotion":null,"verify":"make test","verification":{"exitCode":1,"passed":false,"tail":"FAIL\n","timedOut":false},"artifactsStatus":"partial","artifactsMissing":["diff.patch"]})json";

Run MinimalRun() {
  Run r;
  r.id = RunId(NewUlid(kT0));
  r.agent = "claude-code";
  r.task = "t";
  r.created_at = kT0;
  return r;
}

TEST(RunJson, FullRunIsServedAsBefore) { EXPECT_EQ(ToJson(RunToJson(FullRun())), kPublicRun); }

TEST(RunJson, PublicShapeHidesInternalFields) {
  const auto o = RunToJson(FullRun());
  for (const char* hidden :
       {"tenant", "requestHash", "version", "owner", "keyId", "quotaSlot", "artifacts"}) {
    EXPECT_FALSE(o.contains(hidden)) << hidden;
  }
}

TEST(RunJson, PublicShapeUsesRunbookNames) {
  const auto r = FullRun();
  const auto o = RunToJson(r);
  EXPECT_EQ(o.at("runId").as_string(), r.id.str());
  EXPECT_EQ(o.at("dispatchId").as_string(), r.id.str());
  EXPECT_EQ(o.at("status").as_string(), "COMPLETED");
  EXPECT_EQ(o.at("modelId").as_string(), "gpt-5");
  EXPECT_EQ(o.at("createdAt").as_string(), "2025-11-28T08:22:40.123Z");
  EXPECT_EQ(o.at("durationMs").as_int64(), 64'432);
  EXPECT_EQ(o.at("tags").as_object().at("env").as_string(), "prod");
  EXPECT_EQ(o.at("changes").as_object().at("kind").as_string(), "committed");
}

TEST(RunJson, UnsetOptionalsAreNullInPublicShape) {
  const auto o = RunToJson(MinimalRun());
  for (const char* key : {"startedAt", "endedAt", "durationMs", "exitCode", "changes", "usage",
                          "maxCostUsd", "verify", "verification"}) {
    ASSERT_TRUE(o.contains(key)) << key;
    EXPECT_TRUE(o.at(key).is_null()) << key;
  }
  EXPECT_FALSE(o.contains("artifactsStatus"));
}

TEST(DispatchResult, SingleRun) {
  const auto r = FullRun();
  EXPECT_EQ(ToJson(DispatchResultToJson(r, /*created=*/true)),
            R"({"runId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5","dispatchId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5",)"
            R"("status":"COMPLETED","agent":"codex","modelId":"gpt-5",)"
            R"("createdAt":"2025-11-28T08:22:40.123Z","idempotent":false})");
  EXPECT_TRUE(DispatchResultToJson(r, /*created=*/false).at("idempotent").as_bool());
}

TEST(DispatchResult, FanOutListsEveryRunInOrder) {
  auto a = MinimalRun(), b = MinimalRun();
  a.id = RunId("01KB4TVWHVG2W0AJ1ZCTNHFKX5");
  b.id = RunId("01KB4TVWHVG2W0AJ1ZCTNHFKX6");
  b.agent = "codex";
  b.model_id = "gpt-5";
  EXPECT_EQ(
      ToJson(DispatchResultToJson(a, /*created=*/false, std::string("g-1"), {a, b})),
      R"({"groupId":"g-1","runs":[)"
      R"({"runId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5","agent":"claude-code","modelId":"","status":"PENDING"},)"
      R"({"runId":"01KB4TVWHVG2W0AJ1ZCTNHFKX6","agent":"codex","modelId":"gpt-5","status":"PENDING"}],)"
      R"("runIds":["01KB4TVWHVG2W0AJ1ZCTNHFKX5","01KB4TVWHVG2W0AJ1ZCTNHFKX6"],"idempotent":true})");
}

}  // namespace
}  // namespace outpost::wire
