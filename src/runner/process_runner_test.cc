// End-to-end tests of ProcessRunner + the real shim (outpost_test_shim) with /bin/sh agents.
// Nothing sleeps and hopes: every wait polls for a condition with a deadline.
#include "runner/process_runner.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "common/files.h"
#include "common/ids.h"
#include "runner/notify.h"
#include "runner/proc.h"
#include "runner/runner_test_util.h"

namespace outpost {
namespace {

using testing::Gone;
using testing::Slurp;
using testing::TempDir;
using testing::WaitFor;
using testing::WaitPidFile;

class ProcessRunnerTest : public ::testing::Test {
 protected:
  LaunchSpec Spec(const std::string& id, const std::string& script) {
    LaunchSpec spec;
    spec.run_id = id;
    spec.argv = {"sh", "-c", script};
    spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"T", tmp_.path()}};
    spec.timeout_seconds = 30;
    spec.grace_seconds = 1;
    return spec;
  }

  std::optional<ExitRecord> WaitExit(const std::string& id,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::optional<ExitRecord> rec;
    WaitFor(
        [&] {
          ShimProbe p = runner_.Probe(RunId(id));
          if (p.state == ShimState::kExited) rec = p.exit;
          return p.state != ShimState::kRunning;
        },
        timeout);
    return rec;
  }

  ExitRecord Run(const LaunchSpec& spec) {
    Status st = runner_.StartLaunch(spec);
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::optional<ExitRecord> rec = WaitExit(spec.run_id);
    EXPECT_TRUE(rec.has_value()) << "no exit record for " << spec.run_id;
    return rec.value_or(ExitRecord{});
  }

  std::string Log(const std::string& id, const std::string& name) {
    return Slurp(runner_.Dir(id).File(name));
  }
  std::string T(const std::string& name) { return tmp_.path() + "/" + name; }

  TempDir tmp_;
  ProcessRunner runner_{tmp_.path() + "/runs", OUTPOST_TEST_SHIM, RealClock::Instance(),
                        Millis(10'000)};
};

// Writes the pid of the current shell (or of what it execs next) to $T/<name>, atomically.
std::string SavePid(const std::string& name) {
  return "echo $$ > $T/" + name + ".tmp && mv $T/" + name + ".tmp $T/" + name + "; ";
}

TEST_F(ProcessRunnerTest, ExitZeroIsExitedWithCodeZero) {
  ExitRecord rec = Run(Spec("ok", "echo hello"));
  EXPECT_EQ(ToString(rec.outcome), "exited");
  EXPECT_EQ(rec.exit_code, 0);
  EXPECT_EQ(rec.signal, std::nullopt);
  EXPECT_TRUE(rec.started_at.has_value());
  EXPECT_EQ(rec.stdout_bytes, 6);
  EXPECT_EQ(Log("ok", "stdout.log"), "hello\n");
  EXPECT_EQ(runner_.Dir("ok").ReadStarted(), rec.started_at);
}

TEST_F(ProcessRunnerTest, NonZeroExitCodeIsKept) {
  ExitRecord rec = Run(Spec("three", "exit 3"));
  EXPECT_EQ(ToString(rec.outcome), "exited");
  EXPECT_EQ(rec.exit_code, 3);
}

TEST_F(ProcessRunnerTest, AgentRunsInTheWorkspaceWithExactlyTheSpecEnvironmentPlusMarker) {
  LaunchSpec spec = Spec("env", "pwd; env | sort");
  ExitRecord rec = Run(spec);
  ASSERT_EQ(rec.exit_code, 0);
  std::string out = Log("env", "stdout.log");
  std::string ws = runner_.Dir("env").workspace();
  EXPECT_EQ(out.substr(0, ws.size() + 1), ws + "\n");
  EXPECT_NE(out.find("OUTPOST_RUN_ID=env\n"), std::string::npos);
  EXPECT_NE(out.find("T=" + tmp_.path() + "\n"), std::string::npos);
  EXPECT_EQ(out.find("HOME="), std::string::npos);  // nothing of the test's environment
}

TEST_F(ProcessRunnerTest, StdoutAndStderrAreKeptApartAndComplete) {
  // 5 MB of a known pattern on stdout, interleaved with lines on stderr.
  ExitRecord rec = Run(
      Spec("big", "echo e1 >&2; yes 0123456789abcdef | head -c 5000000; echo e2 >&2; printf end"));
  ASSERT_EQ(rec.exit_code, 0);
  std::string expected;
  while (expected.size() < 5'000'000) expected += "0123456789abcdef\n";
  expected.resize(5'000'000);
  expected += "end";
  std::string out = Log("big", "stdout.log");
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_TRUE(out == expected) << "stdout differs from the pattern";
  EXPECT_EQ(Log("big", "stderr.log"), "e1\ne2\n");
  EXPECT_EQ(rec.stdout_bytes, static_cast<std::int64_t>(expected.size()));
  EXPECT_EQ(rec.stderr_bytes, 6);
}

TEST_F(ProcessRunnerTest, StartReturnsAtOnceAndTotalTimeoutStopsTheAgent) {
  LaunchSpec spec = Spec("slow", SavePid("sleep") + "exec sleep 30");
  spec.timeout_seconds = 1;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_EQ(runner_.Probe(RunId("slow")).state, ShimState::kRunning);
  std::optional<int> sleep_pid = WaitPidFile(T("sleep"));
  ASSERT_TRUE(sleep_pid.has_value());
  std::optional<ExitRecord> rec = WaitExit("slow");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(ToString(rec->outcome), "timeout_total");
  EXPECT_EQ(rec->signal, SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_TRUE(Gone(*sleep_pid));
}

TEST_F(ProcessRunnerTest, InactivityTimeoutStopsASilentAgent) {
  LaunchSpec spec = Spec("quiet", "echo hi; exec sleep 30");
  spec.inactivity_timeout_seconds = 1;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "timeout_inactive");
  EXPECT_EQ(Log("quiet", "stdout.log"), "hi\n");
}

TEST_F(ProcessRunnerTest, CancelKillsAnAgentThatIgnoresSigtermAfterTheGrace) {
  LaunchSpec spec = Spec("stubborn", "trap '' TERM; " + SavePid("agent") + "exec sleep 100");
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  std::optional<int> agent = WaitPidFile(T("agent"));
  ASSERT_TRUE(agent.has_value());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(runner_.RequestCancel(RunId("stubborn"), "user changed their mind").ok());
  std::optional<ExitRecord> rec = WaitExit("stubborn");
  ASSERT_TRUE(rec.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_EQ(ToString(rec->outcome), "cancelled");
  EXPECT_EQ(rec->cancel_reason, "user changed their mind");
  EXPECT_EQ(rec->signal, SIGKILL);
  EXPECT_TRUE(Gone(*agent));
}

TEST_F(ProcessRunnerTest, CancelKillsADoubleForkedDaemonThatIgnoresSigterm) {
  std::string daemon = "trap \"\" TERM; " + SavePid("daemon") + "exec sleep 100";
  // The agent saves its pid once the subshell that forked the daemon has exited (it waits for
  // it), so the daemon is the one leftover when the cancel comes (a subshell still exiting under
  // load was counted too).
  LaunchSpec spec =
      Spec("daemon", "(setsid sh -c '" + daemon + "' &); " + SavePid("agent") + "exec sleep 100");
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  std::optional<int> pid = WaitPidFile(T("daemon"));
  ASSERT_TRUE(pid.has_value());
  ASSERT_TRUE(WaitPidFile(T("agent")).has_value());
  ASSERT_TRUE(runner_.RequestCancel(RunId("daemon"), "stop").ok());
  std::optional<ExitRecord> rec = WaitExit("daemon");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(ToString(rec->outcome), "cancelled");
  EXPECT_EQ(rec->leftover_processes_killed, 1);
  errno = 0;
  EXPECT_EQ(::kill(*pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);  // killed and reaped by the shim, its subreaper
}

TEST_F(ProcessRunnerTest, DaemonLeftAfterANormalExitIsKilledAndCounted) {
  std::string daemon = "trap \"\" TERM; " + SavePid("daemon") + "exec sleep 100";
  LaunchSpec spec = Spec(
      "leaver", "(setsid sh -c '" + daemon + "' &); while [ ! -s $T/daemon ]; do sleep 0.02; done");
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "exited");
  EXPECT_EQ(rec.exit_code, 0);
  EXPECT_EQ(rec.leftover_processes_killed, 1);
  std::optional<int> pid = WaitPidFile(T("daemon"));
  ASSERT_TRUE(pid.has_value());
  errno = 0;
  EXPECT_EQ(::kill(*pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(ProcessRunnerTest, CancelBeforeTheShimStartsMeansTheAgentNeverRuns) {
  RunDir dir = runner_.Dir("early");
  ASSERT_TRUE(MakeDirs(dir.path(), 0700).ok());
  ASSERT_TRUE(dir.WriteCancel({"too late", RealClock::Instance().Now()}).ok());
  ExitRecord rec = Run(Spec("early", "touch $T/ran"));
  EXPECT_EQ(ToString(rec.outcome), "cancelled");
  EXPECT_EQ(rec.cancel_reason, "too late");
  EXPECT_FALSE(rec.started_at.has_value());
  EXPECT_FALSE(FileExists(T("ran")));
  EXPECT_FALSE(dir.ReadStarted().has_value());
}

TEST_F(ProcessRunnerTest, SigtermToTheShimCancelsTheRunAsShimTerminated) {
  ASSERT_TRUE(runner_.StartLaunch(Spec("term", SavePid("agent") + "exec sleep 100")).ok());
  std::optional<int> agent = WaitPidFile(T("agent"));
  ASSERT_TRUE(agent.has_value());
  Result<ShimInfo> shim = runner_.Dir("term").ReadShimInfo();
  ASSERT_TRUE(shim.ok());
  ASSERT_EQ(::kill(shim->pid, SIGTERM), 0);
  std::optional<ExitRecord> rec = WaitExit("term");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(ToString(rec->outcome), "cancelled");
  EXPECT_EQ(rec->cancel_reason, "shim terminated");
  EXPECT_TRUE(Gone(*agent));
}

TEST_F(ProcessRunnerTest, StartWithAMissingShimExecutableIsInternal) {
  ProcessRunner broken(tmp_.path() + "/runs", T("no-such-shim"), RealClock::Instance());
  EXPECT_EQ(broken.StartLaunch(Spec("noshim", "true")).code(), Code::kInternal);
}

TEST_F(ProcessRunnerTest, ShimKilledMidRunIsLostAndLeftoversAreKilled) {
  // Unique: KillLeftovers finds processes machine-wide by run id.
  const std::string id = NewUlid(RealClock::Instance().Now());  // the reaper finds ULIDs only
  LaunchSpec spec =
      Spec(id, "sleep 100 & echo $! > $T/c.tmp && mv $T/c.tmp $T/child; exec sleep 100");
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  std::optional<int> child = WaitPidFile(T("child"));
  ASSERT_TRUE(child.has_value());
  ASSERT_TRUE(WaitFor([&] { return runner_.Dir(id).ReadStartedPid().has_value(); }));
  int agent = *runner_.Dir(id).ReadStartedPid();
  Result<ShimInfo> shim = runner_.Dir(id).ReadShimInfo();
  ASSERT_TRUE(shim.ok());
  ASSERT_EQ(::kill(shim->pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return runner_.Probe(RunId(id)).state == ShimState::kLost; }));
  EXPECT_FALSE(Gone(agent));
  EXPECT_EQ(runner_.KillLeftovers(RunId(id)), 2);
  EXPECT_TRUE(Gone(agent));
  EXPECT_TRUE(Gone(*child));
  EXPECT_EQ(runner_.KillLeftovers(RunId(id)), 0);
}

TEST_F(ProcessRunnerTest, MissingExecutableIsStartFailed) {
  LaunchSpec spec = Spec("missing", "");
  spec.argv = {"no-such-agent-binary", "--help"};
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "start_failed");
  EXPECT_NE(rec.message.find("No such file or directory"), std::string::npos) << rec.message;
  EXPECT_FALSE(rec.started_at.has_value());
}

TEST_F(ProcessRunnerTest, RepoIsClonedIntoTheWorkspaceAtTheBranch) {
  std::string repo = T("repo");
  std::string setup = "set -e; git init -q " + repo + " && cd " + repo +
                      " && git checkout -q -b feature && echo content > file.txt && git add "
                      "file.txt && git -c user.name=t -c user.email=t@t commit -q -m init";
  ASSERT_EQ(std::system(setup.c_str()), 0);
  LaunchSpec spec = Spec("clone", "cat file.txt; git rev-parse --abbrev-ref HEAD");
  spec.repo_url = repo;
  spec.local_repo_roots = {tmp_.path()};
  spec.branch = "feature";
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  EXPECT_EQ(Log("clone", "stdout.log"), "content\nfeature\n");
  // Issue 18 item 10: the changes collected, the ephemeral workspace is gone.
  EXPECT_TRUE(FileExists(runner_.Dir("clone").File("changes.json")));
  EXPECT_FALSE(FileExists(runner_.Dir("clone").workspace()));
}

TEST_F(ProcessRunnerTest, MissingLocalRepoIsRepoError) {
  LaunchSpec spec = Spec("badrepo", "touch $T/ran");
  spec.repo_url = T("does-not-exist");
  spec.local_repo_roots = {tmp_.path()};  // inside the roots, but missing (F9: one message)
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "repo_error");
  EXPECT_NE(rec.message.find("local repository root"), std::string::npos) << rec.message;
  EXPECT_EQ(rec.exit_code, std::nullopt);
  EXPECT_FALSE(FileExists(T("ran")));
}

// Audit F9: the shim checks a local repo again (the run may start long after its dispatch):
// outside the spec's roots, or in its data dir, it is a repo_error and nothing runs.
TEST_F(ProcessRunnerTest, F9_ALocalRepoOutsideTheRootsIsRepoErrorAtStart) {
  std::string repo = T("repo9");
  ASSERT_EQ(std::system(("git init -q " + repo).c_str()), 0);
  for (int i = 0; i < 2; ++i) {
    LaunchSpec spec = Spec("f9-" + std::to_string(i), "touch $T/ran");
    spec.repo_url = repo;
    spec.local_repo_roots = {i == 0 ? T("elsewhere") : tmp_.path()};
    if (i == 1) spec.data_dir = tmp_.path();
    ExitRecord rec = Run(spec);
    EXPECT_EQ(ToString(rec.outcome), "repo_error");
    EXPECT_NE(rec.message.find("local repository root"), std::string::npos) << rec.message;
    EXPECT_FALSE(FileExists(T("ran")));
  }
}

TEST_F(ProcessRunnerTest, NotifyDatagramArrivesOnTheSocket) {
  Result<NotifySocket> sock = NotifySocket::Bind(T("n.sock"));
  ASSERT_TRUE(sock.ok()) << sock.status().ToString();
  LaunchSpec spec = Spec("notified", "true");
  spec.notify_socket = sock->path();
  ExitRecord rec = Run(spec);
  ASSERT_EQ(ToString(rec.outcome), "exited");
  std::vector<std::string> got;
  ASSERT_TRUE(WaitFor([&] {
    for (std::string& id : sock->Drain()) got.push_back(id);
    return got.size() >= 2;  // started, exited
  }));
  EXPECT_EQ(got, (std::vector<std::string>{"notified", "notified"}));
}

TEST(NotifySocket, BindReplacesAStaleSocketFile) {
  TempDir tmp;
  const std::string path = tmp.path() + "/s.sock";
  ASSERT_TRUE(WriteFileAtomic(path, "stale").ok());
  Result<NotifySocket> sock = NotifySocket::Bind(path);
  ASSERT_TRUE(sock.ok()) << sock.status().ToString();
  EXPECT_TRUE(sock->Drain().empty());
  Notify(path, "01JABC");
  pollfd pfd{sock->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  EXPECT_EQ(sock->Drain(), std::vector<std::string>{"01JABC"});
  Notify(tmp.path() + "/nobody.sock", "x");  // no server: silently nothing
}

TEST_F(ProcessRunnerTest, StartingARunTwiceIsConflict) {
  ASSERT_TRUE(runner_.StartLaunch(Spec("twice", "true")).ok());
  EXPECT_EQ(runner_.StartLaunch(Spec("twice", "true")).code(), Code::kConflict);
  EXPECT_TRUE(WaitExit("twice").has_value());
}

TEST_F(ProcessRunnerTest, RunWithoutASpecWasNeverStarted) {
  EXPECT_EQ(runner_.Probe(RunId("unlaunched")).state, ShimState::kNotStarted);
  ASSERT_TRUE(MakeDirs(runner_.Dir("unlaunched").path(), 0700).ok());  // a dir alone: still none
  EXPECT_EQ(runner_.Probe(RunId("unlaunched")).state, ShimState::kNotStarted);
}

TEST_F(ProcessRunnerTest, CancelOfAnUnknownRunIsNotFound) {
  EXPECT_EQ(runner_.RequestCancel(RunId("nope"), "x").code(), Code::kNotFound);
}

// The server died between writing spec.json and forking the shim: during the grace the shim
// may still come; after it, with nothing of the run alive, the run never started and starts.
TEST_F(ProcessRunnerTest, RunWhoseShimNeverCameIsRunningDuringGraceThenStartsAgain) {
  RunDir dir = runner_.Dir("ghost");
  ASSERT_TRUE(MakeDirs(dir.path(), 0700).ok());
  ASSERT_TRUE(dir.WriteSpec(Spec("ghost", "echo second-chance")).ok());
  EXPECT_EQ(runner_.Probe(RunId("ghost")).state, ShimState::kRunning);
  ProcessRunner impatient(tmp_.path() + "/runs", OUTPOST_TEST_SHIM, RealClock::Instance(),
                          Millis(0));
  EXPECT_EQ(impatient.Probe(RunId("ghost")).state, ShimState::kNotStarted);
  EXPECT_FALSE(FileExists(dir.File("spec.json")));
  EXPECT_TRUE(FileExists(dir.File("spec.json.unlaunched")));
  ASSERT_TRUE(impatient.StartLaunch(Spec("ghost", "echo second-chance")).ok());
  std::optional<ExitRecord> rec = WaitExit("ghost");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->exit_code, 0);
  EXPECT_EQ(Log("ghost", "stdout.log"), "second-chance\n");
}

// A process of the run is alive although no shim.json exists: it is not started twice.
TEST_F(ProcessRunnerTest, RunWithoutShimJsonButAProcessOfItAliveIsLostNotRestarted) {
  const std::string haunted = NewUlid(RealClock::Instance().Now());
  const std::string marker = "OUTPOST_RUN_ID=" + haunted;
  RunDir dir = runner_.Dir(haunted);
  ASSERT_TRUE(MakeDirs(dir.path(), 0700).ok());
  ASSERT_TRUE(dir.WriteSpec(Spec(haunted, "true")).ok());
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>("/bin/sleep"), const_cast<char*>("30"), nullptr};
    char* const envp[] = {const_cast<char*>(marker.c_str()), nullptr};
    ::execve(argv[0], argv, envp);
    ::_exit(127);
  }
  ASSERT_TRUE(WaitFor([&] { return proc::RunProcesses(tmp_.path() + "/runs").count(haunted); }));
  ProcessRunner impatient(tmp_.path() + "/runs", OUTPOST_TEST_SHIM, RealClock::Instance(),
                          Millis(0));
  EXPECT_EQ(impatient.Probe(RunId(haunted)).state, ShimState::kLost);
  EXPECT_TRUE(FileExists(dir.File("spec.json")));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// ---- Issue 18 item 8: secrets at rest ----

constexpr char kAtRest[] = "s3cr3t-at-rest-4f2a9c71";
constexpr char kGitAtRest[] = "gtok-at-rest-8d0b6e13";

std::string Reversed(std::string s) { return {s.rbegin(), s.rend()}; }

// Every file under `root` whose name or content holds `value` (links are not followed).
std::vector<std::string> FilesHolding(const std::string& root, const std::string& value) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string path = it->path().string();
    if (path.find(value) != std::string::npos) hits.push_back(path + " (name)");
    if (it->is_symlink() || !it->is_regular_file()) continue;
    if (Slurp(path).find(value) != std::string::npos) hits.push_back(path);
  }
  return hits;
}

TEST_F(ProcessRunnerTest, Secrets_AtRest_SpecJsonHoldsNoSecretAndTheShimStillGetsThem) {
  LaunchSpec spec = Spec("atrest",
                         "[ \"$(printf %s \"$SECRET\" | rev)\" = \"$WANT\" ] && "
                         "[ \"$(rev < $HOME/.cfg/key)\" = \"$WANT_CFG\" ] && echo ok > $T/seen; "
                         "echo \"leak $SECRET\"");
  spec.env["HOME"] = runner_.Dir("atrest").File("home");  // as ProcessRunner::LaunchFor sets it
  spec.env["SECRET"] = kAtRest;
  spec.env["WANT"] = Reversed(kAtRest);
  spec.env["WANT_CFG"] = Reversed(std::string("key=") + kAtRest);
  spec.home_files = {{".cfg/key", std::string("key=") + kAtRest}, {".cfg/plain", "no secret here"}};
  spec.redact = {kAtRest, kGitAtRest};
  spec.git_token = kGitAtRest;  // no repo: never used, but never written either
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  const std::string spec_json = Slurp(runner_.Dir("atrest").File("spec.json"));
  ASSERT_NE(spec_json.find("\"argv\""), std::string::npos) << spec_json;
  EXPECT_EQ(spec_json.find(kAtRest), std::string::npos) << spec_json;
  EXPECT_EQ(spec_json.find(kGitAtRest), std::string::npos) << spec_json;
  EXPECT_NE(spec_json.find("no secret here"), std::string::npos) << spec_json;
  std::optional<ExitRecord> rec = WaitExit("atrest");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->exit_code, 0) << rec->message;
  // The values reached the agent (env, home file) and the redactor, from memory only.
  EXPECT_EQ(Slurp(T("seen")), "ok\n") << Log("atrest", "shim.log");
  EXPECT_EQ(Log("atrest", "stdout.log"), "leak [REDACTED]\n");
  EXPECT_EQ(Slurp(runner_.Dir("atrest").File("home/.cfg/key")), "key=[REDACTED]");
  EXPECT_EQ(FilesHolding(runner_.Dir("atrest").path(), kAtRest), std::vector<std::string>{});
  EXPECT_EQ(FilesHolding(runner_.Dir("atrest").path(), kGitAtRest), std::vector<std::string>{});
  EXPECT_FALSE(FileExists(runner_.Dir("atrest").File("secrets.json")));
}

TEST_F(ProcessRunnerTest, Secrets_AtRest_ACancelledRunLeavesNoSecretInItsHomeOrWorkspace) {
  LaunchSpec spec =
      Spec("atrest-killed",
           "mkdir -p $HOME/.codex/shell_snapshots && "
           "echo \"export OPENAI_API_KEY=$SECRET\" > $HOME/.codex/shell_snapshots/1.sh"
           " && echo \"note $SECRET\" > $HOME/notes.txt && mkdir $HOME/d && "
           "echo x > \"$HOME/d/name-$SECRET\" && ln -s $T/outside $HOME/link && "
           "echo \"$SECRET\" > ws.txt && touch $T/ready && exec sleep 100");
  spec.env["HOME"] = runner_.Dir("atrest-killed").File("home");
  spec.env["SECRET"] = kAtRest;
  spec.redact = {kAtRest};
  // A file outside the run that a link in the home points at: never touched.
  std::ofstream(T("outside")) << kAtRest;
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return FileExists(T("ready")); }));
  ASSERT_TRUE(runner_.RequestCancel(RunId("atrest-killed"), "test").ok());
  std::optional<ExitRecord> rec = WaitExit("atrest-killed");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->outcome, ExitOutcome::kCancelled);
  const RunDir dir = runner_.Dir("atrest-killed");
  EXPECT_EQ(FilesHolding(dir.path(), kAtRest), std::vector<std::string>{})
      << Log("atrest-killed", "shim.log");
  EXPECT_FALSE(std::filesystem::exists(dir.File("home/.codex/shell_snapshots")));
  EXPECT_TRUE(std::filesystem::exists(dir.File("home/.codex")));
  EXPECT_EQ(Slurp(dir.File("home/notes.txt")), "note [REDACTED]\n");
  EXPECT_EQ(Slurp(dir.File("home/d/name-[REDACTED]")), "x\n");
  EXPECT_EQ(Slurp(dir.File("workspace/ws.txt")), "[REDACTED]\n");
  EXPECT_TRUE(std::filesystem::is_symlink(dir.File("home/link")));
  EXPECT_EQ(Slurp(T("outside")), kAtRest);
}

// Issue 18 item 8: a shim killed with SIGKILL scrubs nothing; the home and workspace it left
// go when the run's leftovers are reaped, so no secret value stays in them.
TEST_F(ProcessRunnerTest, Secrets_AtRest_AKilledShimsHomeAndWorkspaceGoWhenItsRunIsReaped) {
  const std::string id = NewUlid(RealClock::Instance().Now());
  LaunchSpec spec = Spec(id, "mkdir -p \"$HOME\" && echo \"$SECRET\" > \"$HOME/key\" && " +
                                 std::string("echo \"$SECRET\" > ws.txt && ") + SavePid("lost") +
                                 "exec sleep 60");
  spec.env["HOME"] = runner_.Dir(id).File("home");
  spec.env["SECRET"] = kAtRest;
  spec.redact = {kAtRest};
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  ASSERT_TRUE(WaitPidFile(T("lost")).has_value());
  ASSERT_EQ(FilesHolding(runner_.Dir(id).path(), kAtRest).size(), 2u);
  Result<ShimInfo> shim = runner_.Dir(id).ReadShimInfo();
  ASSERT_TRUE(shim.ok()) << shim.status().ToString();
  ASSERT_EQ(::kill(shim->pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return runner_.Probe(RunId(id)).state == ShimState::kLost; }));
  EXPECT_GE(runner_.KillLeftovers(RunId(id)), 1);  // the agent's sleep
  EXPECT_EQ(FilesHolding(runner_.Dir(id).path(), kAtRest), std::vector<std::string>{});
  EXPECT_FALSE(FileExists(runner_.Dir(id).File("home")));
  EXPECT_FALSE(FileExists(runner_.Dir(id).workspace()));
}

// Git keeps what the agent commits compressed: loose objects and packs the agent made are
// looked into, and removed when one holds a value; the others stay. A run without a
// repository keeps its workspace (one with a repository loses it once its changes are
// collected, issue 18 item 10), so the agent makes its own repository here.
TEST_F(ProcessRunnerTest, Secrets_AtRest_ACommittedSecretLeavesNoGitObjectHoldingIt) {
  const std::string commit = "git -c user.name=a -c user.email=a@a commit -q -m ";
  LaunchSpec spec =
      Spec("atrest-git", "set -e; git init -q -b main . && echo seed > seed.txt && git add -A && " +
                             commit + "seed && echo \"$SECRET\" > a.txt && git add -A && " +
                             commit + "\"one $SECRET\" && echo x > b.txt && git add -A && " +
                             commit + "two && git gc -q && echo \"loose $SECRET\" > c.txt && " +
                             "git add -A && " + commit + "three");
  spec.env["HOME"] = runner_.Dir("atrest-git").File("home");
  spec.env["SECRET"] = kAtRest;
  spec.redact = {kAtRest};
  ExitRecord rec = Run(spec);
  EXPECT_EQ(rec.exit_code, 0) << rec.message << Log("atrest-git", "stderr.log");
  const std::string ws = runner_.Dir("atrest-git").workspace();
  auto [status, objects] = [&] {
    std::string out;
    FILE* p = ::popen(
        ("git --git-dir=" + ws + "/.git cat-file --batch-all-objects --batch").c_str(), "r");
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    return std::pair<int, std::string>(::pclose(p), out);
  }();
  EXPECT_EQ(status, 0) << objects;
  EXPECT_EQ(objects.find(kAtRest), std::string::npos);
  EXPECT_NE(objects.find("seed"), std::string::npos) << "objects without a value are kept";
  EXPECT_EQ(FilesHolding(runner_.Dir("atrest-git").path(), kAtRest), std::vector<std::string>{})
      << Log("atrest-git", "shim.log");
  EXPECT_NE(Log("atrest-git", "shim.log").find("workspace scrubbed of secrets"), std::string::npos);
}

}  // namespace
}  // namespace outpost
