#include "store/run_json.h"

#include <gtest/gtest.h>

#include "common/json_util.h"

namespace outpost {
namespace {

const WallTime kT0 = WallTime(std::chrono::milliseconds(1'764'318'160'123));

Run FullRun() {
  Run r;
  r.id = RunId(NewUlid(kT0));
  r.tenant = "acme";
  r.status = RunStatus::kCompleted;
  r.phase = "done";
  r.reason = "succeeded";
  r.agent = "codex";
  r.model_id = "gpt-5";
  r.task = "fix \"quoted\" things\nand newlines";
  r.repo = "acme/widgets";
  r.branch = "main";
  r.context = "full";
  r.timeout_seconds = 900;
  r.inactivity_timeout_seconds = 120;
  r.workspace_mode = "persistent";
  r.network = "allowlist";
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
  r.cancel_reason = "operator";
  r.cancel_requested_at = kT0 + Millis(60'000);
  r.changes = Changes{"committed",
                      "aaa",
                      "bbb",
                      {"a.cc", "b.h"},
                      {{"a.cc", 3, 1}, {"b.h", std::nullopt, std::nullopt}},
                      true};
  r.artifacts_state = "partial";
  r.artifacts = {{"output.log", "output", "text/plain; charset=utf-8", 12, "ab12"}};
  r.artifacts_missing = {"diff.patch"};
  r.usage = Usage{100, 200, 0.75, "agent"};
  r.progress = 100;
  r.owner = "replica-3";
  r.version = 7;
  return r;
}

Run MinimalRun() {
  Run r;
  r.id = RunId(NewUlid(kT0));
  r.agent = "claude-code";
  r.task = "t";
  r.created_at = kT0;
  return r;
}

TEST(RunJson, InternalRoundTripOfFullRunIsExact) {
  const auto r = FullRun();
  auto back = RunFromJson(RunToJson(r, /*internal=*/true));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RunJson, InternalRoundTripOfMinimalRunIsExact) {
  const auto r = MinimalRun();
  auto back = RunFromJson(RunToJson(r, /*internal=*/true));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RunJson, RoundTripSurvivesSerializationToText) {
  const auto r = FullRun();
  auto parsed = ParseJson(ToJson(RunToJson(r, /*internal=*/true)));
  ASSERT_TRUE(parsed.ok() && parsed->is_object());
  auto back = RunFromJson(parsed->get_object());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RunJson, PublicShapeHidesInternalFields) {
  const auto o = RunToJson(FullRun());
  for (const char* hidden : {"tenant", "requestHash", "version", "owner"}) {
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
  for (const char* key : {"startedAt", "endedAt", "durationMs", "exitCode", "changes", "usage"}) {
    ASSERT_TRUE(o.contains(key)) << key;
    EXPECT_TRUE(o.at(key).is_null()) << key;
  }
}

TEST(RunJson, RecordWithoutIdOrStatusIsRejected) {
  auto o = RunToJson(MinimalRun(), true);
  o.erase("status");
  EXPECT_EQ(RunFromJson(o).status().code(), Code::kInternal);
}

}  // namespace
}  // namespace outpost
