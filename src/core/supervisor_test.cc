// The Supervisor driven step by step: a real SQLite store, a FakeRunner for the shims, a
// SimulatedClock, and Tick() called by the test (no loop thread, no sleeps).
#include "core/supervisor.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <functional>

#include "artifacts/local/local_artifact_store.h"
#include "artifacts/local/url_signer.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "core/artifact_uploader.h"
#include "core/event_follower.h"
#include "core/event_pump.h"
#include "core/fake_runner_for_test.h"
#include "core/run_channel.h"
#include "core/run_events.h"
#include "core/run_service.h"
#include "secrets/secret_store.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_run_store.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("supervisor-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_ + "/runs");
    auto s = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    opts_ = DefaultOptions();
    opts_.data_dir = root_;
    opts_.runner = RunnerKind::kProcess;
    opts_.replica_id = "replica-a";
    opts_.max_concurrent_runs = 16;
    opts_.lease_seconds = 15;
    AgentOptions other = opts_.agents.at("shell");
    other.name = "other";
    opts_.agents["other"] = other;
    runner_ = std::make_unique<FakeRunner>();
    auto log = SqliteEventLog::Open(root_ + "/runs.db");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    events_ = std::move(*log);
    // No thread: the supervisor's Flush copies a run's journal when it ends.
    pump_ = std::make_unique<EventPump>(*runner_, *events_, clock_, nullptr);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A supervisor for `opts` (kept alive by the fixture), recovered and ready to Tick.
  std::unique_ptr<Supervisor> Make(const Options& given, const SecretStore* secrets = nullptr) {
    const Options& opts = *options_.emplace_back(std::make_unique<Options>(given));
    registries_.push_back(std::make_unique<AgentRegistry>(opts));
    auto s =
        std::make_unique<Supervisor>(*store_, *runner_, *registries_.back(), clock_, opts, secrets);
    s->SetEvents(events_.get(), pump_.get(), nullptr);
    Status st = s->Recover();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  std::unique_ptr<Supervisor> Make() { return Make(opts_); }
  Options OptionsOf(std::string replica) {
    Options o = opts_;
    o.replica_id = std::move(replica);
    return o;
  }

  // A dispatched run, as RunService creates it: PENDING, queued at `owner`.
  RunId Queue(std::string agent = "shell", std::string owner = "replica-a",
              RunPhase phase = RunPhase::kQueued,
              std::function<void(outpost::Run&)> edit = nullptr) {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(1ms);  // ids, and so FIFO order, follow dispatch order
    r.agent = std::move(agent);
    r.model_id = "shell";
    r.task = "echo hi";
    r.timeout_seconds = 300;
    r.inactivity_timeout_seconds = 60;
    r.created_at = clock_.Now();
    r.owner = std::move(owner);
    r.phase = phase;
    if (edit) edit(r);
    auto c = store_->Create(r);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return r.id;
  }
  outpost::Run Get(const RunId& id) {
    auto r = store_->Get(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : outpost::Run{};
  }
  RunStatus StatusOf(const RunId& id) { return Get(id).status; }
  static std::vector<std::string> Ids(std::initializer_list<RunId> ids) {
    std::vector<std::string> out;
    for (const RunId& id : ids) out.push_back(id.str());
    return out;
  }
  ExitRecord Exited(int code) {
    ExitRecord rec;
    rec.outcome = ExitOutcome::kExited;
    rec.exit_code = code;
    rec.started_at = clock_.Now() - 2s;
    rec.ended_at = clock_.Now();
    return rec;
  }
  ExitRecord Outcome(ExitOutcome outcome) {
    ExitRecord rec;
    rec.outcome = outcome;
    rec.started_at = clock_.Now() - 2s;
    rec.ended_at = clock_.Now();
    return rec;
  }

  std::string root_;
  SimulatedClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<SqliteRunStore> store_;
  Options opts_;
  std::vector<std::unique_ptr<Options>> options_;  // a Supervisor keeps a reference to its own
  std::vector<std::unique_ptr<AgentRegistry>> registries_;
  std::unique_ptr<FakeRunner> runner_;
  std::unique_ptr<SqliteEventLog> events_;
  std::unique_ptr<EventPump> pump_;
  std::vector<RunEvent> Logged(const RunId& id) {
    auto batch = events_->Read(id.str(), 0, 10000);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? batch->events : std::vector<RunEvent>{};
  }
};

TEST_F(SupervisorTest, AdmitsInDispatchOrderUpToTheGlobalLimit) {
  opts_.max_concurrent_runs = 2;
  auto sup = Make();
  RunId a = Queue(), b = Queue(), c = Queue();
  sup->Tick();
  EXPECT_EQ(runner_->started(), Ids({a, b}));
  EXPECT_EQ(StatusOf(a), RunStatus::kRunning);
  EXPECT_EQ(StatusOf(b), RunStatus::kRunning);
  EXPECT_EQ(StatusOf(c), RunStatus::kPending);
  outpost::Run admitted = Get(a);
  EXPECT_EQ(admitted.phase, RunPhase::kPreparing);
  EXPECT_EQ(admitted.owner, "replica-a");
  EXPECT_EQ(admitted.progress, 2);
  SupervisorSnapshot snap = sup->Snapshot();
  EXPECT_EQ(snap.running, 2);
  EXPECT_EQ(snap.queued, 1);
  EXPECT_EQ(snap.queued_by_agent["shell"], 1);

  // The first one finishes: its room goes to the next in line, in the same pass.
  runner_->Exit(a.str(), Exited(0));
  sup->Tick();
  EXPECT_EQ(StatusOf(a), RunStatus::kCompleted);
  EXPECT_EQ(runner_->started(), Ids({a, b, c}));
  EXPECT_EQ(sup->Snapshot().queued, 0);
}

TEST_F(SupervisorTest, PerAgentLimitsHoldBackOnlyThatAgent) {
  opts_.agents["shell"].max_concurrent = 1;
  opts_.agents["other"].max_concurrent = 2;
  auto sup = Make();
  RunId s1 = Queue("shell"), s2 = Queue("shell"), o1 = Queue("other"), o2 = Queue("other"),
        o3 = Queue("other");
  sup->Tick();
  EXPECT_EQ(runner_->started(), Ids({s1, o1, o2}));
  EXPECT_EQ(StatusOf(s2), RunStatus::kPending);
  EXPECT_EQ(StatusOf(o3), RunStatus::kPending);
  SupervisorSnapshot snap = sup->Snapshot();
  EXPECT_EQ(snap.running_by_agent["shell"], 1);
  EXPECT_EQ(snap.running_by_agent["other"], 2);
  EXPECT_EQ(snap.queued_by_agent["shell"], 1);
  EXPECT_EQ(snap.queued_by_agent["other"], 1);

  runner_->Exit(o1.str(), Exited(1));
  sup->Tick();
  EXPECT_EQ(StatusOf(o1), RunStatus::kFailed);
  EXPECT_EQ(runner_->started(), Ids({s1, o1, o2, o3}));  // shell still waits for s1
  EXPECT_EQ(StatusOf(s2), RunStatus::kPending);
}

TEST_F(SupervisorTest, ARunGoesThroughItsPhasesToCompleted) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  std::optional<RunSpec> spec = runner_->spec(id.str());
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->limits.timeout_seconds, 300);
  EXPECT_EQ(spec->limits.inactivity_timeout_seconds, 60);
  EXPECT_EQ(spec->argv.back(), "echo hi");

  const WallTime agent_start = clock_.Now() + 1s;
  runner_->AgentStarted(id.str(), agent_start);
  clock_.Advance(2s);
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.phase, RunPhase::kRunning);
  EXPECT_EQ(r.started_at, agent_start);
  EXPECT_GE(r.progress, 5);

  // Progress comes from what the run reports (Runner::Progress), not from reading its files.
  const int before = r.progress;
  RunProgress reported;
  reported.turns = 6;
  reported.collecting = true;
  runner_->Report(id.str(), reported);
  clock_.Advance(30s);
  sup->Tick();
  EXPECT_GT(Get(id).progress, before);

  ExitRecord rec = Exited(0);
  runner_->Exit(id.str(), rec);
  sup->Tick();
  r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.reason, std::string(reason::kSucceeded));
  EXPECT_EQ(r.phase, RunPhase::kDone);
  EXPECT_EQ(r.progress, 100);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.ended_at, rec.ended_at);
  EXPECT_EQ(r.artifacts_state, ArtifactsState::kNone);  // no uploader
  EXPECT_FALSE(r.error_message);
}

// A run whose task shares no files with the control plane (Runner::OutputsOverChannel): its
// launch carries a one-use bootstrap token (the record keeps its hash), the record remembers
// that its outputs go over the channel, the runner is never asked for its start, progress or
// changes, and its changes come with its exit record.
TEST_F(SupervisorTest, ARunWhoseOutputsGoOverTheChannelTakesItsChangesFromItsExit) {
  runner_->SetOutputsOverChannel(true);
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  std::optional<RunSpec> spec = runner_->spec(id.str());
  ASSERT_TRUE(spec && spec->channel);
  EXPECT_FALSE(spec->channel->bootstrap_token.empty());
  EXPECT_NE(spec->channel->bootstrap_token, spec->channel->token);
  outpost::Run r = Get(id);
  EXPECT_EQ(r.channel_bootstrap_sha256, ChannelTokenHash(spec->channel->bootstrap_token));
  EXPECT_EQ(r.channel_token_sha256, ChannelTokenHash(spec->channel->token));
  EXPECT_TRUE(r.channel_outputs);
  clock_.Advance(30s);
  sup->Tick();
  ExitRecord rec = Exited(0);
  rec.changes =
      boost::json::object{{"kind", "uncommitted"}, {"before_sha", std::string(40, 'a')},
                          {"after_sha", nullptr},  {"files_changed", boost::json::array{"NEW.txt"}},
                          {"patch", true},         {"bundle", false},
                          {"redacted", false},     {"stats", boost::json::array{}}};
  runner_->Exit(id.str(), rec);
  sup->Tick();
  r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  ASSERT_TRUE(r.changes);
  EXPECT_EQ(r.changes->kind, "uncommitted");
  EXPECT_EQ(r.changes->files_changed, std::vector<std::string>{"NEW.txt"});
  EXPECT_EQ(runner_->asked_for_outputs(), 0);
}

// Audit F9 (item 2): tenant A's run of a private GitHub repo carries A's own token; tenant B's
// run of the very same URL carries neither A's nor the operator's (which only the operator's
// own runs, tenant "default", get — or every tenant once the operator shares it), and every
// tenant's runs use a mirror of their own (item 2 of the brief: no objects fetched with A's token
// serve B). Before the fix each of them got GITHUB_TOKEN and <data>/repos.
TEST_F(SupervisorTest, F9_ATenantsCloneCarriesItsOwnTokenAndUsesItsOwnMirror) {
  const std::string tenant_a = NewUlid(clock_.Now()), tenant_b = NewUlid(clock_.Now() + 1s);
  EnvSecretStore secrets({{"OUTPOST_SECRET_GITHUB_TOKEN", "ghp_OPERATORtoken0123456789"},
                          {"OUTPOST_SECRET_A_GITHUB_TOKEN", "ghp_TENANTAtoken0123456789"}});
  opts_.git_tenant_hosts[tenant_a]["github.com"] = "A_GITHUB_TOKEN";
  auto run_of = [&](const std::string& tenant) {
    return [tenant](outpost::Run& r) {
      r.tenant = tenant;
      r.repo = "acme/private";
    };
  };
  auto sup = Make(opts_, &secrets);
  RunId a = Queue("shell", "replica-a", RunPhase::kQueued, run_of(tenant_a));
  RunId b = Queue("shell", "replica-a", RunPhase::kQueued, run_of(tenant_b));
  RunId op = Queue("shell", "replica-a", RunPhase::kQueued, run_of("default"));
  sup->Tick();
  auto repo = [&](const RunId& id) {
    std::optional<RunSpec> spec = runner_->spec(id.str());
    EXPECT_TRUE(spec && spec->repo) << id.str();
    return spec && spec->repo ? *spec->repo : RepoCheckout{};
  };
  EXPECT_EQ(repo(a).git_token, "ghp_TENANTAtoken0123456789");
  EXPECT_EQ(repo(a).git_token_url, "https://github.com");
  EXPECT_FALSE(repo(b).git_token.has_value()) << *repo(b).git_token;
  EXPECT_FALSE(repo(b).git_token_url.has_value());
  EXPECT_EQ(repo(op).git_token, "ghp_OPERATORtoken0123456789");
  // One mirror cache per tenant.
  const std::string repos = fs::absolute(root_ + "/repos").string();
  EXPECT_EQ(repo(a).cache_dir, repos + "/" + tenant_a);
  EXPECT_EQ(repo(b).cache_dir, repos + "/" + tenant_b);
  EXPECT_EQ(repo(op).cache_dir, repos + "/default");

  // The operator shares its github.com token: B gets it; A keeps its own.
  Options shared = opts_;
  shared.git_shared_hosts.insert("github.com");
  auto sup2 = Make(shared, &secrets);
  RunId a2 = Queue("shell", "replica-a", RunPhase::kQueued, run_of(tenant_a));
  RunId b2 = Queue("shell", "replica-a", RunPhase::kQueued, run_of(tenant_b));
  sup2->Tick();
  EXPECT_EQ(repo(a2).git_token, "ghp_TENANTAtoken0123456789");
  EXPECT_EQ(repo(b2).git_token, "ghp_OPERATORtoken0123456789");
}

// The run's stream in the event log: the journal's events (copied by the pump, with their seqs)
// and then the terminal status and end, once however often they are asked for; a follower
// reads it to the end.
TEST_F(SupervisorTest, TheTerminalEventsFollowTheRunsOwnOnce) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  runner_->Emit(id.str(), clock_.Now(), "phase", {{"phase", "running"}});
  runner_->Emit(id.str(), clock_.Now(), "output", {{"stream", "stdout"}, {"data", "hi\n"}});
  ASSERT_TRUE(pump_->Flush(id).ok());
  EventFollower follower(*store_, *events_, nullptr, clock_, id, 0);
  auto first = follower.Next(1 << 20);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 2u);
  EXPECT_FALSE(follower.ended());

  runner_->Emit(id.str(), clock_.Now(), "output", {{"stream", "stdout"}, {"data", "bye\n"}});
  runner_->Exit(id.str(), Exited(0));
  sup->Tick();
  sup->Tick();
  std::vector<RunEvent> events = Logged(id);
  ASSERT_EQ(events.size(), 5u);
  auto journal = runner_->ReadEvents(id, 0, 1 << 20);
  ASSERT_TRUE(journal.ok());
  ASSERT_EQ(journal->events.size(), 3u);  // the runner's journal has no end: the log has
  EXPECT_EQ(std::vector<RunEvent>(events.begin(), events.begin() + 3), journal->events);
  EXPECT_EQ(events[3].type, "status");
  EXPECT_NE(events[3].json.find("\"status\":\"COMPLETED\""), std::string::npos);
  EXPECT_EQ(events[4].type, "end");
  EXPECT_TRUE(events[4].json.find("\"ts\":\"" + FormatTime(*Get(id).ended_at)) !=
              std::string::npos);
  // A reader repairing a log that lacks its end appends nothing to one that has it.
  EXPECT_EQ(AppendTerminalEvents(*events_, Get(id)).value(), 5);
  EXPECT_EQ(Logged(id).size(), 5u);

  auto rest = follower.Next(1 << 20);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ(rest->back().seq, 5);
  EXPECT_TRUE(follower.ended());
}

// A run that ended before the shared event log existed (an upgrade from a server that kept
// events in the run's journal only, its status and end included): its logs and events are read
// from that journal, copied into the log once — never a bare status + end in an empty log.
TEST_F(SupervisorTest, ARunThatEndedBeforeTheEventLogExistedIsReadFromItsJournal) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  runner_->Emit(id.str(), clock_.Now(), "phase", {{"phase", "running"}});
  runner_->Emit(id.str(), clock_.Now(), "output", {{"stream", "stdout"}, {"data", "old\n"}});
  runner_->Emit(id.str(), clock_.Now(), "status", {{"status", "COMPLETED"}, {"phase", "done"}});
  runner_->Emit(id.str(), clock_.Now(), "end", {{"status", "COMPLETED"}});
  // The earlier server ended it (its terminal write), and its journal holds the whole story.
  outpost::Run run = Get(id);
  run.status = RunStatus::kCompleted;
  run.phase = RunPhase::kDone;
  run.reason = "succeeded";
  run.ended_at = clock_.Now();
  ASSERT_TRUE(store_->Update(run).ok());
  ASSERT_TRUE(Logged(id).empty());

  RunService service(*store_, *registries_.back(), clock_, *options_.back(), sup.get());
  service.SetEventLog(events_.get(), nullptr);
  service.SetJournalImport([this](const RunId& run_id) { return pump_->Flush(run_id); });
  auto page = service.Logs(id.str(), 0, 100, RequestContext{});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_FALSE(page->entries.empty());
  EXPECT_EQ(page->entries[0].message, "old");
  auto follower = service.Follow(id.str(), 0, RequestContext{});
  ASSERT_TRUE(follower.ok()) << follower.status().ToString();
  auto events = (*follower)->Next(1 << 20);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  auto journal = runner_->ReadEvents(id, 0, 1 << 20);
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ(*events, journal->events);  // seq 4 is its end; nothing was added
  EXPECT_TRUE((*follower)->ended());
  EXPECT_EQ(Logged(id), journal->events);
}

// A run that reports over the run channel has events in the log that the channel stored, the
// same seqs as its journal: the pump, copying the journal at the end, finds them there (a
// conflict) and copies only what follows, each event once.
TEST_F(SupervisorTest, ThePumpCopiesOnlyWhatFollowsTheEventsTheChannelStored) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  runner_->Emit(id.str(), clock_.Now(), "phase", {{"phase", "running"}});
  ASSERT_TRUE(pump_->Flush(id).ok());  // seq 1 copied: the pump knows where the log stands
  for (const char* line : {"a\n", "b\n", "c\n"}) {
    runner_->Emit(id.str(), clock_.Now(), "output", {{"stream", "stdout"}, {"data", line}});
  }
  auto journal = runner_->ReadEvents(id, 1, 1 << 20);
  ASSERT_TRUE(journal.ok());
  ASSERT_EQ(journal->events.size(), 3u);
  // The channel stored seqs 2 and 3 meanwhile (as POST …/events does), in its own form (not
  // byte for byte the journal's lines): appending the journal's seq 2 again is a conflict.
  std::vector<RunEvent> stored;
  for (int i = 0; i < 2; ++i) {
    RunEvent e = journal->events[i];
    boost::json::object o = boost::json::parse(e.json).as_object();
    o["via"] = "channel";
    e.json = boost::json::serialize(o);
    stored.push_back(std::move(e));
  }
  ASSERT_TRUE(events_->Append(id.str(), stored).ok());
  ASSERT_TRUE(pump_->Flush(id).ok());
  std::vector<RunEvent> logged = Logged(id);
  ASSERT_EQ(logged.size(), 4u);
  for (std::size_t i = 0; i < logged.size(); ++i) EXPECT_EQ(logged[i].seq, std::int64_t(i) + 1);
  EXPECT_EQ(logged[1], stored[0]);  // what the log held stays
  EXPECT_EQ(logged[2], stored[1]);
  EXPECT_EQ(logged[3], journal->events[2]);  // copied after them, not lost to the conflict
}

// A restarted control plane's pump resumes from the log's Tail: every journal event is in the
// log once, with its seq, also when the log refused appends for a while (kUnavailable, retried
// with backoff on the clock).
class FlakyEventLog final : public EventLog {
 public:
  explicit FlakyEventLog(EventLog& base) : base_(base) {}
  Result<EventAppend> Append(std::string_view run, const std::vector<RunEvent>& events) override {
    if (fail_appends_ > 0) {
      --fail_appends_;
      return Unavailable("throttled");
    }
    ++appends_;
    return base_.Append(run, events);
  }
  Result<EventBatch> Read(std::string_view run, std::int64_t after, int limit,
                          std::size_t max_bytes) override {
    return base_.Read(run, after, limit, max_bytes);
  }
  Result<EventLogTail> Tail(std::string_view run) override {
    ++tails_;
    return base_.Tail(run);
  }
  Status Remove(std::string_view run) override { return base_.Remove(run); }
  int fail_appends_ = 0;
  int appends_ = 0;
  int tails_ = 0;

 private:
  EventLog& base_;
};

TEST_F(SupervisorTest, ThePumpCopiesEveryEventOnceAcrossARestartAndRetriesAnUnavailableLog) {
  FlakyEventLog flaky(*events_);
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  for (int i = 0; i < 3; ++i) {
    runner_->Emit(id.str(), clock_.Now(), "output",
                  {{"stream", "stdout"}, {"data", "a" + std::to_string(i) + "\n"}});
  }
  {
    EventPump first(*runner_, flaky, clock_, nullptr);
    ASSERT_TRUE(first.Flush(id).ok());
    EXPECT_EQ(first.stats().events, 3);
  }  // the control plane dies
  for (int i = 0; i < 2; ++i) {
    runner_->Emit(id.str(), clock_.Now(), "output",
                  {{"stream", "stdout"}, {"data", "b" + std::to_string(i) + "\n"}});
  }
  clock_.set_advance_on_sleep(true);
  flaky.fail_appends_ = 3;
  EventPump second(*runner_, flaky, clock_, nullptr);
  const int tails = flaky.tails_;
  ASSERT_TRUE(second.Flush(id, Millis(10'000)).ok());
  EXPECT_EQ(flaky.tails_, tails + 1);  // adopted where the log stands
  EXPECT_EQ(second.stats().events, 2);
  EXPECT_EQ(second.stats().failures, 3);
  EXPECT_EQ(clock_.sleeps(), (std::vector<Millis>{Millis(100), Millis(200), Millis(400)}));
  // A resend of what is stored is acknowledged, not doubled.
  EventPump third(*runner_, flaky, clock_, nullptr);
  ASSERT_TRUE(third.Flush(id).ok());
  EXPECT_EQ(third.stats().events, 0);
  auto journal = runner_->ReadEvents(id, 0, 1 << 20);
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ(Logged(id), journal->events);
  EXPECT_EQ(Logged(id).size(), 5u);
}

// A log that stays unavailable: the run is not ended (its events would be lost behind the end)
// until the log takes them.
TEST_F(SupervisorTest, ARunEndsOnlyOnceItsWholeJournalIsInTheLog) {
  FlakyEventLog flaky(*events_);
  EventPump pump(*runner_, flaky, clock_, nullptr);
  auto sup = Make();
  sup->SetEvents(&flaky, &pump, nullptr);
  clock_.set_advance_on_sleep(true);
  RunId id = Queue();
  sup->Tick();
  runner_->Emit(id.str(), clock_.Now(), "output", {{"stream", "stdout"}, {"data", "x\n"}});
  runner_->Exit(id.str(), Exited(0));
  flaky.fail_appends_ = 1000;
  sup->Tick();
  EXPECT_EQ(StatusOf(id), RunStatus::kRunning);
  EXPECT_TRUE(Logged(id).empty());
  flaky.fail_appends_ = 0;
  sup->Tick();
  EXPECT_EQ(StatusOf(id), RunStatus::kCompleted);
  std::vector<RunEvent> events = Logged(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "output");
  EXPECT_EQ(events[2].type, "end");
}

TEST_F(SupervisorTest, TotalAndInactivityTimeoutsEndTheRunAsTimeout) {
  auto sup = Make();
  RunId total = Queue(), inactive = Queue();
  sup->Tick();
  // The shim enforces both limits; the supervisor classifies what it reports.
  runner_->Exit(total.str(), Outcome(ExitOutcome::kTimeoutTotal));
  runner_->Exit(inactive.str(), Outcome(ExitOutcome::kTimeoutInactive));
  sup->Tick();
  outpost::Run t = Get(total), i = Get(inactive);
  EXPECT_EQ(t.status, RunStatus::kTimeout);
  EXPECT_EQ(t.reason, std::string(reason::kTimeoutTotal));
  EXPECT_EQ(t.error_message, "the run exceeded timeoutSeconds");
  EXPECT_EQ(i.status, RunStatus::kTimeout);
  EXPECT_EQ(i.reason, std::string(reason::kTimeoutInactive));
  EXPECT_EQ(i.error_message, "no output for inactivityTimeoutSeconds");
}

TEST_F(SupervisorTest, CancelOfAPendingRunEndsItAndItNeverStarts) {
  auto sup = Make();
  RunService service(*store_, *registries_.back(), clock_, opts_, sup.get());
  RunId id = Queue();
  auto out = service.Cancel(id.str(), std::string("changed my mind"), RequestContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE(out->in_progress);
  EXPECT_EQ(out->run.status, RunStatus::kCancelled);
  sup->Tick();
  EXPECT_TRUE(runner_->started().empty());
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kCancelled);
  EXPECT_EQ(r.reason, std::string(reason::kCancelled));
  EXPECT_EQ(r.phase, RunPhase::kDone);
  EXPECT_EQ(r.cancel_reason, "changed my mind");
  EXPECT_EQ(r.progress, 100);
  // Once over, a cancel is refused with the status it ended with... unless it was cancelled.
  auto again = service.Cancel(id.str(), std::nullopt, RequestContext{});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->in_progress);
}

TEST_F(SupervisorTest, CancelOfARunningRunReachesItsShimAndEndsWithItsRecord) {
  auto sup = Make();
  RunService service(*store_, *registries_.back(), clock_, opts_, sup.get());
  RunId id = Queue();
  sup->Tick();
  auto out = service.Cancel(id.str(), std::string("stop"), RequestContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->in_progress);
  EXPECT_EQ(out->run.status, RunStatus::kRunning);
  EXPECT_EQ(runner_->cancels(id.str()), std::vector<std::string>{"stop"});
  sup->Tick();  // the loop delivers a stored request once too (idempotent at the shim)
  sup->Tick();
  EXPECT_EQ(runner_->cancels(id.str()).size(), 2u);
  ExitRecord rec = Outcome(ExitOutcome::kCancelled);
  rec.cancel_reason = "stop";
  runner_->Exit(id.str(), rec);
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kCancelled);
  EXPECT_EQ(r.cancel_reason, "stop");
  // A finished run cannot be cancelled: 409 with the status it has.
  RunId done = Queue();
  sup->Tick();
  runner_->Exit(done.str(), Exited(0));
  sup->Tick();
  auto refused = service.Cancel(done.str(), std::nullopt, RequestContext{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_EQ(refused.status().details().at("currentStatus").as_string(), "COMPLETED");
}

TEST_F(SupervisorTest, ACancelRequestedElsewhereIsDeliveredOnce) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  outpost::Run r = Get(id);
  r.cancel_reason = "from another replica";
  r.cancel_requested_at = clock_.Now();
  ASSERT_TRUE(store_->Update(r).ok());
  sup->Tick();
  sup->Tick();
  EXPECT_EQ(runner_->cancels(id.str()), std::vector<std::string>{"from another replica"});
}

// Counts the calls made of a store, by method (the supervisor's reads per pass).
class CountingRunStore final : public RunStore {
 public:
  explicit CountingRunStore(RunStore& inner) : inner_(inner) {}
  Result<CreateResult> Create(const Run& run) override {
    return Count("Create", inner_.Create(run));
  }
  Result<std::vector<CreateResult>> CreateAll(const std::vector<Run>& runs,
                                              const Admission& admission) override {
    return Count("CreateAll", inner_.CreateAll(runs, admission));
  }
  Result<int> ReleaseStaleQuota() override {
    return Count("ReleaseStaleQuota", inner_.ReleaseStaleQuota());
  }
  Result<Run> Get(const RunId& id) override { return Count("Get", inner_.Get(id)); }
  Result<RunPage> List(const ListQuery& query) override {
    return Count("List", inner_.List(query));
  }
  Result<Run> Update(const Run& run) override { return Count("Update", inner_.Update(run)); }
  Result<std::vector<Run>> ListActive() override {
    return Count("ListActive", inner_.ListActive());
  }
  Result<std::optional<std::int64_t>> ChangeMarker() override {
    return Count("ChangeMarker", inner_.ChangeMarker());
  }
  Result<RunStats> Stats(WallTime since, const std::optional<std::string>& tenant) override {
    return Count("Stats", inner_.Stats(since, tenant));
  }
  Result<double> CostSince(WallTime since, const std::string& tenant) override {
    return Count("CostSince", inner_.CostSince(since, tenant));
  }
  Status Ping() override { return Count("Ping", inner_.Ping()); }
  Status Heartbeat(const ReplicaInfo& info) override {
    return Count("Heartbeat", inner_.Heartbeat(info));
  }
  Result<std::vector<ReplicaInfo>> ListReplicas() override {
    return Count("ListReplicas", inner_.ListReplicas());
  }

  // Calls since the last Reset, by method.
  std::map<std::string, int> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void Reset() {
    std::lock_guard lock(mu_);
    calls_.clear();
  }

 private:
  template <typename T>
  T Count(const std::string& method, T result) {
    std::lock_guard lock(mu_);
    ++calls_[method];
    return result;
  }
  RunStore& inner_;
  mutable std::mutex mu_;
  std::map<std::string, int> calls_;
};

class SupervisorStoreReadsTest : public SupervisorTest {
 protected:
  // A supervisor whose store calls are counted (through counting_).
  std::unique_ptr<Supervisor> MakeCounted(const Options& given) {
    const Options& opts = *options_.emplace_back(std::make_unique<Options>(given));
    registries_.push_back(std::make_unique<AgentRegistry>(opts));
    counting_ = std::make_unique<CountingRunStore>(*store_);
    auto s = std::make_unique<Supervisor>(*counting_, *runner_, *registries_.back(), clock_, opts);
    s->SetEvents(events_.get(), pump_.get(), nullptr);
    Status st = s->Recover();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  // At capacity: one run running here, `queued` waiting behind it; ticked until nothing moves.
  std::pair<std::unique_ptr<Supervisor>, RunId> Busy(int queued) {
    opts_.max_concurrent_runs = 1;
    auto sup = MakeCounted(opts_);
    RunId running = Queue();
    for (int i = 0; i < queued; ++i) Queue();
    sup->Tick();                   // admits the first
    for (int i = 0; i < 3; ++i) {  // past the settling after the admission's writes
      clock_.Advance(3s);
      sup->Tick();
    }
    EXPECT_EQ(StatusOf(running), RunStatus::kRunning);
    EXPECT_EQ(sup->Snapshot().queued, queued);
    counting_->Reset();
    return {std::move(sup), running};
  }
  static std::string Show(const std::map<std::string, int>& calls) {
    std::string out;
    for (const auto& [method, n] : calls) out += method + "=" + std::to_string(n) + " ";
    return out;
  }
  std::unique_ptr<CountingRunStore> counting_;
};

TEST_F(SupervisorStoreReadsTest, AnIdlePassReadsOnlyTheChangeMarkerWhateverTheQueue) {
  auto [sup, running] = Busy(500);
  const SupervisorSnapshot before = sup->Snapshot();
  for (int i = 0; i < 20; ++i) {  // 10 s of passes, 2 per second
    clock_.Advance(500ms);
    sup->Tick();
  }
  std::map<std::string, int> calls = counting_->calls();
  // One marker read per pass; the replicas' records are read every lease/3 (5 s), not per pass.
  EXPECT_EQ(calls["ChangeMarker"], 20) << Show(calls);
  EXPECT_EQ(calls["ListActive"], 0) << Show(calls);
  EXPECT_LE(calls["ListReplicas"], 2) << Show(calls);
  // The one running run's progress is looked at every few seconds (a Get, maybe an Update):
  // that is per running run, never per queued one.
  int others = 0;
  for (const auto& [method, n] : calls) {
    if (method != "ChangeMarker" && method != "ListReplicas") others += n;
  }
  EXPECT_LE(others, 4) << Show(calls);
  const SupervisorSnapshot after = sup->Snapshot();
  EXPECT_EQ(after.ticks - before.ticks, 20);
  EXPECT_EQ(after.marker_reads - before.marker_reads, 20);
  EXPECT_EQ(after.active_listings - before.active_listings, 0);
  EXPECT_EQ(after.queued, 500);
  EXPECT_EQ(StatusOf(running), RunStatus::kRunning);
}

TEST_F(SupervisorStoreReadsTest, TheRunsAreListedAgainAtLeastEveryThirtySeconds) {
  auto sup = MakeCounted(opts_);  // no runs at all: nothing writes
  sup->Tick();
  counting_->Reset();
  for (int i = 0; i < 58; ++i) {  // 29 s
    clock_.Advance(500ms);
    sup->Tick();
  }
  EXPECT_EQ(counting_->calls()["ListActive"], 0) << Show(counting_->calls());
  clock_.Advance(1500ms);
  sup->Tick();
  EXPECT_EQ(counting_->calls()["ListActive"], 1) << Show(counting_->calls());
}

TEST_F(SupervisorStoreReadsTest, ACancelWrittenByAnotherReplicaIsDeliveredOnTheNextPass) {
  auto [sup, running] = Busy(5);
  outpost::Run r = Get(running);
  r.cancel_reason = "from another replica";
  r.cancel_requested_at = clock_.Now();
  ASSERT_TRUE(store_->Update(r).ok());  // straight to the store, as another replica writes
  clock_.Advance(500ms);
  sup->Tick();
  EXPECT_EQ(runner_->cancels(running.str()), std::vector<std::string>{"from another replica"});
}

TEST_F(SupervisorStoreReadsTest, ARunDispatchedElsewhereStartsOnTheNextPass) {
  auto [sup, running] = Busy(0);
  runner_->Exit(running.str(), Exited(0));
  clock_.Advance(500ms);
  sup->Tick();  // the run ends here (our own write)
  EXPECT_EQ(StatusOf(running), RunStatus::kCompleted);
  clock_.Advance(3s);
  sup->Tick();
  sup->Tick();
  const std::size_t started = runner_->started().size();
  RunId fresh = Queue("shell", "replica-b");  // dispatched on another replica, queued there
  // replica-b never announced itself: its queue is anyone's (as a lost replica's).
  clock_.Advance(500ms);
  sup->Tick();
  EXPECT_EQ(StatusOf(fresh), RunStatus::kRunning);
  EXPECT_EQ(runner_->started().size(), started + 1);
}

TEST_F(SupervisorTest, ARunThatCannotStartFailsAsInfraError) {
  auto sup = Make();
  runner_->FailStarts(Internal("no shim today"));
  RunId id = Queue();
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.reason, std::string(reason::kInfraError));
  EXPECT_EQ(r.error_message, "the run could not be started: no shim today");
  EXPECT_EQ(r.phase, RunPhase::kDone);
}

TEST_F(SupervisorTest, AFanOutRunHeldTooLongIsCancelled) {
  auto sup = Make();
  RunId held = Queue("shell", "replica-a", RunPhase::kHeld);
  sup->Tick();
  EXPECT_EQ(StatusOf(held), RunStatus::kPending);  // its fan-out may still be being created
  clock_.Advance(61s);
  sup->Tick();
  outpost::Run r = Get(held);
  EXPECT_EQ(r.status, RunStatus::kCancelled);
  EXPECT_EQ(r.cancel_reason, "the fan-out dispatch that created it was interrupted");
  EXPECT_TRUE(runner_->started().empty());
}

TEST_F(SupervisorTest, ALostReplicasRunsAreTakenOverOnceItsLeaseExpires) {
  auto a = Make(OptionsOf("replica-a"));
  RunId running = Queue("shell", "replica-a");
  a->Tick();  // replica-a starts it
  ASSERT_EQ(StatusOf(running), RunStatus::kRunning);
  RunId queued = Queue("shell", "replica-a");
  // What replica-a's pump copied of its run's events before it died.
  runner_->Emit(running.str(), clock_.Now(), "output", {{"stream", "stdout"}, {"data", "one\n"}});
  ASSERT_TRUE(pump_->Flush(running).ok());
  // replica-a stops heartbeating (it died) before it admits the second run.
  a.reset();
  auto b = Make(OptionsOf("replica-b"));
  b->Tick();
  EXPECT_EQ(StatusOf(queued), RunStatus::kPending);  // replica-a is still within its lease
  EXPECT_EQ(StatusOf(running), RunStatus::kRunning);
  clock_.Advance(14s);
  b->Tick();
  EXPECT_EQ(StatusOf(queued), RunStatus::kPending);
  EXPECT_EQ(StatusOf(running), RunStatus::kRunning);

  // Past the 15 s lease. A replica is judged lost only on a fresh read of its record, and
  // fresh reads are at most 500 ms apart: the judgement lands within a few passes.
  for (int pass = 0; pass < 3; ++pass) {
    clock_.Advance(1s);
    b->Tick();
  }
  outpost::Run lost = Get(running);
  EXPECT_EQ(lost.status, RunStatus::kFailed);
  EXPECT_EQ(lost.reason, std::string(reason::kNodeLost));
  EXPECT_NE(lost.error_message.value_or("").find("replica replica-a"), std::string::npos);
  // Its reported events stay, followed by the terminal status and end the survivor appended.
  std::vector<RunEvent> events = Logged(running);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "output");
  EXPECT_NE(events[1].json.find("\"reason\":\"node_lost\""), std::string::npos);
  EXPECT_EQ(events[2].type, "end");
  outpost::Run taken = Get(queued);
  EXPECT_EQ(taken.status, RunStatus::kRunning);
  EXPECT_EQ(taken.owner, "replica-b");
  EXPECT_EQ(runner_->started().back(), queued.str());
  SupervisorSnapshot snap = b->Snapshot();
  EXPECT_EQ(snap.taken_over, 1);
  EXPECT_EQ(snap.node_lost, 1);
  bool saw_a = false;
  for (const ReplicaView& v : snap.replicas) {
    if (v.info.id == "replica-a") {
      saw_a = true;
      EXPECT_FALSE(v.live);
    }
  }
  EXPECT_TRUE(saw_a);
}

// A replica that died between a run's terminal write and its upload left that run's artifacts
// pending with nobody to upload them: the replica that judges it lost queues them (their output
// from the shared event log), once.
TEST_F(SupervisorTest, ALostReplicasFinishedRunsStillToUploadAreUploadedHere) {
  auto signer = artifacts::UrlSigner::LoadOrCreate(root_);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  auto local = artifacts::LocalArtifactStore::Open(root_ + "/artifacts", *signer,
                                                   [] { return std::string("http://x"); });
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  ArtifactUploader uploader(*store_, **local, *runner_, clock_);  // not started: it only queues
  auto a = Make(OptionsOf("replica-a"));
  RunId done = Queue("shell", "replica-a");
  a->Tick();
  ASSERT_EQ(StatusOf(done), RunStatus::kRunning);
  // replica-a wrote the terminal status and died before uploading.
  outpost::Run run = Get(done);
  run.status = RunStatus::kCompleted;
  run.phase = RunPhase::kDone;
  run.reason = "succeeded";
  run.ended_at = clock_.Now();
  run.artifacts_state = ArtifactsState::kPending;
  ASSERT_TRUE(store_->Update(run).ok());
  a.reset();
  auto b = Make(OptionsOf("replica-b"));
  b->SetArtifactUploader(&uploader);
  b->Tick();
  EXPECT_EQ(uploader.stats().queued, 0u);  // replica-a is still within its lease
  for (int pass = 0; pass < 20; ++pass) {
    clock_.Advance(1s);
    b->Tick();
  }
  EXPECT_EQ(uploader.stats().queued, 1u);
  b->Tick();
  EXPECT_EQ(uploader.stats().queued, 1u);  // once, not every pass
}

TEST_F(SupervisorTest, ALiveReplicasQueueIsLeftToIt) {
  auto a = Make(OptionsOf("replica-a"));
  auto b = Make(OptionsOf("replica-b"));
  RunId queued = Queue("shell", "replica-a");
  for (int pass = 0; pass < 3; ++pass) {
    clock_.Advance(1s);
    b->Tick();
  }
  EXPECT_EQ(StatusOf(queued), RunStatus::kPending);
  EXPECT_TRUE(runner_->started().empty());
  a->Tick();
  EXPECT_EQ(StatusOf(queued), RunStatus::kRunning);
  EXPECT_EQ(Get(queued).owner, "replica-a");
  EXPECT_EQ(b->Snapshot().taken_over, 0);
}

// The runner says why it lost a run (the docker runner: the Engine out of reach past its
// grace): that reason is the run's errorMessage.
TEST_F(SupervisorTest, ALostRunsErrorMessageIsTheRunnersReasonWhenItGivesOne) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  ASSERT_EQ(StatusOf(id), RunStatus::kRunning);
  runner_->Lose(id.str(), 0, "the Docker Engine did not answer for 300 s: connection refused");
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.reason, std::string(reason::kSupervisorLost));
  EXPECT_EQ(r.error_message,
            "the Docker Engine did not answer for 300 s: connection refused; 0 leftover "
            "process(es) killed");
}

TEST_F(SupervisorTest, ARestartAdoptsLiveRunsFinishesExitedOnesAndFailsLostOnes) {
  RunId live, exited, lost, never;
  {
    auto first = Make();
    live = Queue();
    exited = Queue();
    lost = Queue();
    first->Tick();
    ASSERT_EQ(runner_->started(), Ids({live, exited, lost}));
  }  // the server stops; the shims keep going
  runner_->Exit(exited.str(), Exited(0));
  runner_->Lose(lost.str(), 2);
  // Admitted, then the server died before it launched the shim.
  never = Queue();
  outpost::Run r = Get(never);
  ASSERT_TRUE(run_state::Admit(r, "replica-a", clock_.Now()).ok());
  ASSERT_TRUE(store_->Update(r).ok());

  auto second = Make();  // Recover
  EXPECT_EQ(StatusOf(live), RunStatus::kRunning);
  EXPECT_EQ(StatusOf(exited), RunStatus::kCompleted);
  outpost::Run l = Get(lost);
  EXPECT_EQ(l.status, RunStatus::kFailed);
  EXPECT_EQ(l.reason, std::string(reason::kSupervisorLost));
  EXPECT_EQ(l.error_message,
            "the run's supervisor (shim) died without an exit record; 2 leftover process(es) "
            "killed");
  EXPECT_EQ(StatusOf(never), RunStatus::kRunning);
  EXPECT_EQ(runner_->started().back(), never.str());  // started now rather than failed
  ReaperStats stats = second->Snapshot().reaper;
  EXPECT_EQ(stats.recovered_on_start, 1);
  EXPECT_EQ(stats.supervisor_lost, 1);
  EXPECT_EQ(stats.leftovers_killed, 2);
  EXPECT_EQ(stats.adopted_on_start, 2);  // live, and never (running, started at recovery)

  // The adopted run is supervised as any other.
  runner_->Exit(live.str(), Exited(3));
  second->Tick();
  outpost::Run done = Get(live);
  EXPECT_EQ(done.status, RunStatus::kFailed);
  EXPECT_EQ(done.reason, std::string(reason::kExitNonzero));
  EXPECT_EQ(done.error_message, "exited with code 3");
}

TEST_F(SupervisorTest, TheReaperKillsProcessesOfRunsThatAreOverOnTheSecondSweep) {
  auto sup = Make();
  RunId id = Queue();
  sup->Tick();
  runner_->Exit(id.str(), Exited(0));
  sup->Tick();
  ASSERT_EQ(StatusOf(id), RunStatus::kCompleted);
  runner_->Orphan(id.str(), 3);  // something of it is still alive
  const std::string unknown = NewUlid(clock_.Now());
  runner_->Orphan(unknown, 1);  // and of a run the store never heard of
  clock_.Advance(6s);
  sup->Tick();  // first sight: suspects only
  EXPECT_FALSE(runner_->reaped(id.str()));
  clock_.Advance(6s);
  sup->Tick();
  EXPECT_TRUE(runner_->reaped(id.str()));
  EXPECT_TRUE(runner_->reaped(unknown));
  ReaperStats stats = sup->Snapshot().reaper;
  EXPECT_EQ(stats.orphan_runs_reaped, 2);
  EXPECT_EQ(stats.orphan_processes_killed, 4);
}

// --- Spend limits (issue 18 item 11): maxCostUsd against the usage the run reports so far.

class SupervisorSpendTest : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    // $1 per million input tokens, $2 per million output tokens.
    opts_.agents["shell"].cost_input_per_mtok = 1;
    opts_.agents["shell"].cost_output_per_mtok = 2;
  }
  // A queued run with a cost ceiling (as a dispatch with maxCostUsd stores it).
  RunId QueueWithCeiling(std::optional<double> usd) {
    RunId id = Queue();
    outpost::Run r = Get(id);
    r.max_cost_usd = usd;
    EXPECT_TRUE(store_->Update(r).ok());
    return id;
  }
  static RunProgress Used(std::int64_t in, std::int64_t out,
                          std::optional<double> agent_cost = std::nullopt) {
    RunProgress p;
    p.turns = 1;
    p.has_usage = true;
    p.usage = {in, out};
    p.cost_usd = agent_cost;
    return p;
  }
  // The shim's record of a run stopped with `reason` (its parse of the output: `usage`).
  ExitRecord Stopped(const std::string& reason, TokenUsage usage) {
    ExitRecord rec = Outcome(ExitOutcome::kCancelled);
    rec.cancel_reason = reason;
    rec.agent = AgentResult{};
    rec.agent->usage = usage;
    rec.agent->has_usage = true;
    return rec;
  }
};

TEST_F(SupervisorSpendTest,
       ARunWhoseCostCrossesItsMaxCostIsStoppedOnceAndEndsFailedBudgetExceeded) {
  auto sup = Make();
  RunId id = QueueWithCeiling(0.01);
  sup->Tick();
  ASSERT_EQ(StatusOf(id), RunStatus::kRunning);

  // Under the ceiling: $0.001 + $0.002 = $0.003. Not stopped; the live usage is on the record.
  runner_->Report(id.str(), Used(1000, 1000));
  sup->Tick();
  EXPECT_TRUE(runner_->cancels(id.str()).empty());
  std::optional<Usage> live = Get(id).usage;
  ASSERT_TRUE(live);
  EXPECT_DOUBLE_EQ(live->cost_usd, 0.003);
  EXPECT_EQ(live->cost_source, "rates");

  // Over it: $0.005 + $0.010 = $0.015 > $0.01. Stopped through the cancel path, asked once.
  runner_->Report(id.str(), Used(5000, 5000));
  sup->Tick();
  sup->Tick();
  const std::vector<std::string> cancels = runner_->cancels(id.str());
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_TRUE(cancels[0].starts_with("budget_exceeded: ")) << cancels[0];
  EXPECT_NE(cancels[0].find("$0.015"), std::string::npos) << cancels[0];
  EXPECT_EQ(StatusOf(id), RunStatus::kRunning);  // until its shim says it stopped

  runner_->Exit(id.str(), Stopped(cancels[0], {5000, 5000}));
  sup->Tick();
  outpost::Run r = Get(id);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.reason, reason::kBudgetExceeded);
  ASSERT_TRUE(r.error_message);
  EXPECT_NE(r.error_message->find("over its maxCostUsd of $0.01"), std::string::npos)
      << *r.error_message;
  EXPECT_FALSE(r.cancel_reason);
  ASSERT_TRUE(r.usage);
  EXPECT_DOUBLE_EQ(r.usage->cost_usd, 0.015);
}

TEST_F(SupervisorSpendTest, TheAgentsOwnCostFigureIsUsedWhenItReportsOne) {
  auto sup = Make();
  RunId id = QueueWithCeiling(0.5);
  sup->Tick();
  // Few tokens ($0.00003 at the rates), but the agent says it spent $0.75.
  runner_->Report(id.str(), Used(10, 10, 0.75));
  sup->Tick();
  const std::vector<std::string> cancels = runner_->cancels(id.str());
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_NE(cancels[0].find("$0.75 (as the agent reported it)"), std::string::npos) << cancels[0];
  EXPECT_EQ(Get(id).usage->cost_source, "agent");
}

TEST_F(SupervisorSpendTest, WithoutACeilingNothingIsStoppedButTheUsageIsRecorded) {
  auto sup = Make();
  RunId id = QueueWithCeiling(std::nullopt);
  sup->Tick();
  runner_->Report(id.str(), Used(50'000'000, 50'000'000));  // $150
  sup->Tick();
  EXPECT_TRUE(runner_->cancels(id.str()).empty());
  EXPECT_DOUBLE_EQ(Get(id).usage->cost_usd, 150);
}

TEST_F(SupervisorSpendTest, ARunTheUserCancelledStaysCancelledWhateverItCost) {
  auto sup = Make();
  RunId id = QueueWithCeiling(0.01);
  sup->Tick();
  runner_->Report(id.str(), Used(5000, 5000));
  sup->Tick();
  ASSERT_EQ(runner_->cancels(id.str()).size(), 1u);
  // The user's cancel came too; the shim kept the first reason (the budget's).
  outpost::Run r = Get(id);
  r.cancel_reason = "stop";
  r.cancel_requested_at = clock_.Now();
  ASSERT_TRUE(store_->Update(r).ok());
  runner_->Exit(id.str(), Stopped(runner_->cancels(id.str())[0], {5000, 5000}));
  sup->Tick();
  EXPECT_EQ(StatusOf(id), RunStatus::kCancelled);
  EXPECT_EQ(Get(id).reason, reason::kCancelled);
}

}  // namespace
}  // namespace outpost
