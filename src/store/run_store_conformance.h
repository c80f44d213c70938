// RunStoreConformance: the RunStore contract (store/run_store.h) as one value-parameterized gtest
// suite that every backend runs. A backend's test instantiates it with a factory whose every call
// returns a fresh, empty store:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, RunStoreConformance,
//                            ::testing::Values(RunStoreFactory(&NewTempSqliteStore)));
//
// The header defines tests: include it from exactly one .cc per test binary.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <latch>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "store/run_store.h"

namespace outpost {

using RunStoreFactory = std::function<std::unique_ptr<RunStore>()>;

// Keeps gtest from dumping the factory's bytes in failure messages.
inline void PrintTo(const RunStoreFactory&, std::ostream* os) { *os << "RunStoreFactory"; }

class RunStoreConformance : public ::testing::TestWithParam<RunStoreFactory> {
 protected:
  using Run = ::outpost::Run;  // gtest's Test::Run() would hide it in test bodies

  void SetUp() override {
    store_ = GetParam()();
    ASSERT_NE(store_, nullptr);
  }

  // A PENDING run one second younger than the previous one: ids and created_at strictly increase
  // (and stay whole milliseconds, the precision runs are stored with).
  Run NewRun(std::string agent = "claude-code") {
    clock_.Advance(std::chrono::seconds(1));
    Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    r.agent = std::move(agent);
    r.model_id = "model-1";
    r.task = "fix the bug";
    r.request_hash = "hash-" + r.id.str();
    r.created_at = clock_.Now();
    return r;
  }

  // A run with every optional field set.
  Run FullRun() {
    Run r = NewRun("codex");
    r.tenant = "acme";
    r.status = RunStatus::kRunning;
    r.phase = RunPhase::kRunning;
    r.reason = "succeeded";
    r.repo = "acme/widgets";
    r.branch = "main";
    r.context = "full";
    r.timeout_seconds = 1200;
    r.inactivity_timeout_seconds = 300;
    r.max_cost_usd = 12.5;
    r.workspace_mode = "persistent";
    r.network = NetworkPolicy::kAllowlist;
    r.resources = {2048, 2, 10};
    r.additional_secrets = {"GITHUB_TOKEN", "NPM_TOKEN"};
    r.tags = {{"env", "prod"}, {"team", "core"}};
    r.idempotency_key = "key-1";
    r.group_id = "group-1";
    r.started_at = r.created_at + Millis(1500);
    r.ended_at = r.created_at + Millis(61'250);
    r.exit_code = 0;
    r.error_message = "none really";
    r.cancel_reason = "operator";
    r.cancel_requested_at = r.created_at + Millis(60'000);
    r.changes = Changes{"committed",
                        "abc123",
                        "def456",
                        {"src/a.cc", "README.md"},
                        {{"src/a.cc", 10, 2}, {"README.md", 1, 0}},
                        false};
    r.artifacts_state = ArtifactsState::kStored;
    r.artifacts = {{"summary.json", "metadata", "application/json", 345, "ff00"}};
    r.usage = Usage{1200, 3400, 0.125, "rates"};
    r.progress = 42;
    r.owner = "replica-7";
    r.key_id = "key-7";
    r.verify = "make test";
    r.verification = Verification{2, false, "FAIL: parser_test\n[REDACTED] \xc3\xa9\n", false};
    return r;
  }

  Run MustCreate(const Run& r) {
    auto c = store_->Create(r);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return r;
  }

  Run MustUpdate(const Run& r) {
    auto u = store_->Update(r);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? *u : r;
  }

  // Every id matching `q`, following cursors page by page.
  std::vector<std::string> ListAllIds(ListQuery q) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = store_->List(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const Run& r : page->runs) ids.push_back(r.id.str());
      if (!page->next_cursor) break;
      q.cursor = page->next_cursor;
    }
    return ids;
  }

  static std::vector<std::string> IdsOf(const std::vector<Run>& runs) {
    std::vector<std::string> ids;
    for (const Run& r : runs) ids.push_back(r.id.str());
    return ids;
  }

  static int Count(const RunStats& s, const std::string& agent, RunStatus status) {
    auto a = s.by_agent.find(agent);
    if (a == s.by_agent.end()) return 0;
    auto c = a->second.by_status.find(status);
    return c == a->second.by_status.end() ? 0 : c->second;
  }

  SimulatedClock clock_;
  std::unique_ptr<RunStore> store_;
};

TEST_P(RunStoreConformance, CreateThenGetRoundTripsEveryField) {
  const Run r = FullRun();
  auto created = store_->Create(r);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->run, r);
  auto got = store_->Get(r.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, r);
}

// Issue 23: the check command is kept from the dispatch on, and its result (written with the
// terminal status) reads back, a stopped check's null exit code and timedOut included.
TEST_P(RunStoreConformance, TheVerifyCommandAndItsVerificationPersist) {
  Run r = NewRun("shell");
  r.verify = "make test";
  MustCreate(r);
  auto got = store_->Get(r.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->verify, "make test");
  EXPECT_EQ(got->verification, std::nullopt);
  Run ended = *got;
  ended.status = RunStatus::kCompleted;
  ended.phase = RunPhase::kDone;
  ended.ended_at = clock_.Now();
  ended.verification = Verification{std::nullopt, false, "started\n[verify stopped]", true};
  MustUpdate(ended);
  got = store_->Get(r.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->verification.has_value());
  EXPECT_EQ(got->verification->exit_code, std::nullopt);
  EXPECT_FALSE(got->verification->passed);
  EXPECT_TRUE(got->verification->timed_out);
  EXPECT_EQ(got->verification->tail, "started\n[verify stopped]");
  EXPECT_EQ(got->status, RunStatus::kCompleted);
  // And one that passed, on another run.
  Run other = NewRun("shell");
  other.verify = "true";
  other.verification = Verification{0, true, "", false};
  MustCreate(other);
  EXPECT_EQ(store_->Get(other.id)->verification, other.verification);
}

TEST_P(RunStoreConformance, CreateWithExistingIdIsConflict) {
  Run r = MustCreate(NewRun());
  r.task = "another task";
  r.request_hash = "another hash";
  EXPECT_EQ(store_->Create(r).status().code(), Code::kConflict);
  EXPECT_EQ(store_->Get(r.id)->task, "fix the bug");
}

TEST_P(RunStoreConformance, GetOfUnknownIdIsNotFound) {
  EXPECT_EQ(store_->Get(RunId(NewUlid(clock_.Now()))).status().code(), Code::kNotFound);
}

TEST_P(RunStoreConformance, IdempotentReplayWithSameRequestReturnsStoredRun) {
  Run first = NewRun();
  first.idempotency_key = "k1";
  first.request_hash = "h1";
  MustCreate(first);
  Run again = NewRun();
  again.idempotency_key = "k1";
  again.request_hash = "h1";
  auto replay = store_->Create(again);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->run, first);
  EXPECT_EQ(store_->Get(again.id).status().code(), Code::kNotFound);
}

TEST_P(RunStoreConformance, IdempotencyKeyWithAnotherRequestIsConflict) {
  Run first = NewRun();
  first.idempotency_key = "k1";
  first.request_hash = "h1";
  MustCreate(first);
  Run other = NewRun();
  other.idempotency_key = "k1";
  other.request_hash = "h2";
  auto result = store_->Create(other);
  EXPECT_EQ(result.status().code(), Code::kConflict);
  EXPECT_NE(result.status().message().find("k1"), std::string::npos) << result.status().message();
  EXPECT_EQ(store_->Get(other.id).status().code(), Code::kNotFound);
}

TEST_P(RunStoreConformance, IdempotencyKeysAreScopedPerTenant) {
  Run a = NewRun();
  a.tenant = "tenant-a";
  a.idempotency_key = "k1";
  a.request_hash = "h1";
  Run b = NewRun();
  b.tenant = "tenant-b";
  b.idempotency_key = "k1";
  b.request_hash = "h2";
  auto ca = store_->Create(a);
  auto cb = store_->Create(b);
  ASSERT_TRUE(ca.ok() && cb.ok()) << ca.status().ToString() << cb.status().ToString();
  EXPECT_TRUE(ca->created);
  EXPECT_TRUE(cb->created);
  EXPECT_EQ(cb->run.id, b.id);
}

TEST_P(RunStoreConformance, UpdateBumpsVersionAndPersists) {
  Run r = MustCreate(NewRun());
  r.status = RunStatus::kRunning;
  r.phase = RunPhase::kRunning;
  r.started_at = r.created_at + Millis(250);
  r.owner = "replica-1";
  r.tags["added"] = "later";
  auto updated = store_->Update(r);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  Run expected = r;
  expected.version = r.version + 1;
  EXPECT_EQ(*updated, expected);
  EXPECT_EQ(*store_->Get(r.id), expected);

  expected.progress = 50;
  auto second = store_->Update(expected);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->version, r.version + 2);
  EXPECT_EQ(store_->Get(r.id)->progress, 50);
}

// The run channel's store-only fields (core/run_channel.h): the bootstrap token's hash is
// cleared by the exchange's conditional write, which a stale version loses.
TEST_P(RunStoreConformance, TheRunChannelsBootstrapFieldsPersistAndClear) {
  Run r = MustCreate(NewRun());
  r.channel_token_sha256 = std::string(64, 'a');
  r.channel_bootstrap_sha256 = std::string(64, 'b');
  r.channel_outputs = true;
  auto issued = store_->Update(r);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  auto read = store_->Get(r.id);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->channel_bootstrap_sha256, std::string(64, 'b'));
  EXPECT_TRUE(read->channel_outputs);
  Run exchanged = *read;
  exchanged.channel_token_sha256 = std::string(64, 'c');
  exchanged.channel_bootstrap_sha256.clear();
  ASSERT_TRUE(store_->Update(exchanged).ok());
  EXPECT_EQ(store_->Update(*read).status().code(), Code::kConflict);  // a second exchange loses
  read = store_->Get(r.id);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->channel_bootstrap_sha256, "");
  EXPECT_EQ(read->channel_token_sha256, std::string(64, 'c'));
  EXPECT_TRUE(read->channel_outputs);
}

TEST_P(RunStoreConformance, UpdateOfUnknownRunIsNotFound) {
  EXPECT_EQ(store_->Update(NewRun()).status().code(), Code::kNotFound);
}

TEST_P(RunStoreConformance, UpdateWithStaleVersionIsConflict) {
  Run r = MustCreate(NewRun());
  Run fresh = r;
  fresh.progress = 10;
  MustUpdate(fresh);
  Run stale = r;
  stale.progress = 99;
  auto result = store_->Update(stale);
  EXPECT_EQ(result.status().code(), Code::kConflict);
  auto got = store_->Get(r.id);
  EXPECT_EQ(got->progress, 10);
  EXPECT_EQ(got->version, r.version + 1);
}

TEST_P(RunStoreConformance, TerminalStatusIsWrittenOnce) {
  Run r = MustCreate(NewRun());
  r.status = RunStatus::kCompleted;
  Run done = MustUpdate(r);
  for (RunStatus next : {RunStatus::kFailed, RunStatus::kRunning, RunStatus::kCancelled}) {
    Run change = done;
    change.status = next;
    auto result = store_->Update(change);
    EXPECT_EQ(result.status().code(), Code::kConflict) << ToString(next);
    const auto& details = result.status().details();
    ASSERT_TRUE(details.contains("currentStatus")) << result.status().ToString();
    EXPECT_EQ(std::string(details.at("currentStatus").as_string()), "COMPLETED");
  }
  EXPECT_EQ(store_->Get(r.id)->status, RunStatus::kCompleted);
}

TEST_P(RunStoreConformance, TerminalRunAcceptsUpdatesThatKeepItsStatus) {
  Run r = MustCreate(NewRun());
  r.status = RunStatus::kCompleted;
  Run done = MustUpdate(r);
  done.usage = Usage{10, 20, 0.5, "agent"};
  Run again = MustUpdate(done);
  EXPECT_EQ(again.version, r.version + 2);
  EXPECT_EQ(store_->Get(r.id)->usage, done.usage);
}

TEST_P(RunStoreConformance, RacingTerminalWritersExactlyOneWins) {
  Run r = NewRun();
  r.status = RunStatus::kRunning;
  MustCreate(r);
  constexpr int kWriters = 8;
  const RunStatus kTerminal[] = {RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kTimeout,
                                 RunStatus::kCancelled};
  std::vector<Result<Run>> results(kWriters, Result<Run>(Internal("not run")));
  std::latch start(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      Run mine = r;
      mine.status = kTerminal[i % 4];
      mine.exit_code = i;
      start.arrive_and_wait();
      results[static_cast<std::size_t>(i)] = store_->Update(mine);
    });
  }
  for (auto& t : threads) t.join();
  int winners = 0;
  int winner = -1;
  for (int i = 0; i < kWriters; ++i) {
    const auto& res = results[static_cast<std::size_t>(i)];
    if (res.ok()) {
      ++winners;
      winner = i;
    } else {
      EXPECT_EQ(res.status().code(), Code::kConflict) << res.status().ToString();
    }
  }
  ASSERT_EQ(winners, 1);
  auto stored = store_->Get(r.id);
  EXPECT_EQ(stored->status, kTerminal[winner % 4]);
  EXPECT_EQ(stored->exit_code, winner);
  EXPECT_EQ(stored->version, r.version + 1);
}

TEST_P(RunStoreConformance, ListIsNewestFirstAcrossPages) {
  std::vector<std::string> created;
  for (int i = 0; i < 45; ++i) created.push_back(MustCreate(NewRun()).id.str());
  std::reverse(created.begin(), created.end());

  ListQuery q;
  q.limit = 20;
  std::vector<std::string> seen;
  std::vector<std::size_t> sizes;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = store_->List(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    sizes.push_back(page->runs.size());
    for (const Run& r : page->runs) seen.push_back(r.id.str());
    if (!page->next_cursor) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{20, 20, 5}));
  EXPECT_EQ(seen, created);
}

TEST_P(RunStoreConformance, ListPageEndingExactlyAtTheLastRunHasNoCursor) {
  for (int i = 0; i < 5; ++i) MustCreate(NewRun());
  ListQuery q;
  q.limit = 5;
  auto page = store_->List(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->runs.size(), 5u);
  EXPECT_FALSE(page->next_cursor.has_value());
}

TEST_P(RunStoreConformance, ListOfEmptyStoreIsEmpty) {
  auto page = store_->List(ListQuery{});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->runs.empty());
  EXPECT_FALSE(page->next_cursor.has_value());
}

TEST_P(RunStoreConformance, ListFiltersByEachField) {
  Run a = NewRun("claude-code");
  a.tenant = "t1";
  a.repo = "o/r1";
  a.group_id = "g1";
  Run b = NewRun("codex");
  b.tenant = "t2";
  b.status = RunStatus::kRunning;
  b.repo = "o/r2";
  Run c = NewRun("codex");
  c.tenant = "t1";
  c.status = RunStatus::kRunning;
  c.repo = "o/r1";
  c.group_id = "g2";
  for (const Run& r : {a, b, c}) MustCreate(r);
  const std::string A = a.id.str(), B = b.id.str(), C = c.id.str();
  using V = std::vector<std::string>;

  ListQuery q;
  q.tenant = "t1";
  EXPECT_EQ(ListAllIds(q), (V{C, A}));
  q = {};
  q.status = RunStatus::kRunning;
  EXPECT_EQ(ListAllIds(q), (V{C, B}));
  q = {};
  q.agent = "claude-code";
  EXPECT_EQ(ListAllIds(q), (V{A}));
  q = {};
  q.repo = "o/r1";
  EXPECT_EQ(ListAllIds(q), (V{C, A}));
  q = {};
  q.group_id = "g2";
  EXPECT_EQ(ListAllIds(q), (V{C}));
  q = {};
  q.since = b.created_at;
  EXPECT_EQ(ListAllIds(q), (V{C, B}));
  q = {};
  q.tenant = "t1";
  q.agent = "codex";
  q.status = RunStatus::kRunning;
  EXPECT_EQ(ListAllIds(q), (V{C}));
  q.repo = "o/r2";
  EXPECT_EQ(ListAllIds(q), V{});
}

TEST_P(RunStoreConformance, ListFiltersByArtifactsStateIncludingAfterTerminalUpdates) {
  Run a = MustCreate(NewRun("shell"));
  Run b = MustCreate(NewRun("shell"));
  MustCreate(NewRun("shell"));
  for (outpost::Run* r : {&a, &b}) {
    r->status = RunStatus::kCompleted;
    r->artifacts_state = ArtifactsState::kPending;
    *r = MustUpdate(*r);
  }
  ListQuery q;
  q.artifacts_state = ArtifactsState::kPending;
  q.limit = 1;  // across pages
  using V = std::vector<std::string>;
  EXPECT_EQ(ListAllIds(q), (V{b.id.str(), a.id.str()}));
  // The terminal run's record still takes the upload's result.
  b.artifacts_state = ArtifactsState::kStored;
  b.artifacts = {{"output.log", "output", "text/plain", 3, "abc"}};
  b = MustUpdate(b);
  EXPECT_EQ(ListAllIds(q), (V{a.id.str()}));
  auto got = store_->Get(b.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->artifacts, b.artifacts);
  EXPECT_EQ(got->status, RunStatus::kCompleted);
}

TEST_P(RunStoreConformance, ListTagFiltersCombineWithAnd) {
  Run a = NewRun();
  a.tags = {{"env", "prod"}, {"team", "x"}};
  Run b = NewRun();
  b.tags = {{"env", "prod"}, {"team", "y"}};
  Run c = NewRun();
  c.tags = {{"env", "dev"}, {"team", "x"}};
  for (const Run& r : {a, b, c}) MustCreate(r);
  using V = std::vector<std::string>;

  ListQuery q;
  q.tags = {{"env", "prod"}};
  EXPECT_EQ(ListAllIds(q), (V{b.id.str(), a.id.str()}));
  q.tags = {{"env", "prod"}, {"team", "x"}};
  EXPECT_EQ(ListAllIds(q), (V{a.id.str()}));
  q.tags = {{"team", "x"}, {"env", "dev"}};
  EXPECT_EQ(ListAllIds(q), (V{c.id.str()}));
  q.tags = {{"env", "prod"}, {"team", "z"}};
  EXPECT_EQ(ListAllIds(q), V{});
  q.tags = {{"x", "prod"}};
  EXPECT_EQ(ListAllIds(q), V{});
}

TEST_P(RunStoreConformance, ListFiltersHoldAcrossPages) {
  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) {
    Run r = NewRun(i % 2 == 0 ? "even" : "odd");
    if (i % 3 == 0) r.tags["every"] = "third";
    MustCreate(r);
    if (i % 2 == 0 && i % 3 == 0) expected.push_back(r.id.str());
  }
  std::reverse(expected.begin(), expected.end());
  ListQuery q;
  q.limit = 2;
  q.agent = "even";
  q.tags = {{"every", "third"}};
  EXPECT_EQ(ListAllIds(q), expected);
}

TEST_P(RunStoreConformance, ListWithMalformedCursorIsInvalidArgument) {
  MustCreate(NewRun());
  for (const char* bad : {"%%% not a cursor %%%", "AAAA", "Zm9v"}) {
    ListQuery q;
    q.cursor = bad;
    auto page = store_->List(q);
    EXPECT_EQ(page.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST_P(RunStoreConformance, ListActiveReturnsPendingAndRunningOldestFirst) {
  auto with_status = [&](RunStatus s) {
    Run r = NewRun();
    r.status = s;
    return MustCreate(r);
  };
  Run p1 = with_status(RunStatus::kPending);
  with_status(RunStatus::kCompleted);
  Run r1 = with_status(RunStatus::kRunning);
  with_status(RunStatus::kFailed);
  with_status(RunStatus::kCancelled);
  Run p2 = with_status(RunStatus::kPending);
  with_status(RunStatus::kTimeout);
  auto active = store_->ListActive();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_EQ(IdsOf(*active), (std::vector<std::string>{p1.id.str(), r1.id.str(), p2.id.str()}));
}

TEST_P(RunStoreConformance, ChangeMarkerMovesWithEveryRunWriteAndOnlyThen) {
  auto marker = [&] {
    auto m = store_->ChangeMarker();
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_TRUE(m.ok() && m->has_value()) << "this backend keeps no change marker";
    return m.ok() && m->has_value() ? **m : std::int64_t{-1};
  };
  const std::int64_t start = marker();
  Run run = MustCreate(NewRun());
  const std::int64_t created = marker();
  EXPECT_NE(created, start) << "Create";
  // Reads and replica heartbeats are not changes of runs.
  ASSERT_TRUE(store_->Get(run.id).ok());
  ASSERT_TRUE(store_->ListActive().ok());
  ASSERT_TRUE(store_->List(ListQuery{}).ok());
  ReplicaInfo replica;
  replica.id = "r1";
  replica.heartbeat_at = clock_.Now();
  ASSERT_TRUE(store_->Heartbeat(replica).ok());
  ASSERT_TRUE(store_->ListReplicas().ok());
  EXPECT_EQ(marker(), created) << "reads moved it";
  // Any update (not only of the status: a cancel request) moves it.
  run.cancel_requested_at = clock_.Now();
  auto updated = store_->Update(run);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  const std::int64_t cancelled = marker();
  EXPECT_NE(cancelled, created) << "Update";
  // A refused update (a stale version) changes nothing, and leaves it.
  run.cancel_reason = "stale";
  EXPECT_EQ(store_->Update(run).status().code(), Code::kConflict);
  EXPECT_EQ(marker(), cancelled) << "a refused Update moved it";
  auto all = store_->CreateAll({NewRun(), NewRun()}, Admission{});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_NE(marker(), cancelled) << "CreateAll";
  // The marker is no run: listings hold only the three runs.
  auto active = store_->ListActive();
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->size(), 3u);
  auto page = store_->List(ListQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->runs.size(), 3u);
}

TEST_P(RunStoreConformance, StatsCountRunsCreatedSinceByAgentAndStatus) {
  auto add = [&](const std::string& agent, RunStatus s, std::optional<int> duration_ms) {
    Run r = NewRun(agent);
    r.status = s;
    if (duration_ms) {
      r.started_at = r.created_at + Millis(100);
      r.ended_at = *r.started_at + Millis(*duration_ms);
    }
    return MustCreate(r);
  };
  add("a", RunStatus::kCompleted, 99'000);  // before `since`: not counted
  const WallTime since = clock_.Now() + Millis(1);
  add("a", RunStatus::kCompleted, 1000);
  add("a", RunStatus::kCompleted, 3000);
  add("a", RunStatus::kFailed, 500);  // a duration, but not a COMPLETED one
  add("a", RunStatus::kPending, std::nullopt);
  add("b", RunStatus::kRunning, std::nullopt);

  auto stats = store_->Stats(since, std::nullopt);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(Count(*stats, "a", RunStatus::kCompleted), 2);
  EXPECT_EQ(Count(*stats, "a", RunStatus::kFailed), 1);
  EXPECT_EQ(Count(*stats, "a", RunStatus::kPending), 1);
  EXPECT_EQ(Count(*stats, "a", RunStatus::kRunning), 0);
  EXPECT_EQ(Count(*stats, "b", RunStatus::kRunning), 1);
  EXPECT_EQ(stats->by_agent.at("a").completed_count, 2);
  EXPECT_EQ(stats->by_agent.at("a").completed_duration_ms_total, 4000);
  EXPECT_EQ(stats->by_agent.at("b").completed_count, 0);
  EXPECT_EQ(stats->by_agent.count("c"), 0u);
}

TEST_P(RunStoreConformance, StatsOfOneTenantCountOnlyItsRuns) {
  const WallTime since = clock_.Now();
  auto add = [&](const std::string& tenant, RunStatus s) {
    Run r = NewRun("a");
    r.tenant = tenant;
    r.status = s;
    return MustCreate(r);
  };
  add("acme", RunStatus::kCompleted);
  add("acme", RunStatus::kFailed);
  add("other", RunStatus::kCompleted);
  add("other", RunStatus::kCompleted);

  auto acme = store_->Stats(since, std::string("acme"));
  ASSERT_TRUE(acme.ok()) << acme.status().ToString();
  EXPECT_EQ(Count(*acme, "a", RunStatus::kCompleted), 1);
  EXPECT_EQ(Count(*acme, "a", RunStatus::kFailed), 1);
  auto all = store_->Stats(since, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Count(*all, "a", RunStatus::kCompleted), 3);
  auto nobody = store_->Stats(since, std::string("nobody"));
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->by_agent.empty());
}

// A tenant's daily budget (issue 18 item 11): the cost of its runs created since, those without
// usage counting nothing, other tenants' and older runs not at all.
TEST_P(RunStoreConformance, CostSinceSumsOneTenantsRunsCreatedSince) {
  auto add = [&](const std::string& tenant, std::optional<double> cost) {
    Run r = NewRun("a");
    r.tenant = tenant;
    if (cost) r.usage = Usage{10, 20, *cost, "rates"};
    return MustCreate(r);
  };
  add("acme", 5.0);  // before `since`
  const WallTime since = clock_.Now() + Millis(1);
  add("acme", 0.25);
  add("acme", 1.5);
  add("acme", std::nullopt);
  add("other", 7.0);
  auto acme = store_->CostSince(since, "acme");
  ASSERT_TRUE(acme.ok()) << acme.status().ToString();
  EXPECT_DOUBLE_EQ(*acme, 1.75);
  auto nobody = store_->CostSince(since, "nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  EXPECT_EQ(*nobody, 0);
}

TEST_P(RunStoreConformance, ReplicaHeartbeatsInsertThenReplaceAndListSortedById) {
  auto list = store_->ListReplicas();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_TRUE(list->empty());
  ReplicaInfo b{"replica-b", "host-b", "http://127.0.0.1:2", "0.1.0", clock_.Now(), clock_.Now(),
                3,           16};
  ReplicaInfo a = b;
  a.id = "replica-a";
  a.host = "host-a";
  ASSERT_TRUE(store_->Heartbeat(b).ok());
  ASSERT_TRUE(store_->Heartbeat(a).ok());
  clock_.Advance(std::chrono::seconds(5));
  b.heartbeat_at = clock_.Now();
  b.running = 4;
  ASSERT_TRUE(store_->Heartbeat(b).ok());
  list = store_->ListReplicas();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], a);
  EXPECT_EQ((*list)[1], b);
}

// A SIGTERM drain: the record says draining, then left; a restart under the same id serves again.
TEST_P(RunStoreConformance, AReplicasDrainingAndLeftStatesRoundTrip) {
  ReplicaInfo r{"replica-a", "host-a", "http://127.0.0.1:1", "0.1.0", clock_.Now(), clock_.Now(),
                1,           16};
  for (auto [draining, left] : {std::pair{true, false}, {true, true}, {false, false}}) {
    r.draining = draining;
    r.left = left;
    ASSERT_TRUE(store_->Heartbeat(r).ok());
    auto list = store_->ListReplicas();
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0], r) << "draining " << draining << ", left " << left;
  }
}

TEST_P(RunStoreConformance, PingSucceeds) { EXPECT_TRUE(store_->Ping().ok()); }

}  // namespace outpost

// Admission (CreateAll under quotas): part of the same suite.
#include "store/run_store_admission_tests.h"  // IWYU pragma: keep
