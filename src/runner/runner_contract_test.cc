// The Runner contract (runner.h) as ProcessRunner keeps it: a RunSpec in, typed results out —
// the exit record with the agent's parsed result, progress, start time, outputs — also for
// records an older shim wrote (no agent result, no progress.json), and the sandbox half
// (LaunchFor, uids) that used to be core's.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <csignal>
#include <set>

#include "common/files.h"
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
  EXPECT_EQ(Slurp(runner_.OutputFile(spec.id, RunOutput::kStdout)), kClaudeOutput);
  EXPECT_NE(Slurp(runner_.OutputFile(spec.id, RunOutput::kEvents)).find("\"phase\":\"collecting\""),
            std::string::npos);
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
  EXPECT_FALSE(FileExists(runner_.OutputFile(id, RunOutput::kEvents)));
}

TEST(RunnerKinds, NamesParse) {
  EXPECT_EQ(ParseRunnerKind("sandbox"), RunnerKind::kSandbox);
  EXPECT_EQ(ParseRunnerKind("process"), RunnerKind::kProcess);
  EXPECT_EQ(ParseRunnerKind("docker"), std::nullopt);
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

// Two concurrent sandboxed runs never share a uid; a uid is free again once the run's exit
// record is seen; after a restart, the uids of runs still alive stay taken.
TEST(ProcessRunnerLaunch, SandboxUidsAreUniqueReleasedAndAdopted) {
  TempDir tmp;
  ProcessRunner::Config config;
  config.uid_min = 300000;
  config.uid_max = 300001;
  // The shim is /bin/true: it exits at once, so no sandbox is made; spec.json says the uid.
  auto runner =
      std::make_unique<ProcessRunner>(tmp.path() + "/runs", "/bin/true", RealClock::Instance(),
                                      Millis(60'000), RunnerKind::kSandbox, config);
  auto spec = [](const std::string& id) {
    RunSpec s;
    s.id = RunId(id);
    s.argv = {"true"};
    return s;
  };
  auto uid_of = [&](const std::string& id) {
    Result<LaunchSpec> l = runner->Dir(id).ReadSpec();
    return l.ok() ? l->sandbox.uid : -1;
  };
  ASSERT_TRUE(runner->Start(spec("a")).ok());
  ASSERT_TRUE(runner->Start(spec("b")).ok());
  EXPECT_EQ(std::set<int>({uid_of("a"), uid_of("b")}), std::set<int>({300000, 300001}));
  Status full = runner->Start(spec("c"));
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_NE(full.message().find("no free sandbox uid in [300000, 300001]"), std::string::npos);
  EXPECT_FALSE(FileExists(runner->Dir("c").File("spec.json")));
  // a ends: its uid goes to c.
  ExitRecord rec;
  rec.outcome = ExitOutcome::kExited;
  rec.exit_code = 0;
  ASSERT_TRUE(runner->Dir("a").WriteExit(rec).ok());
  ASSERT_EQ(runner->Probe(RunId("a")).state, ShimState::kExited);
  ASSERT_TRUE(runner->Start(spec("c")).ok());
  EXPECT_EQ(uid_of("c"), 300000 + 300001 - uid_of("b"));

  // A new server over the same runs: only b still has a live process (an agent carrying its
  // marker), so b's uid stays taken and d gets the other one.
  const std::string b_uid = std::to_string(uid_of("b"));
  pid_t agent = ::fork();
  if (agent == 0) {
    std::string marker = std::string(proc::kRunIdVariable) + "=b";
    char* const argv[] = {const_cast<char*>("sleep"), const_cast<char*>("60"), nullptr};
    char* const envp[] = {marker.data(), nullptr};
    ::execve("/bin/sleep", argv, envp);
    ::_exit(127);
  }
  ASSERT_GT(agent, 0);
  ASSERT_TRUE(WaitFor([&] { return proc::RunProcesses(tmp.path() + "/runs").count("b") == 1; }));
  runner = std::make_unique<ProcessRunner>(tmp.path() + "/runs", "/bin/true", RealClock::Instance(),
                                           Millis(60'000), RunnerKind::kSandbox, config);
  ASSERT_TRUE(runner->Start(spec("d")).ok());
  EXPECT_NE(std::to_string(uid_of("d")), b_uid);
  ::kill(agent, SIGKILL);
  ::waitpid(agent, nullptr, 0);
}

}  // namespace
}  // namespace outpost
