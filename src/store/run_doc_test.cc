#include "store/run_doc.h"

#include <gtest/gtest.h>

#include <functional>

#include "common/json_util.h"

namespace outpost {
namespace {

namespace json = boost::json;

const WallTime kT0 = WallTime(std::chrono::milliseconds(1'764'318'160'123));

// Every field of Run set (key_id, quota_slot and network_blocked included).
Run FullRun() {
  outpost::Run r;
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
  return r;
}

// A run record exactly as databases hold it: written by the codec the API and the stores shared
// before store/run_doc existed (RunToJson(run, internal=true)) for FullRun(). Never edit this
// string to make a test pass: old records must keep reading.
constexpr std::string_view kStoredDoc =
    R"json({"runId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5","dispatchId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5","status":"COMPLETED","phase":"done","reason":"succeeded","agent":"codex","modelId":"gpt-5","task":"fix \"quoted\" things\nand newlines","repo":"acme/widgets","branch":"main","context":"full","timeoutSeconds":900,"inactivityTimeoutSeconds":120,"workspaceMode":"persistent","network":{"policy":"allowlist","blocked":[{"host":"evil.example","port":443,"time":"2025-11-28T08:22:42.123Z"}]},"resourceConstraints":{"maxMemoryMb":4096,"maxCpuUnits":4,"maxDiskGb":20},"additionalSecrets":["GITHUB_TOKEN"],"tags":{"env":"prod","team":"core"},"idempotencyKey":"idem-1","groupId":"g-1","createdAt":"2025-11-28T08:22:40.123Z","startedAt":"2025-11-28T08:22:41.123Z","endedAt":"2025-11-28T08:23:45.555Z","durationMs":64432,"exitCode":0,"errorMessage":"warning only","finalMessage":"All done.","cancelReason":"operator","cancelRequestedAt":"2025-11-28T08:23:40.123Z","changes":{"kind":"committed","beforeSha":"aaa","afterSha":"bbb","filesChanged":["a.cc","b.h"],"insertions":3,"deletions":1,"diffStat":[{"path":"a.cc","insertions":3,"deletions":1},{"path":"b.h","insertions":null,"deletions":null}],"redacted":true},"usage":{"inputTokens":100,"outputTokens":200,"costUsd":0.75,"costSource":"agent"},"progress":100,"artifactsStatus":"partial","artifactsMissing":["diff.patch"],"artifacts":[{"name":"output.log","type":"output","contentType":"text/plain; charset=utf-8","sizeBytes":12,"sha256":"ab12"}],"tenant":"acme","requestHash":"sha256:abc","owner":"replica-3","keyId":"key-9","quotaSlot":"slot-2","version":7})json";

constexpr std::string_view kStoredReplica =
    R"json({"replicaId":"replica-3","host":"host-a","address":"http://10.0.0.3:8080","version":"1.2.3","startedAt":"2025-11-28T08:22:40.123Z","heartbeatAt":"2025-11-28T08:22:45.123Z","running":2,"capacity":8})json";

Run MinimalRun() {
  outpost::Run r;
  r.id = RunId(NewUlid(kT0));
  r.agent = "claude-code";
  r.task = "t";
  r.created_at = kT0;
  return r;
}

boost::json::object ParseObject(std::string_view text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed.ok() && parsed->is_object()) << text;
  return parsed.ok() && parsed->is_object() ? parsed->get_object() : boost::json::object{};
}

TEST(RunDoc, StoredRecordReadsBackToTheSameRun) {
  auto back = RunFromDoc(ParseObject(kStoredDoc));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, FullRun());
}

TEST(RunDoc, WritesTheStoredRecordByteForByte) {
  EXPECT_EQ(ToJson(RunToDoc(FullRun())), kStoredDoc);
}

TEST(RunDoc, TheRunChannelFieldsRoundTripAndAreLeftOutWhenUnset) {
  outpost::Run r;
  r.id = RunId("01KB4TVWHVG2W0AJ1ZCTNHFKX5");
  r.created_at = WallTime(std::chrono::seconds(1'800'000'000));
  EXPECT_FALSE(RunToDoc(r).contains("channelTokenSha256"));
  EXPECT_FALSE(RunToDoc(r).contains("channelExit"));
  EXPECT_FALSE(RunToDoc(r).contains("channelBootstrapSha256"));
  EXPECT_FALSE(RunToDoc(r).contains("channelOutputs"));
  r.channel_token_sha256 = std::string(64, 'a');
  r.channel_bootstrap_sha256 = std::string(64, 'b');
  r.channel_outputs = true;
  r.channel_attempt = 2;
  r.channel_exit = R"({"outcome":"exited","exit_code":0})";
  auto back = RunFromDoc(RunToDoc(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RunDoc, ThePromotionRoundTripsAndIsLeftOutWhenUnset) {
  outpost::Run r;
  r.id = RunId("01KB4TVWHVG2W0AJ1ZCTNHFKX5");
  r.created_at = WallTime(std::chrono::seconds(1'800'000'000));
  EXPECT_FALSE(RunToDoc(r).contains("promotion"));
  r.promotion = Promotion{"outpost/shell/x",
                          "trunk",
                          std::string(40, 'c'),
                          "https://github.com/a/b/pull/7",
                          7,
                          kT0,
                          "key1"};
  auto back = RunFromDoc(RunToDoc(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  r.promotion->pr_url = "";
  r.promotion->pr_number = 0;
  back = RunFromDoc(RunToDoc(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RunDoc, RoundTripOfMinimalRunIsExact) {
  const auto r = MinimalRun();
  auto back = RunFromDoc(RunToDoc(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RunDoc, RoundTripSurvivesSerializationToText) {
  const auto r = FullRun();
  auto back = RunFromDoc(ParseObject(ToJson(RunToDoc(r))));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RunDoc, OlderRecordsGetTheDefaults) {
  // A record from before the network object, usage, changes, artifacts and the store fields.
  auto back = RunFromDoc(ParseObject(
      R"({"runId":"01KB4TVWHVG2W0AJ1ZCTNHFKX5","status":"PENDING","createdAt":"2025-11-28T08:22:40.123Z","network":"host"})"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->network, NetworkPolicy::kHost);
  EXPECT_EQ(back->phase, RunPhase::kQueued);
  EXPECT_EQ(back->artifacts_state, ArtifactsState::kNone);
  EXPECT_EQ(back->tenant, "default");
  EXPECT_EQ(back->timeout_seconds, 600);
  EXPECT_EQ(back->context, "standard");
  EXPECT_EQ(back->workspace_mode, "ephemeral");
  EXPECT_FALSE(back->changes.has_value());
  EXPECT_FALSE(back->usage.has_value());
  EXPECT_EQ(back->version, 0);
}

TEST(RunDoc, RecordWithoutIdStatusOrCreatedAtIsRejected) {
  for (const char* key : {"runId", "status", "createdAt"}) {
    auto o = RunToDoc(MinimalRun());
    o.erase(key);
    EXPECT_EQ(RunFromDoc(o).status().code(), Code::kInternal) << key;
  }
  auto o = RunToDoc(MinimalRun());
  o["status"] = "DONE";
  EXPECT_EQ(RunFromDoc(o).status().code(), Code::kInternal);
}

// The typed fields are stored by name; a name the code does not know is a corrupt record, never
// a silent default.
TEST(RunDoc, StoresPhaseNetworkAndArtifactsStateByNameAndRefusesUnknownOnes) {
  const json::object doc = RunToDoc(FullRun());
  EXPECT_EQ(doc.at("phase"), "done");
  EXPECT_EQ(doc.at("network").at("policy"), "allowlist");
  EXPECT_EQ(doc.at("artifactsStatus"), "partial");
  struct Bad {
    std::string field;
    std::function<void(json::object&)> plant;
  };
  const std::vector<Bad> bad = {
      {"phase", [](json::object& o) { o["phase"] = "sleeping"; }},
      {"network", [](json::object& o) { o["network"].as_object()["policy"] = "open"; }},
      {"network", [](json::object& o) { o["network"] = "open"; }},  // the older string form
      {"artifactsStatus", [](json::object& o) { o["artifactsStatus"] = "lost"; }},
  };
  for (const Bad& b : bad) {
    json::object o = doc;
    b.plant(o);
    Result<outpost::Run> got = RunFromDoc(o);
    EXPECT_EQ(got.status().code(), Code::kInternal) << b.field;
    EXPECT_EQ(got.status().message(), "corrupt run record: " + b.field);
  }
}

TEST(ReplicaDoc, StoredRecordReadsBackAndIsWrittenAsBefore) {
  const ReplicaInfo replica{
      "replica-3", "host-a", "http://10.0.0.3:8080", "1.2.3", kT0, kT0 + Millis(5000), 2, 8};
  EXPECT_EQ(ToJson(ReplicaToDoc(replica)), kStoredReplica);
  auto back = ReplicaFromDoc(ParseObject(kStoredReplica));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, replica);
  auto o = ReplicaToDoc(replica);
  o.erase("heartbeatAt");
  EXPECT_EQ(ReplicaFromDoc(o).status().code(), Code::kInternal);
}

}  // namespace
}  // namespace outpost
