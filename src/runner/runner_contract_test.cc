// The Runner contract (runner.h) as ProcessRunner keeps it: a RunSpec in, typed results out —
// the exit record with the agent's parsed result, progress, start time, outputs — also for
// records an older shim wrote (no agent result, no progress.json), and the sandbox half
// (LaunchFor, uids) that used to be core's.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "common/files.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "runner/proc.h"
#include "runner/process_runner.h"
#include "runner/runner_test_util.h"
#include "runner/sandbox/bwrap.h"

namespace outpost {
namespace {

using testing::Slurp;
using testing::TempDir;
using testing::WaitFor;

// Shapes as printed by claude 2.1 (`-p --output-format stream-json --verbose`), trimmed.
constexpr std::string_view kClaudeOutput =
    R"({"type":"system","subtype":"init","cwd":"/work","session_id":"9f1c","model":"claude-opus-4-5-20251101"}
{"type":"assistant","message":{"id":"msg_01A","type":"message","role":"assistant","content":[{"type":"text","text":"I'll create the file."},{"type":"tool_use","id":"toolu_01X","name":"Write","input":{"file_path":"/work/hello.txt","content":"hi\n"}}],"usage":{"input_tokens":3,"output_tokens":60}},"session_id":"9f1c"}
{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01X","type":"tool_result","content":"File created"}]},"session_id":"9f1c"}
{"type":"assistant","message":{"id":"msg_01B","type":"message","role":"assistant","content":[{"type":"text","text":"Created hello.txt."}],"usage":{"input_tokens":5,"output_tokens":8}},"session_id":"9f1c"}
{"type":"result","subtype":"success","is_error":false,"num_turns":3,"result":"Created hello.txt.","session_id":"9f1c","total_cost_usd":0.0421,"usage":{"input_tokens":8,"cache_creation_input_tokens":1200,"cache_read_input_tokens":1200,"output_tokens":68}}
)";

class RunnerContractTest : public ::testing::Test {
 protected:
  RunSpec Spec(const std::string& id, const std::string& script) {
    RunSpec spec;
    spec.id = RunId(id);
    spec.argv = {"sh", "-c", script};
    spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"T", tmp_.path()}};
    spec.limits.timeout_seconds = 30;
    spec.limits.grace_seconds = 1;
    return spec;
  }

  std::optional<ExitRecord> WaitExit(const RunId& id) {
    std::optional<ExitRecord> rec;
    WaitFor([&] {
      ShimProbe p = runner_.Probe(id);
      if (p.state == ShimState::kExited) rec = p.exit;
      return p.state != ShimState::kRunning;
    });
    return rec;
  }

  TempDir tmp_;
  ProcessRunner runner_{tmp_.path() + "/runs", OUTPOST_TEST_SHIM, RealClock::Instance()};
};

TEST_F(RunnerContractTest, TheExitRecordCarriesTheAgentsResultAndTurns) {
  ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/claude.out", std::string(kClaudeOutput)).ok());
  RunSpec spec = Spec("claude", "cat $T/claude.out");
  spec.parser = "claude-stream-json";
  ASSERT_TRUE(runner_.Start(spec).ok());
  std::optional<ExitRecord> rec = WaitExit(spec.id);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(ToString(rec->outcome), "exited");
  ASSERT_TRUE(rec->agent.has_value());
  EXPECT_EQ(rec->agent->final_message, "Created hello.txt.");
  EXPECT_TRUE(rec->agent->has_usage);
  EXPECT_EQ(rec->agent->usage.input, 8 + 1200 + 1200);
  EXPECT_EQ(rec->agent->usage.output, 68);
  ASSERT_TRUE(rec->agent->cost_usd.has_value());
  EXPECT_DOUBLE_EQ(*rec->agent->cost_usd, 0.0421);
  EXPECT_EQ(rec->agent->error, std::nullopt);
  EXPECT_EQ(rec->agent_turns, 2);
  // It is in the record itself (the shim parsed it), not made up by Probe.
  Result<ExitRecord> raw = runner_.Dir("claude").ReadExit();
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->agent.has_value());
  EXPECT_EQ(raw->agent->final_message, "Created hello.txt.");
  // The rest of the contract's typed results.
  EXPECT_EQ(runner_.Started(spec.id), rec->started_at);
  RunProgress progress = runner_.Progress(spec.id);
  EXPECT_EQ(progress.turns, 2);
  EXPECT_TRUE(progress.collecting);
  EXPECT_EQ(runner_.ChangesOf(spec.id), std::nullopt);  // no repository
  auto out = runner_.OpenOutput(spec.id, RunOutput::kStdout);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)->size(), static_cast<std::int64_t>(kClaudeOutput.size()));
  EXPECT_EQ(ReadAll(**out).value(), kClaudeOutput);
  auto events = runner_.OpenOutput(spec.id, RunOutput::kEvents);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_NE(ReadAll(**events).value().find("\"phase\":\"collecting\""), std::string::npos);
  EXPECT_EQ(runner_.OpenOutput(spec.id, RunOutput::kBundle).status().code(), Code::kNotFound);
}

// The run's events through the contract: read from any seq in batches, woken as they grow; the
// end is not the runner's (the control plane appends it to the event log).
TEST_F(RunnerContractTest, EventsAreReadFromAnySeqAndWakeTheirWatch) {
  // The agent writes only once the test has subscribed: the watch sees it grow.
  RunSpec spec =
      Spec("events", "while [ ! -e $T/go ]; do sleep 0.01; done; echo one; echo two >&2");
  bool woken = false;
  std::mutex mu;
  std::condition_variable cv;
  // No stream before the run starts: subscribe again later.
  EXPECT_EQ(runner_.WatchEvents(spec.id, [] {}).status().code(), Code::kNotFound);
  ASSERT_TRUE(runner_.Start(spec).ok());
  auto watch = runner_.WatchEvents(spec.id, [&] {
    std::lock_guard lock(mu);
    woken = true;
    cv.notify_all();
  });
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/go", "").ok());
  ASSERT_TRUE(WaitExit(spec.id).has_value());
  {  // written after the watch began: it woke
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return woken; }));
  }
  watch->reset();

  Result<EventBatch> all = runner_.ReadEvents(spec.id, 0, 1 << 20);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_GE(all->events.size(), 3u);
  EXPECT_FALSE(all->ended);  // the end is the control plane's to write
  for (std::size_t i = 0; i < all->events.size(); ++i) {
    EXPECT_EQ(all->events[i].seq, static_cast<std::int64_t>(i) + 1);
  }
  // From the middle, in small batches: the same events.
  std::vector<RunEvent> again;
  for (std::int64_t after = 1;;) {
    Result<EventBatch> b = runner_.ReadEvents(spec.id, after, 1);
    ASSERT_TRUE(b.ok());
    if (b->events.empty()) break;
    after = b->events.back().seq;
    again.insert(again.end(), b->events.begin(), b->events.end());
  }
  EXPECT_EQ(again, std::vector<RunEvent>(all->events.begin() + 1, all->events.end()));

  EXPECT_EQ(runner_.ReadEvents(spec.id, -1, 10).status().code(), Code::kInvalidArgument);
}

// A run started by an older binary and adopted after an upgrade: its exit.json has no agent
// result and it wrote no progress.json. Probe parses the output as the server used to, and
// Progress reads the tail of the events.
TEST_F(RunnerContractTest, AnOlderShimsRecordFallsBackToParsingTheOutput) {
  ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/claude.out", std::string(kClaudeOutput)).ok());
  RunSpec spec = Spec("old", "cat $T/claude.out");
  spec.parser = "claude-stream-json";
  ASSERT_TRUE(runner_.Start(spec).ok());
  ASSERT_TRUE(WaitExit(spec.id).has_value());
  RunDir dir = runner_.Dir("old");
  // Rewrite the record as an older shim wrote it.
  Result<std::string> text = ReadFile(dir.File("exit.json"));
  ASSERT_TRUE(text.ok());
  boost::json::object o = boost::json::parse(*text).as_object();
  ASSERT_TRUE(o.contains("agent_result"));
  o.erase("agent_result");
  o.erase("agent_turns");
  ASSERT_TRUE(WriteFileAtomic(dir.File("exit.json"), boost::json::serialize(o) + "\n").ok());
  ASSERT_EQ(::unlink(dir.File("progress.json").c_str()), 0);
  Result<ExitRecord> raw = dir.ReadExit();
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->agent, std::nullopt);

  ShimProbe p = runner_.Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  ASSERT_TRUE(p.exit->agent.has_value());
  EXPECT_EQ(p.exit->agent->final_message, "Created hello.txt.");
  EXPECT_EQ(p.exit->agent->usage.output, 68);
  ASSERT_TRUE(p.exit->agent->cost_usd.has_value());
  EXPECT_DOUBLE_EQ(*p.exit->agent->cost_usd, 0.0421);
  RunProgress progress = runner_.Progress(spec.id);
  EXPECT_EQ(progress.turns, 2);
  EXPECT_TRUE(progress.collecting);
}

TEST_F(RunnerContractTest, APlainAgentsResultIsTheTailOfItsOutputAndAFailedStartHasOne) {
  RunSpec spec = Spec("plain", "echo first; echo last line");
  ASSERT_TRUE(runner_.Start(spec).ok());
  std::optional<ExitRecord> rec = WaitExit(spec.id);
  ASSERT_TRUE(rec.has_value() && rec->agent.has_value());
  EXPECT_EQ(rec->agent->final_message, "first\nlast line");
  EXPECT_FALSE(rec->agent->has_usage);

  RunSpec missing = Spec("nostart", "");
  missing.argv = {"/nonexistent/agent"};
  ASSERT_TRUE(runner_.Start(missing).ok());
  rec = WaitExit(missing.id);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(ToString(rec->outcome), "start_failed");
  ASSERT_TRUE(rec->agent.has_value());
  EXPECT_EQ(rec->agent->final_message, "");
}

TEST_F(RunnerContractTest, UnknownRunsAnswerNothing) {
  const RunId id("never");
  EXPECT_EQ(runner_.Probe(id).state, ShimState::kNotStarted);
  EXPECT_EQ(runner_.Started(id), std::nullopt);
  EXPECT_EQ(runner_.Progress(id).turns, 0);
  EXPECT_EQ(runner_.ChangesOf(id), std::nullopt);
  EXPECT_TRUE(runner_.Blocked(id).empty());
  EXPECT_EQ(runner_.RequestCancel(id, "x").code(), Code::kNotFound);
  Result<EventBatch> events = runner_.ReadEvents(id, 0, 1024);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->events.empty());
  EXPECT_FALSE(events->ended);
  EXPECT_EQ(runner_.OpenOutput(id, RunOutput::kStdout).status().code(), Code::kNotFound);
  EXPECT_EQ(runner_.WatchEvents(id, [] {}).status().code(), Code::kNotFound);
}

TEST(RunnerKinds, NamesParse) {
  EXPECT_EQ(ParseRunnerKind("sandbox"), RunnerKind::kSandbox);
  EXPECT_EQ(ParseRunnerKind("process"), RunnerKind::kProcess);
  EXPECT_EQ(ParseRunnerKind("docker"), RunnerKind::kDocker);  // issue 20
  EXPECT_EQ(ParseRunnerKind("ecs"), RunnerKind::kEcs);        // issue 21
  for (auto p : {NetworkPolicy::kNone, NetworkPolicy::kAllowlist, NetworkPolicy::kHost}) {
    EXPECT_EQ(ParseNetworkPolicy(ToString(p)), p);
  }
  EXPECT_EQ(ParseNetworkPolicy("open"), std::nullopt);
}

// The sandbox half of a launch, which core used to build: binds, home, limits, network,
// cgroup name and the outpost binary's in-sandbox path.
TEST(ProcessRunnerLaunch, TheSandboxRunnerBuildsTheSandbox) {
  TempDir tmp;
  ProcessRunner::Config config;
  config.outpost_exe = "/work/build/outpost";
  config.ro_binds = {"/opt/tools"};
  config.disable_userns = true;
  config.notify_socket = "/data/notify.sock";
  ProcessRunner sandboxed(tmp.path() + "/runs", "/bin/true", RealClock::Instance(), Millis(10'000),
                          RunnerKind::kSandbox, config);
  RunSpec spec;
  spec.id = RunId("01SANDBOX");
  spec.argv = {"/work/build/outpost", "grok", "task"};
  spec.env = {{"PATH", "/usr/bin"}, {"KEY", "v"}};
  spec.redact = {"v"};
  spec.agent_dirs = {"/opt/agent"};
  spec.network = NetworkPolicy::kAllowlist;
  spec.allow = {"api.x.ai:443"};
  spec.limits.memory_bytes = 64 << 20;
  spec.limits.cpu_millicores = 500;
  spec.limits.disk_bytes = std::int64_t{1} << 30;
  spec.limits.pids_max = 99;
  spec.limits.timeout_seconds = 77;
  spec.repo = RepoCheckout{};
  spec.repo->url = "https://github.com/o/r.git";
  spec.repo->branch = "dev";
  spec.repo->git_token = "tok";
  spec.repo->git_token_url = "https://github.com";
  LaunchSpec l = sandboxed.LaunchFor(spec);
  const std::string dir = sandboxed.Dir("01SANDBOX").path();
  EXPECT_EQ(l.run_id, "01SANDBOX");
  EXPECT_EQ(l.argv, (std::vector<std::string>{std::string(sandbox::kOutpostExe), "grok", "task"}));
  EXPECT_EQ(l.env.at("HOME"), "/home/agent");
  EXPECT_EQ(l.env.at("KEY"), "v");
  EXPECT_EQ(l.redact, spec.redact);
  EXPECT_EQ(l.workspace, dir + "/workspace");
  EXPECT_EQ(l.timeout_seconds, 77);
  EXPECT_EQ(l.notify_socket, "/data/notify.sock");
  EXPECT_EQ(l.repo_url, "https://github.com/o/r.git");
  EXPECT_EQ(l.branch, "dev");
  EXPECT_EQ(l.git_token, "tok");
  EXPECT_EQ(l.git_token_url, "https://github.com");
  ASSERT_TRUE(l.sandbox.enabled);
  EXPECT_EQ(l.sandbox.home, dir + "/home");
  EXPECT_EQ(l.sandbox.ro_binds, (std::vector<std::string>{"/opt/tools", "/opt/agent"}));
  EXPECT_EQ(l.sandbox.network, "allowlist");
  EXPECT_EQ(l.sandbox.allow, spec.allow);
  EXPECT_EQ(l.sandbox.outpost_exe, "/work/build/outpost");
  EXPECT_TRUE(l.sandbox.disable_userns);
  EXPECT_EQ(l.sandbox.memory_bytes, 64 << 20);
  EXPECT_EQ(l.sandbox.cpu_millicores, 500);
  EXPECT_EQ(l.sandbox.disk_bytes, std::int64_t{1} << 30);
  EXPECT_EQ(l.sandbox.pids_max, 99);
  EXPECT_EQ(l.sandbox.cgroup_name, "outpost/01SANDBOX");

  // Unisolated: a home in the run directory, the argv as given, no sandbox.
  ProcessRunner plain(tmp.path() + "/runs", "/bin/true", RealClock::Instance(), Millis(10'000),
                      RunnerKind::kProcess, config);
  LaunchSpec p = plain.LaunchFor(spec);
  EXPECT_FALSE(p.sandbox.enabled);
  EXPECT_EQ(p.env.at("HOME"), dir + "/home");
  EXPECT_EQ(p.argv, spec.argv);
}

// Audit F12: sandbox uids are unique per machine. Runners of two servers (their own runs dirs,
// the machine's one lock dir) starting runs concurrently never give two live runs one uid; a
// uid is taken while its holder (the shim) lives or any process runs as it, and comes back
// once both are gone (the run ended, or the reaper killed what a lost run left).
class F12Uids : public ::testing::Test {
 protected:
  static constexpr int kMin = 300000, kMax = 300007;
  void SetUp() override {
    // The shim holds the inherited lock (fd 3) for its life, as the real one does; it records
    // its pid so that the test can make it die.
    shim_ = tmp_.path() + "/fake-shim";
    ASSERT_TRUE(
        WriteFileAtomic(shim_, "#!/bin/sh\necho $$ > \"$2.pid\"\nexec sleep 120\n", 0755).ok());
    ProcessRunner::Config config;
    config.uid_min = kMin;
    config.uid_max = kMax;
    config.uid_lock_dir = tmp_.path() + "/uids";
    for (int i = 0; i < 2; ++i) {
      runners_.push_back(std::make_unique<ProcessRunner>(
          tmp_.path() + "/runs" + std::to_string(i), shim_, RealClock::Instance(), Millis(60'000),
          RunnerKind::kSandbox, config));
    }
  }
  void TearDown() override {
    for (const auto& [id, r] : started_) KillShim(r, id);
  }
  Status Start(int r, const std::string& id) {
    RunSpec s;
    s.id = RunId(id);
    s.argv = {"true"};
    Status st = runners_[r]->Start(s);
    if (st.ok()) {
      std::lock_guard lock(mu_);
      started_.emplace_back(id, r);
    }
    return st;
  }
  int UidOf(int r, const std::string& id) {
    Result<LaunchSpec> l = runners_[r]->Dir(id).ReadSpec();
    return l.ok() ? l->sandbox.uid : -1;
  }
  void KillShim(int r, const std::string& id) {
    const std::string pid_file = runners_[r]->Dir(id).path() + ".pid";
    ASSERT_TRUE(WaitFor([&] { return FileExists(pid_file); }));
    const int pid = std::stoi(Slurp(pid_file));
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(WaitFor([&] { return ::kill(pid, 0) != 0; }));
  }
  static std::string NewId() { return NewUlid(RealClock::Instance().Now()); }

  TempDir tmp_;
  std::string shim_;
  std::vector<std::unique_ptr<ProcessRunner>> runners_;
  std::mutex mu_;
  std::vector<std::pair<std::string, int>> started_;
};

TEST_F(F12Uids, F12_TwoServersStartingConcurrentlyNeverShareAUid) {
  constexpr int kPerRunner = (kMax - kMin + 1) / 2;
  std::vector<std::string> ids[2];
  for (auto& v : ids) {
    for (int i = 0; i < kPerRunner; ++i) v.push_back(NewId());
  }
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      for (const std::string& id : ids[r]) EXPECT_TRUE(Start(r, id).ok()) << id;
    });
  }
  for (auto& t : threads) t.join();
  std::set<int> uids;
  for (int r = 0; r < 2; ++r) {
    for (const std::string& id : ids[r]) uids.insert(UidOf(r, id));
  }
  EXPECT_EQ(uids.size(), static_cast<std::size_t>(kMax - kMin + 1));
  EXPECT_EQ(*uids.begin(), kMin);
  EXPECT_EQ(*uids.rbegin(), kMax);
  // Full on the machine, whichever server asks.
  for (int r = 0; r < 2; ++r) {
    Status full = Start(r, NewId());
    EXPECT_EQ(full.code(), Code::kUnavailable) << full.ToString();
    EXPECT_NE(full.message().find("no free sandbox uid in [300000, 300007]"), std::string::npos)
        << full.message();
  }
}

TEST_F(F12Uids, F12_AUidComesBackOnlyOnceItsHolderAndItsProcessesAreGone) {
  std::vector<std::string> ids;
  for (int uid = kMin; uid <= kMax; ++uid) {
    ids.push_back(NewId());
    ASSERT_TRUE(Start(0, ids.back()).ok());
  }
  const std::string& lost = ids[0];
  const int uid = UidOf(0, lost);
  // The lost run's shim dies, but a process of the run still runs as its uid (what the reaper
  // kills): the uid is not given out, not even by the other server.
  pid_t straggler = ::fork();
  ASSERT_GE(straggler, 0);
  if (straggler == 0) {
    if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(126);
    ::execl("/bin/sleep", "sleep", "120", nullptr);
    ::_exit(127);
  }
  const std::string status = "/proc/" + std::to_string(straggler) + "/status";
  ASSERT_TRUE(WaitFor([&] {
    return Slurp(status).find("\nUid:\t" + std::to_string(uid) + "\t") != std::string::npos;
  }));
  KillShim(0, lost);
  EXPECT_EQ(Start(1, NewId()).code(), Code::kUnavailable);
  // The reaper kills it: the uid comes back, to either server.
  ::kill(straggler, SIGKILL);
  ::waitpid(straggler, nullptr, 0);
  const std::string next = NewId();
  ASSERT_TRUE(Start(1, next).ok());
  EXPECT_EQ(UidOf(1, next), uid);
  // A uid whose holder lives is never reused: the rest are still taken.
  EXPECT_EQ(Start(0, NewId()).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace outpost
