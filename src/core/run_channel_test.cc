// The run channel's core (core/run_channel.h) over a real SQLite run store and SQLite event log,
// with runs started by a real Supervisor on the FakeRunner (whose RunSpec gives the token).
// Every refusal is checked to store nothing and to leave the run as it was.
#include "core/run_channel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "core/fake_runner_for_test.h"
#include "core/run_service.h"
#include "core/supervisor.h"
#include "store/run_doc.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_run_store.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using ::outpost::testing::IsOk;
using ::outpost::testing::StatusIs;
using ::testing::HasSubstr;

// An event log that answers kUnavailable (a throttled store) while `throttled`.
class ThrottledEventLog final : public EventLog {
 public:
  explicit ThrottledEventLog(EventLog& inner) : inner_(inner) {}
  bool throttled = false;
  Result<EventAppend> Append(std::string_view run_id,
                             const std::vector<RunEvent>& events) override {
    if (throttled) return Unavailable("throttled");
    return inner_.Append(run_id, events);
  }
  Result<EventBatch> Read(std::string_view run_id, std::int64_t after, int limit,
                          std::size_t max_bytes) override {
    return inner_.Read(run_id, after, limit, max_bytes);
  }
  Result<EventLogTail> Tail(std::string_view run_id) override {
    if (throttled) return Unavailable("throttled");
    return inner_.Tail(run_id);
  }
  Status Remove(std::string_view run_id) override { return inner_.Remove(run_id); }

 private:
  EventLog& inner_;
};

class RunChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteRunStore::Open(dir_.path() + "/runs.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto l = SqliteEventLog::Open(dir_.path() + "/runs.db");
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    log_ = std::move(*l);
    throttled_ = std::make_unique<ThrottledEventLog>(*log_);
    opts_ = DefaultOptions();
    opts_.data_dir = dir_.path();
    opts_.runner = RunnerKind::kProcess;
    opts_.replica_id = "replica-a";
    agents_ = std::make_unique<AgentRegistry>(opts_);
    supervisor_ = std::make_unique<Supervisor>(*store_, runner_, *agents_, clock_, opts_);
    ASSERT_OK(supervisor_->Recover());
    supervisor_->SetChannelUrl("http://cp.example:8080");
    channel_ = std::make_unique<RunChannel>(
        *store_, *throttled_, [this](const RunId& id) { notified_.push_back(id); },
        [this](const outpost::Run& run) -> Result<RunSpec> {
          ++spec_calls_;
          return supervisor_->SpecFor(run);
        });
  }

  // A run dispatched and started by the supervisor: RUNNING, with its token (from the RunSpec).
  RunId Start() {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(1ms);
    r.agent = "shell";
    r.model_id = "shell";
    r.task = "echo hi";
    r.timeout_seconds = 300;
    r.created_at = clock_.Now();
    r.owner = "replica-a";
    EXPECT_OK(store_->Create(r).status());
    supervisor_->Tick();
    EXPECT_EQ(Get(r.id).status, RunStatus::kRunning);
    return r.id;
  }
  std::string TokenOf(const RunId& id) {
    auto spec = runner_.spec(id.str());
    EXPECT_TRUE(spec && spec->channel) << "no RunSpec::channel for " << id.str();
    return spec && spec->channel ? spec->channel->token : "";
  }
  outpost::Run Get(const RunId& id) {
    auto r = store_->Get(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : outpost::Run{};
  }
  std::vector<RunEvent> Stored(const RunId& id) {
    auto b = log_->Read(id.str(), 0, 10000);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? b->events : std::vector<RunEvent>{};
  }
  static json::object Obj(std::string_view text) { return json::parse(text).as_object(); }
  // {"events":[output events seq first..last]}
  static json::object Batch(std::int64_t first, std::int64_t last, std::string_view data = "hi") {
    json::array events;
    for (std::int64_t s = first; s <= last; ++s) {
      events.push_back(json::object{{"seq", s},
                                    {"ts", "2026-12-06T10:00:00.000Z"},
                                    {"type", "output"},
                                    {"stream", "stdout"},
                                    {"data", std::string(data)}});
    }
    return json::object{{"events", std::move(events)}};
  }
  json::object ExitBody(int code) {
    ExitRecord rec;
    rec.outcome = ExitOutcome::kExited;
    rec.exit_code = code;
    rec.started_at = clock_.Now() - 2s;
    rec.ended_at = clock_.Now();
    return ExitRecordToJson(rec);
  }
  // Asserts `st` refused and that nothing changed: the run's record and its stored events.
  void ExpectUnchanged(const RunId& id, const outpost::Run& before, std::size_t events_before) {
    EXPECT_EQ(Get(id), before);
    EXPECT_EQ(Stored(id).size(), events_before);
  }

  int spec_calls_ = 0;
  testing::TempDir dir_;
  SimulatedClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<SqliteEventLog> log_;
  std::unique_ptr<ThrottledEventLog> throttled_;
  Options opts_;
  std::unique_ptr<AgentRegistry> agents_;
  FakeRunner runner_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<RunChannel> channel_;
  std::vector<RunId> notified_;
  const ChannelVersion v1_{1, 0};
};

TEST_F(RunChannelTest, EveryAttemptGetsAFreshTokenOfWhichTheRecordKeepsOnlyTheHash) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  auto spec = runner_.spec(id.str());
  EXPECT_EQ(spec->channel->url, "http://cp.example:8080");
  ASSERT_TRUE(token.starts_with(id.str() + "."));
  EXPECT_EQ(token.size(), id.str().size() + 1 + 43);  // 256 random bits, base64url
  const outpost::Run run = Get(id);
  EXPECT_EQ(run.channel_token_sha256, Sha256Hex(token));
  EXPECT_EQ(run.channel_attempt, 1);
  EXPECT_EQ(ToJson(RunToDoc(run)).find(token.substr(id.str().size() + 1)), std::string::npos);
  // Another run, another token.
  RunId other = Start();
  EXPECT_NE(TokenOf(other).substr(other.str().size()), token.substr(id.str().size()));
}

TEST_F(RunChannelTest, EventsAreStoredSeqFirstInTheirOrderAndTheHookIsTold) {
  RunId id = Start();
  json::object body = Obj(
      R"({"events":[{"type":"output","data":"a","seq":1,"ts":"2026-12-06T10:00:00.000Z","stream":"stdout"},)"
      R"({"seq":2,"ts":"2026-12-06T10:00:01.000Z","type":"status","status":"RUNNING","phase":"running"}]})");
  ASSERT_OK_AND_ASSIGN(ChannelAppend out, channel_->AppendEvents(id, TokenOf(id), v1_, body));
  EXPECT_EQ(out.last_seq, 2);
  EXPECT_EQ(out.stored, 2);
  std::vector<RunEvent> events = Stored(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(
      events[0].json,
      R"({"seq":1,"ts":"2026-12-06T10:00:00.000Z","type":"output","data":"a","stream":"stdout"})");
  EXPECT_EQ(events[1].type, "status");
  EXPECT_EQ(notified_, std::vector<RunId>{id});
}

TEST_F(RunChannelTest, AResendIsAcknowledgedWhenIdenticalAndRefusedWhenDifferent) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  ASSERT_OK(channel_->AppendEvents(id, token, v1_, Batch(1, 3)).status());
  ASSERT_OK_AND_ASSIGN(ChannelAppend again, channel_->AppendEvents(id, token, v1_, Batch(2, 4)));
  EXPECT_EQ(again.stored, 1);
  EXPECT_EQ(again.last_seq, 4);
  const outpost::Run before = Get(id);
  EXPECT_THAT(channel_->AppendEvents(id, token, v1_, Batch(3, 5, "changed")),
              StatusIs(Code::kConflict));
  ExpectUnchanged(id, before, 4);
}

TEST_F(RunChannelTest, BatchesOutOfOrderOrWithAGapAreRefusedAndNothingIsStored) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  const outpost::Run before = Get(id);
  json::object reversed = Batch(1, 2);
  auto& events = reversed["events"].as_array();
  std::swap(events[0], events[1]);
  EXPECT_THAT(channel_->AppendEvents(id, token, v1_, reversed),
              StatusIs(Code::kInvalidArgument, HasSubstr("consecutive")));
  ExpectUnchanged(id, before, 0);
  Result<ChannelAppend> gap = channel_->AppendEvents(id, token, v1_, Batch(5, 6));
  ASSERT_THAT(gap, StatusIs(Code::kFailedPrecondition));
  EXPECT_EQ(gap.status().details().at("nextSeq"), 1);
  ExpectUnchanged(id, before, 0);
  EXPECT_TRUE(notified_.empty());
}

TEST_F(RunChannelTest, OversizedBatchesAndEventsAreRefusedAndNothingIsStored) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  const outpost::Run before = Get(id);
  EXPECT_THAT(channel_->AppendEvents(id, token, v1_, Batch(1, kMaxChannelBatchEvents + 1)),
              StatusIs(Code::kPayloadTooLarge, HasSubstr("at most")));
  ExpectUnchanged(id, before, 0);
  EXPECT_THAT(
      channel_->AppendEvents(id, token, v1_, Batch(1, 1, std::string(kMaxEventBytes + 1, 'x'))),
      StatusIs(Code::kInvalidArgument));
  ExpectUnchanged(id, before, 0);
}

TEST_F(RunChannelTest, EndAndTerminalStatusAndBadEventsAreTheControlPlanesOrInvalid) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  const outpost::Run before = Get(id);
  for (std::string_view bad : {
           R"({"seq":1,"ts":"2026-12-06T10:00:00.000Z","type":"end","status":"COMPLETED"})",
           R"({"seq":1,"ts":"2026-12-06T10:00:00.000Z","type":"status","status":"COMPLETED"})",
           R"({"seq":1,"ts":"2026-12-06T10:00:00.000Z","type":"bogus"})",
           R"({"seq":0,"ts":"2026-12-06T10:00:00.000Z","type":"output"})",
           R"({"seq":1,"ts":"yesterday","type":"output"})",
       }) {
    json::object body{{"events", json::array{json::parse(bad)}}};
    EXPECT_THAT(channel_->AppendEvents(id, token, v1_, body), StatusIs(Code::kInvalidArgument))
        << bad;
  }
  EXPECT_THAT(channel_->AppendEvents(id, token, v1_, Obj(R"({"events":[]})")),
              StatusIs(Code::kInvalidArgument));
  ExpectUnchanged(id, before, 0);
}

TEST_F(RunChannelTest, AnotherRunsTokenIs403AndStoresNothingForEither) {
  RunId a = Start();
  RunId b = Start();
  const outpost::Run before_a = Get(a), before_b = Get(b);
  EXPECT_THAT(channel_->AppendEvents(b, TokenOf(a), v1_, Batch(1, 1)),
              StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(channel_->ReportExit(b, TokenOf(a), v1_, ExitBody(0)),
              StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(channel_->Control(b, TokenOf(a)), StatusIs(Code::kPermissionDenied));
  ExpectUnchanged(a, before_a, 0);
  ExpectUnchanged(b, before_b, 0);
}

TEST_F(RunChannelTest, MissingForgedAndStaleTokensAre401AndStoreNothing) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  const outpost::Run before = Get(id);
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  const std::string random_other = RunId(NewUlid(clock_.Now())).str() + "." + std::string(43, 'x');
  for (const std::string& bad : {std::string(), forged, std::string("garbage"), random_other,
                                 token.substr(0, token.size() - 1)}) {
    EXPECT_THAT(channel_->AppendEvents(id, bad, v1_, Batch(1, 1)), StatusIs(Code::kUnauthenticated))
        << bad;
    EXPECT_THAT(channel_->ReportExit(id, bad, v1_, ExitBody(0)), StatusIs(Code::kUnauthenticated));
    EXPECT_THAT(channel_->Control(id, bad), StatusIs(Code::kUnauthenticated));
  }
  ExpectUnchanged(id, before, 0);
  // A new attempt (a restarted launch) replaces the token: the old one is stale.
  RunWriter writer(*store_);
  ASSERT_OK(IssueChannelToken(writer, id).status());
  EXPECT_EQ(Get(id).channel_attempt, 2);
  EXPECT_THAT(channel_->AppendEvents(id, token, v1_, Batch(1, 1)),
              StatusIs(Code::kUnauthenticated));
  EXPECT_EQ(Stored(id).size(), 0u);
}

TEST_F(RunChannelTest, TheChannelExitEndsTheRunOnTheLeaseHolder) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  ASSERT_OK_AND_ASSIGN(bool stored, channel_->ReportExit(id, token, v1_, ExitBody(0)));
  EXPECT_TRUE(stored);
  EXPECT_EQ(Get(id).status, RunStatus::kRunning);  // stored; the lease holder ends it
  ASSERT_TRUE(Get(id).channel_exit.has_value());
  // Issue 20: while the runner says the run still runs (a container not yet removed), the
  // channel's exit waits: the terminal status is written once the runner has nothing running.
  supervisor_->Tick();
  EXPECT_EQ(Get(id).status, RunStatus::kRunning);
  runner_.Lose(id.str(), 0);  // its supervisor is gone: the channel's exit is the run's
  supervisor_->Tick();
  const outpost::Run ended = Get(id);
  EXPECT_EQ(ended.status, RunStatus::kCompleted);
  EXPECT_EQ(ended.exit_code, 0);
}

TEST_F(RunChannelTest, TheRunnersOwnExitWinsOverTheChannels) {
  RunId id = Start();
  ASSERT_OK(channel_->ReportExit(id, TokenOf(id), v1_, ExitBody(0)).status());
  ExitRecord oom;
  oom.outcome = ExitOutcome::kOom;
  oom.ended_at = clock_.Now();
  runner_.Exit(id.str(), oom);
  supervisor_->Tick();
  EXPECT_EQ(Get(id).status, RunStatus::kFailed);
  EXPECT_EQ(Get(id).reason, "oom");
}

TEST_F(RunChannelTest, AfterTheEndOnlyIdenticalResendsAreAcknowledged) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  ASSERT_OK(channel_->AppendEvents(id, token, v1_, Batch(1, 2)).status());
  const json::object exit = ExitBody(3);
  ASSERT_OK(channel_->ReportExit(id, token, v1_, exit).status());
  runner_.Lose(id.str(), 0);  // its supervisor is gone: the channel's exit is the run's
  supervisor_->Tick();
  ASSERT_EQ(Get(id).status, RunStatus::kFailed);
  const outpost::Run before = Get(id);
  const std::size_t events = Stored(id).size();
  // Replayed after the end: identical -> acknowledged, new -> 409.
  ASSERT_OK_AND_ASSIGN(ChannelAppend resent, channel_->AppendEvents(id, token, v1_, Batch(1, 2)));
  EXPECT_EQ(resent.stored, 0);
  ASSERT_OK_AND_ASSIGN(bool again, channel_->ReportExit(id, token, v1_, exit));
  EXPECT_FALSE(again);
  Result<ChannelAppend> late = channel_->AppendEvents(id, token, v1_, Batch(1, events + 1));
  EXPECT_THAT(late, StatusIs(Code::kConflict, HasSubstr("has ended")));
  EXPECT_EQ(late.status().details().at("currentStatus"), "FAILED");
  EXPECT_THAT(channel_->ReportExit(id, token, v1_, ExitBody(0)), StatusIs(Code::kConflict));
  ExpectUnchanged(id, before, events);
  // Control still tells the supervisor where the run stands.
  ASSERT_OK_AND_ASSIGN(ChannelControl c, channel_->Control(id, token));
  EXPECT_EQ(c.status, RunStatus::kFailed);
}

TEST_F(RunChannelTest, ADifferentExitForARunningRunIs409AndKeepsTheFirst) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  ASSERT_OK(channel_->ReportExit(id, token, v1_, ExitBody(0)).status());
  const outpost::Run before = Get(id);
  EXPECT_THAT(channel_->ReportExit(id, token, v1_, ExitBody(1)), StatusIs(Code::kConflict));
  EXPECT_THAT(channel_->ReportExit(id, token, v1_, Obj(R"({"outcome":"exited"})")),
              StatusIs(Code::kInvalidArgument, HasSubstr("ended_at")));
  EXPECT_THAT(channel_->ReportExit(id, token, v1_,
                                   Obj(R"({"outcome":"","ended_at":"2026-12-06T10:00:00Z"})")),
              StatusIs(Code::kInvalidArgument));
  json::object mistyped = ExitBody(0);
  mistyped["exit_code"] = "0";
  EXPECT_THAT(channel_->ReportExit(id, token, v1_, mistyped), StatusIs(Code::kInvalidArgument));
  ExpectUnchanged(id, before, 0);
}

TEST_F(RunChannelTest, ControlTellsOfACancelAndTheDeadline) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  ASSERT_OK_AND_ASSIGN(ChannelControl c, channel_->Control(id, token));
  EXPECT_EQ(c.status, RunStatus::kRunning);
  EXPECT_FALSE(c.cancel_requested);
  ASSERT_TRUE(c.deadline_at);
  EXPECT_EQ(*c.deadline_at, *Get(id).started_at + 300s);
  RunService service(*store_, *agents_, clock_, opts_, supervisor_.get());
  RequestContext ctx;
  ctx.scopes = {"cancel"};
  ASSERT_OK(service.Cancel(id.str(), std::string("enough"), ctx).status());
  ASSERT_OK_AND_ASSIGN(ChannelControl after, channel_->Control(id, token));
  EXPECT_TRUE(after.cancel_requested);
  EXPECT_EQ(after.cancel_reason, "enough");
}

TEST_F(RunChannelTest, AThrottledStoreIs429WithRetryAfterAndNothingChanges) {
  RunId id = Start();
  const outpost::Run before = Get(id);
  throttled_->throttled = true;
  Result<ChannelAppend> r = channel_->AppendEvents(id, TokenOf(id), v1_, Batch(1, 1));
  ASSERT_THAT(r, StatusIs(Code::kResourceExhausted));
  EXPECT_EQ(r.status().details().at("retryAfterSeconds"), kChannelRetryAfterSeconds);
  throttled_->throttled = false;
  ExpectUnchanged(id, before, 0);
  EXPECT_TRUE(notified_.empty());
}

TEST(ChannelVersion, AnyOneDotXIsServedTwoAndMalformedAreRefusedNamingTheRange) {
  ASSERT_OK_AND_ASSIGN(ChannelVersion absent, ParseChannelVersion(std::nullopt));
  EXPECT_EQ(absent.major, 1);
  EXPECT_EQ(absent.minor, 0);
  ASSERT_OK_AND_ASSIGN(ChannelVersion newer, ParseChannelVersion("1.7"));
  EXPECT_EQ(newer.minor, 7);
  for (std::string bad : {"2.0", "0.9", "1", "1.", ".1", "v1.0", "1.x", "1.0.0", ""}) {
    EXPECT_THAT(ParseChannelVersion(bad), StatusIs(Code::kInvalidArgument, HasSubstr("1.x")))
        << bad;
  }
}

TEST_F(RunChannelTest, ANewerMinorsUnknownFieldsAreIgnoredThisMinorsRefused) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  json::object exit = ExitBody(0);
  exit["container_exit_reason"] = "EssentialContainerExited";  // a field of a 1.3 client
  json::object events = Batch(1, 1);
  events["compression"] = "none";
  const outpost::Run before = Get(id);
  EXPECT_THAT(channel_->ReportExit(id, token, v1_, exit),
              StatusIs(Code::kInvalidArgument, HasSubstr("validation")));
  EXPECT_THAT(channel_->AppendEvents(id, token, v1_, events), StatusIs(Code::kInvalidArgument));
  ExpectUnchanged(id, before, 0);
  const ChannelVersion newer{1, 3};
  ASSERT_OK(channel_->AppendEvents(id, token, newer, events).status());
  ASSERT_OK(channel_->ReportExit(id, token, newer, exit).status());
  // Stored as this server knows it: the resend of a 1.0 client with the known fields matches.
  ASSERT_OK_AND_ASSIGN(bool again, channel_->ReportExit(id, token, v1_, ExitBody(0)));
  EXPECT_FALSE(again);
  runner_.Lose(id.str(), 0);  // its supervisor is gone: the channel's exit is the run's
  supervisor_->Tick();
  EXPECT_EQ(Get(id).status, RunStatus::kCompleted);
}

// GET …/spec: what the supervisor would launch (Supervisor::SpecFor), without the channel.
TEST_F(RunChannelTest, SpecIsTheSupervisorsRunSpecForTheCurrentTokenOfARunningRun) {
  RunId id = Start();
  const std::string token = TokenOf(id);
  ASSERT_OK_AND_ASSIGN(RunSpec spec, channel_->Spec(id, token));
  const std::optional<RunSpec> launched = runner_.spec(id.str());
  ASSERT_TRUE(launched.has_value());
  EXPECT_EQ(spec.id, id);
  EXPECT_EQ(spec.argv, launched->argv);
  EXPECT_EQ(spec.env, launched->env);
  EXPECT_EQ(spec.limits.timeout_seconds, 300);
  EXPECT_FALSE(spec.channel.has_value());
  EXPECT_EQ(spec_calls_, 1);
}

TEST_F(RunChannelTest, SpecRefusesForgedStaleAndOtherRunsTokensAndEndedRuns) {
  RunId a = Start();
  RunId b = Start();
  const std::string token = TokenOf(a);
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string(), forged, std::string("garbage")}) {
    EXPECT_THAT(channel_->Spec(a, bad), StatusIs(Code::kUnauthenticated)) << bad;
  }
  EXPECT_THAT(channel_->Spec(a, TokenOf(b)), StatusIs(Code::kPermissionDenied));
  RunWriter writer(*store_);
  ASSERT_OK(IssueChannelToken(writer, a).status());
  EXPECT_THAT(channel_->Spec(a, token), StatusIs(Code::kUnauthenticated));  // stale
  // b ends: its spec is no longer served, and the answer says where it stands.
  const std::string token_b = TokenOf(b);
  ASSERT_OK(channel_->ReportExit(b, token_b, v1_, ExitBody(0)).status());
  runner_.Lose(b.str(), 0);  // its supervisor is gone: the channel's exit is the run's
  supervisor_->Tick();
  ASSERT_EQ(Get(b).status, RunStatus::kCompleted);
  Result<RunSpec> ended = channel_->Spec(b, token_b);
  EXPECT_THAT(ended, StatusIs(Code::kConflict, HasSubstr("RUNNING only")));
  EXPECT_EQ(ended.status().details().at("currentStatus"), "COMPLETED");
  EXPECT_EQ(spec_calls_, 0);
}

TEST_F(RunChannelTest, SpecWithoutASourceIsAFailedPrecondition) {
  RunId id = Start();
  RunChannel bare(*store_, *log_);
  EXPECT_THAT(bare.Spec(id, TokenOf(id)), StatusIs(Code::kFailedPrecondition));
}

}  // namespace
}  // namespace outpost
