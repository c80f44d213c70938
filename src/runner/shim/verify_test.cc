// Issue 23: a run's `verify` check (RunSpec::verify), run by the real shim after the agent and
// before its changes are collected — ProcessRunner + outpost_test_shim, unisolated and in the
// sandbox (bubblewrap + cgroups, as root) — and its JSON in the run channel's spec and the exit
// record. Every wait polls a condition with a deadline.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>

#include "common/files.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "runner/process_runner.h"
#include "runner/runner_test_util.h"
#include "runner/sandbox/probe.h"
#include "testing/status_matchers.h"

namespace outpost {
namespace {

namespace json = boost::json;
using ::outpost::testing::StatusIs;
using testing::Gone;
using ::testing::HasSubstr;
using testing::Slurp;
using testing::TempDir;
using testing::WaitFor;
using testing::WaitPidFile;

class VerifyTest : public ::testing::Test {
 protected:
  explicit VerifyTest(ProcessRunner::Mode mode = ProcessRunner::Mode::kProcess)
      : runner_(tmp_.path() + "/runs", OUTPOST_TEST_SHIM, RealClock::Instance(), Millis(10'000),
                mode) {}

  void SetUp() override {
    repo_ = tmp_.path() + "/repo";
    const std::string setup = "set -e; git init -q " + repo_ + " && cd " + repo_ +
                              " && echo content > file.txt && git add file.txt && "
                              "git -c user.name=t -c user.email=t@t commit -q -m init";
    ASSERT_EQ(std::system(setup.c_str()), 0);
  }

  // A ULID per name (the runner's reaper side knows runs by ULIDs).
  std::string Id(const std::string& name) {
    auto [it, fresh] = ids_.try_emplace(name);
    if (fresh) it->second = NewUlid(RealClock::Instance().Now());
    return it->second;
  }

  LaunchSpec Spec(const std::string& name, const std::string& agent, const std::string& verify) {
    LaunchSpec spec;
    spec.run_id = Id(name);
    spec.argv = {"sh", "-c", agent};
    spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"T", tmp_.path()}, {"FOO", "bar"}};
    spec.timeout_seconds = 30;
    spec.grace_seconds = 1;
    spec.repo_url = repo_;
    spec.local_repo_roots = {tmp_.path()};
    spec.verify = verify;
    return spec;
  }

  std::optional<ExitRecord> WaitExit(const std::string& id) {
    std::optional<ExitRecord> rec;
    WaitFor(
        [&] {
          ShimProbe p = runner_.Probe(RunId(id));
          if (p.state == ShimState::kExited) rec = p.exit;
          return p.state != ShimState::kRunning;
        },
        std::chrono::seconds(60));
    return rec;
  }

  ExitRecord Run(const LaunchSpec& spec) {
    Status st = runner_.StartLaunch(spec);
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::optional<ExitRecord> rec = WaitExit(spec.run_id);
    EXPECT_TRUE(rec.has_value()) << "no exit record for " << spec.run_id;
    return rec.value_or(ExitRecord{});
  }

  std::string Out(const std::string& name) {
    return Slurp(runner_.Dir(Id(name)).File("stdout.log"));
  }
  std::string T(const std::string& name) { return tmp_.path() + "/" + name; }

  TempDir tmp_;
  std::string repo_;
  std::map<std::string, std::string> ids_;
  ProcessRunner runner_;
};

// Writes the pid of the current shell (or of what it execs next) to $T/<name>, atomically.
std::string SavePid(const std::string& name) {
  return "echo $$ > $T/" + name + ".tmp && mv $T/" + name + ".tmp $T/" + name + "; ";
}

TEST_F(VerifyTest, RunsAfterTheAgentInItsWorkspaceWithItsEnvAndBeforeTheChangesAreCollected) {
  LaunchSpec spec = Spec("pass", "echo agent-out; echo new > made.txt",
                         "pwd; echo FOO=$FOO; test -f made.txt && echo found; echo err-line >&2; "
                         "echo checked > verified.txt");
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  EXPECT_EQ(rec.exit_code, 0);
  ASSERT_TRUE(rec.verification.has_value());
  EXPECT_EQ(rec.verification->exit_code, 0);
  EXPECT_TRUE(rec.verification->passed);
  EXPECT_FALSE(rec.verification->timed_out);
  const std::string ws = runner_.Dir(Id("pass")).workspace();
  EXPECT_EQ(rec.verification->tail, ws + "\nFOO=bar\nfound\nerr-line\n");
  // Its output is not the agent's.
  EXPECT_EQ(Out("pass"), "agent-out\n");
  // The changes were collected after it: what it wrote is in them.
  std::optional<Changes> changes = runner_.ChangesOf(RunId(Id("pass")));
  ASSERT_TRUE(changes.has_value());
  std::vector<std::string> files = changes->files_changed;
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"made.txt", "verified.txt"}));
}

TEST_F(VerifyTest, AFailedCheckIsRecordedAndTheRunsOutcomeIsTheAgents) {
  ExitRecord failed = Run(Spec("fail", "echo new > made.txt", "echo broken; exit 3"));
  EXPECT_EQ(ToString(failed.outcome), "exited");
  EXPECT_EQ(failed.exit_code, 0);
  ASSERT_TRUE(failed.verification.has_value());
  EXPECT_EQ(failed.verification->exit_code, 3);
  EXPECT_FALSE(failed.verification->passed);
  EXPECT_EQ(failed.verification->tail, "broken\n");
  // An agent that failed is still checked; its own exit code stays the record's.
  ExitRecord agent_failed = Run(Spec("agentfail", "exit 2", "true"));
  EXPECT_EQ(agent_failed.exit_code, 2);
  ASSERT_TRUE(agent_failed.verification.has_value());
  EXPECT_TRUE(agent_failed.verification->passed);
  // No verify: no verification.
  LaunchSpec none = Spec("none", "true", "");
  none.verify.reset();
  EXPECT_EQ(Run(none).verification, std::nullopt);
}

TEST_F(VerifyTest, TheRunsTotalDeadlineStopsTheCheckAndTheRunKeepsTheAgentsOutcome) {
  LaunchSpec spec = Spec("slow", "true", SavePid("vpid") + "echo started; exec sleep 30");
  spec.timeout_seconds = 2;
  const auto t0 = std::chrono::steady_clock::now();
  ExitRecord rec = Run(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  EXPECT_EQ(rec.exit_code, 0);
  EXPECT_EQ(rec.message, "agent exited with code 0");
  ASSERT_TRUE(rec.verification.has_value());
  EXPECT_TRUE(rec.verification->timed_out);
  EXPECT_EQ(rec.verification->exit_code, std::nullopt);
  EXPECT_FALSE(rec.verification->passed);
  EXPECT_EQ(rec.verification->tail, "started\n[verify stopped: total timeout of 2 s exceeded]\n");
  std::optional<int> pid = WaitPidFile(T("vpid"));
  ASSERT_TRUE(pid.has_value());
  EXPECT_TRUE(Gone(*pid));
}

TEST_F(VerifyTest, ACancelDuringTheCheckCancelsTheRun) {
  LaunchSpec spec = Spec("cancel", "true", "echo started; " + SavePid("vpid") + "exec sleep 30");
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  std::optional<int> pid = WaitPidFile(T("vpid"));
  ASSERT_TRUE(pid.has_value());
  ASSERT_TRUE(runner_.RequestCancel(RunId(spec.run_id), "enough").ok());
  std::optional<ExitRecord> rec = WaitExit(spec.run_id);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(ToString(rec->outcome), "cancelled");
  EXPECT_EQ(rec->cancel_reason, "enough");
  ASSERT_TRUE(rec->verification.has_value());
  EXPECT_EQ(rec->verification->exit_code, std::nullopt);
  EXPECT_FALSE(rec->verification->passed);
  EXPECT_FALSE(rec->verification->timed_out);
  EXPECT_EQ(rec->verification->tail, "started\n");
  EXPECT_TRUE(Gone(*pid));
}

TEST_F(VerifyTest, NotRunWhenTheAgentWasStopped) {
  LaunchSpec spec = Spec("stopped", "exec sleep 30", "touch $T/ran");
  spec.timeout_seconds = 1;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "timeout_total");
  EXPECT_EQ(rec.verification, std::nullopt);
  EXPECT_FALSE(FileExists(T("ran")));
}

TEST_F(VerifyTest, TheTailIsTheLast4KiBRedactedLikeTheOutput) {
  const std::string secret = "hunter2-very-secret-value";
  LaunchSpec spec = Spec("redact", "true",
                         "echo first=$SECRET; yes filler | head -c 9100; echo; "
                         "printf 'caf\\303\\251 '; echo last=$SECRET");
  spec.env["SECRET"] = secret;
  spec.redact = {secret};
  ExitRecord rec = Run(spec);
  ASSERT_TRUE(rec.verification.has_value());
  EXPECT_TRUE(rec.verification->passed);
  const std::string& tail = rec.verification->tail;
  EXPECT_LE(tail.size(), 4096u);
  EXPECT_GE(tail.size(), 4090u);
  EXPECT_EQ(tail.find(secret), std::string::npos);
  EXPECT_EQ(tail.find("first="), std::string::npos);  // the head is gone
  EXPECT_TRUE(tail.ends_with("filler\n\ncafé last=[REDACTED]\n")) << tail.substr(tail.size() - 60);
}

// In the sandbox: bwrap in the run's cgroup as the sandbox uid, in /work, with the agent's env.
class SandboxVerifyTest : public VerifyTest {
 protected:
  SandboxVerifyTest() : VerifyTest(ProcessRunner::Mode::kSandbox) {}
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the sandbox runner needs root";
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0711), 0);  // the sandbox uid must traverse it
    Status usable = sandbox::CheckSandboxUsable(200000);
    ASSERT_TRUE(usable.ok()) << usable.ToString();
    VerifyTest::SetUp();
  }
  LaunchSpec SandboxSpec(const std::string& name, const std::string& agent,
                         const std::string& verify) {
    static std::atomic<int> next{200008 + (::getpid() % 1000) * 16};
    LaunchSpec spec = Spec(name, agent, verify);
    spec.env = {{"PATH", "/usr/bin:/bin"}, {"FOO", "bar"}};
    spec.sandbox.enabled = true;
    spec.sandbox.uid = spec.sandbox.gid = next++;
    return spec;
  }
};

TEST_F(SandboxVerifyTest, RunsInTheSameSandboxAsTheAgent) {
  LaunchSpec spec =
      SandboxSpec("sandboxed", "id -u > agent-uid",
                  "id -u; pwd; echo FOO=$FOO; cat agent-uid; cat /etc/shadow 2>/dev/null || "
                  "echo no-shadow; exit 4");
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  EXPECT_EQ(rec.exit_code, 0);
  ASSERT_TRUE(rec.verification.has_value());
  EXPECT_EQ(rec.verification->exit_code, 4);
  EXPECT_FALSE(rec.verification->passed);
  const std::string uid = std::to_string(spec.sandbox.uid);
  EXPECT_EQ(rec.verification->tail, uid + "\n/work\nFOO=bar\n" + uid + "\nno-shadow\n");
  for (const char* h : {"memory/", "pids/", ""}) {
    EXPECT_FALSE(FileExists(std::string("/sys/fs/cgroup/") + h + "outpost/" + spec.run_id));
  }
}

TEST_F(SandboxVerifyTest, TheDeadlineStopsASandboxedCheck) {
  LaunchSpec spec = SandboxSpec("sbslow", "true", "echo started; exec sleep 30");
  spec.timeout_seconds = 2;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  ASSERT_TRUE(rec.verification.has_value());
  EXPECT_TRUE(rec.verification->timed_out);
  EXPECT_EQ(rec.verification->exit_code, std::nullopt);
  EXPECT_TRUE(rec.verification->tail.starts_with("started\n")) << rec.verification->tail;
  EXPECT_TRUE(proc::FindByEnvMarker("OUTPOST_RUN_ID=" + spec.run_id).empty());
}

// The exit record carries it (an optional field: a record without one reads as before).
TEST(VerifyJson, TheExitRecordCarriesTheVerificationOptionally) {
  ExitRecord rec;
  rec.outcome = ExitOutcome::kExited;
  rec.exit_code = 0;
  rec.ended_at = WallTime(std::chrono::seconds(1'700'000'000));
  json::object plain = ExitRecordToJson(rec);
  EXPECT_FALSE(plain.contains("verification"));
  Result<ExitRecord> back = ExitRecordFromJson(plain, "exit.json");
  ASSERT_OK(back);
  EXPECT_EQ(back->verification, std::nullopt);

  rec.verification = Verification{std::nullopt, false, "started\n", true};
  json::object o = ExitRecordToJson(rec);
  EXPECT_EQ(ToJson(o.at("verification")),
            R"({"passed":false,"tail":"started\n","timed_out":true})");
  back = ExitRecordFromJson(o, "exit.json");
  ASSERT_OK(back);
  EXPECT_EQ(back->verification, rec.verification);
  rec.verification = Verification{7, false, "x", false};
  back = ExitRecordFromJson(ExitRecordToJson(rec), "exit.json");
  ASSERT_OK(back);
  EXPECT_EQ(back->verification, rec.verification);
}

// The run channel's spec carries it, as strictly as every other field.
TEST(VerifyJson, TheRunSpecCarriesTheVerifyCommandStrictly) {
  RunSpec spec;
  spec.id = RunId("01JABCDEFGHJKMNPQRSTVWXYZ0");
  spec.argv = {"sh", "-c", "true"};
  json::object none = RunSpecToJson(spec);
  EXPECT_TRUE(none.at("verify").is_null());
  Result<RunSpec> back = RunSpecFromJson(none);
  ASSERT_OK(back);
  EXPECT_EQ(back->verify, std::nullopt);
  spec.verify = "make test";
  back = RunSpecFromJson(RunSpecToJson(spec));
  ASSERT_OK(back);
  EXPECT_EQ(back->verify, "make test");
  json::object missing = RunSpecToJson(spec);
  missing.erase("verify");
  EXPECT_THAT(RunSpecFromJson(missing),
              StatusIs(Code::kInvalidArgument, HasSubstr("verify: missing")));
  json::object mistyped = RunSpecToJson(spec);
  mistyped["verify"] = 1;
  EXPECT_THAT(RunSpecFromJson(mistyped),
              StatusIs(Code::kInvalidArgument, HasSubstr("verify: must be a string or null")));
}

}  // namespace
}  // namespace outpost
