#include "runner/run_dir.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/time_util.h"
#include "runner/runner_test_util.h"

namespace outpost {
namespace {

using testing::TempDir;

TEST(RunDir, SpecRoundTripsEveryField) {
  TempDir tmp;
  RunDir dir(tmp.path());
  LaunchSpec spec;
  spec.run_id = "01JRUN";
  spec.argv = {"claude", "-p", "fix it"};
  spec.env = {{"PATH", "/bin"}, {"HOME", "/home/x"}};
  spec.workspace = "/w";
  spec.timeout_seconds = 42;
  spec.inactivity_timeout_seconds = 7;
  spec.grace_seconds = 3;
  spec.repo_url = "https://example.com/r.git";
  spec.branch = "dev";
  spec.notify_socket = "/tmp/n.sock";
  spec.home_files = {{".gemini/settings.json", "{\"a\":1}"}};
  ASSERT_TRUE(dir.WriteSpec(spec).ok());
  Result<LaunchSpec> got = dir.ReadSpec();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->run_id, spec.run_id);
  EXPECT_EQ(got->argv, spec.argv);
  EXPECT_EQ(got->env, spec.env);
  EXPECT_EQ(got->workspace, "/w");
  EXPECT_EQ(got->timeout_seconds, 42);
  EXPECT_EQ(got->inactivity_timeout_seconds, 7);
  EXPECT_EQ(got->grace_seconds, 3);
  EXPECT_EQ(got->repo_url, spec.repo_url);
  EXPECT_EQ(got->branch, spec.branch);
  EXPECT_EQ(got->notify_socket, spec.notify_socket);
  EXPECT_EQ(got->home_files, spec.home_files);
}

TEST(RunDir, ExitRecordRoundTrips) {
  TempDir tmp;
  RunDir dir(tmp.path());
  ExitRecord rec;
  rec.outcome = ExitOutcome::kCancelled;
  rec.signal = 9;
  rec.started_at = FromMillis(1'700'000'000'123);
  rec.ended_at = FromMillis(1'700'000'005'456);
  rec.message = "cancelled: user";
  rec.cancel_reason = "user";
  rec.leftover_processes_killed = 2;
  rec.stdout_bytes = 5'000'000'000;
  rec.stderr_bytes = 4;
  ASSERT_TRUE(dir.WriteExit(rec).ok());
  Result<ExitRecord> got = dir.ReadExit();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(ToString(got->outcome), "cancelled");
  EXPECT_EQ(got->exit_code, std::nullopt);
  EXPECT_EQ(got->signal, 9);
  EXPECT_EQ(got->started_at, rec.started_at);
  EXPECT_EQ(got->ended_at, rec.ended_at);
  EXPECT_EQ(got->cancel_reason, "user");
  EXPECT_EQ(got->leftover_processes_killed, 2);
  EXPECT_EQ(got->stdout_bytes, 5'000'000'000);
  EXPECT_EQ(got->stderr_bytes, 4);
  EXPECT_EQ(got->cgroup_version, "");
  EXPECT_EQ(got->peak_memory_bytes, std::nullopt);
}

TEST(RunDir, ExitRecordCarriesTheAgentsResult) {
  TempDir tmp;
  RunDir dir(tmp.path());
  ExitRecord rec;
  rec.outcome = ExitOutcome::kExited;
  rec.exit_code = 1;
  rec.ended_at = FromMillis(1'700'000'005'456);
  AgentResult a;
  a.final_message = "done \"quoted\"\nline";
  a.usage = {1234, 56};
  a.has_usage = true;
  a.cost_usd = 0.125;
  a.error = "rate limited";
  rec.agent = a;
  rec.agent_turns = 7;
  ASSERT_TRUE(dir.WriteExit(rec).ok());
  Result<ExitRecord> got = dir.ReadExit();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->agent.has_value());
  EXPECT_EQ(got->agent->final_message, a.final_message);
  EXPECT_EQ(got->agent->usage, a.usage);
  EXPECT_TRUE(got->agent->has_usage);
  EXPECT_EQ(got->agent->cost_usd, 0.125);
  EXPECT_EQ(got->agent->error, "rate limited");
  EXPECT_EQ(got->agent_turns, 7);
  // Without one (an older shim's record, or none parsed), there is none.
  rec.agent.reset();
  ASSERT_TRUE(dir.WriteExit(rec).ok());
  got = dir.ReadExit();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->agent, std::nullopt);
  EXPECT_EQ(got->agent_turns, 0);
}

TEST(RunDir, ProgressRoundTrips) {
  TempDir tmp;
  RunDir dir(tmp.path());
  EXPECT_EQ(dir.ReadProgress(), std::nullopt);
  ASSERT_TRUE(dir.WriteProgress({4, true}).ok());
  std::optional<RunProgress> p = dir.ReadProgress();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->turns, 4);
  EXPECT_TRUE(p->collecting);
}

TEST(RunDir, SandboxSpecRoundTripsEveryField) {
  TempDir tmp;
  RunDir dir(tmp.path());
  LaunchSpec spec;
  spec.run_id = "01JSBX";
  spec.argv = {"true"};
  SandboxSpec& s = spec.sandbox;
  s.enabled = true;
  s.uid = 200001;
  s.gid = 200002;
  s.home = "/data/runs/x/home";
  s.ro_binds = {"/opt/agent", "/opt/node"};
  s.network = "allowlist";
  s.allow = {"api.anthropic.com:443", "*.example.com:443"};
  s.outpost_exe = "/usr/local/bin/outpost";
  s.memory_bytes = 1LL << 32;
  s.pids_max = 64;
  s.cpu_millicores = 1500;
  s.disk_bytes = 5'000'000'000;
  s.cgroup_name = "outpost/01JSBX";
  ASSERT_TRUE(dir.WriteSpec(spec).ok());
  Result<LaunchSpec> got = dir.ReadSpec();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const SandboxSpec& g = got->sandbox;
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.uid, 200001);
  EXPECT_EQ(g.gid, 200002);
  EXPECT_EQ(g.home, s.home);
  EXPECT_EQ(g.ro_binds, s.ro_binds);
  EXPECT_EQ(g.network, "allowlist");
  EXPECT_EQ(g.allow, s.allow);
  EXPECT_EQ(g.outpost_exe, s.outpost_exe);
  EXPECT_EQ(g.memory_bytes, 1LL << 32);
  EXPECT_EQ(g.pids_max, 64);
  EXPECT_EQ(g.cpu_millicores, 1500);
  EXPECT_EQ(g.disk_bytes, 5'000'000'000);
  EXPECT_EQ(g.cgroup_name, "outpost/01JSBX");
}

TEST(RunDir, SpecWithoutSandboxReadsAsDisabled) {
  TempDir tmp;
  RunDir dir(tmp.path());
  ASSERT_TRUE(WriteFileAtomic(dir.File("spec.json"), R"({"run_id":"r","argv":["true"]})").ok());
  Result<LaunchSpec> got = dir.ReadSpec();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->sandbox.enabled);
  EXPECT_EQ(got->sandbox.network, "none");
  EXPECT_EQ(got->sandbox.pids_max, 512);
  EXPECT_EQ(got->sandbox.memory_bytes, std::nullopt);
}

TEST(RunDir, ExitRecordKeepsCgroupFigures) {
  TempDir tmp;
  RunDir dir(tmp.path());
  ExitRecord rec;
  rec.outcome = ExitOutcome::kOom;
  rec.ended_at = FromMillis(1'700'000'005'456);
  rec.cgroup_version = "v1";
  rec.peak_memory_bytes = 67'108'864;
  ASSERT_TRUE(dir.WriteExit(rec).ok());
  Result<ExitRecord> got = dir.ReadExit();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(ToString(got->outcome), "oom");
  EXPECT_EQ(got->cgroup_version, "v1");
  EXPECT_EQ(got->peak_memory_bytes, 67'108'864);
}

TEST(RunDir, MissingExitIsNotFoundAndMalformedIsInternal) {
  TempDir tmp;
  RunDir dir(tmp.path());
  EXPECT_EQ(dir.ReadExit().status().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir.File("exit.json"), "{\"outcome\":").ok());
  EXPECT_EQ(dir.ReadExit().status().code(), Code::kInternal);
  ASSERT_TRUE(WriteFileAtomic(dir.File("exit.json"), "{\"message\":\"x\"}").ok());
  EXPECT_EQ(dir.ReadExit().status().code(), Code::kInternal);
}

// exit.json names the outcome as every shim wrote it; a record with a name this build does not
// know is refused with the name, never read as another outcome.
TEST(RunDir, ExitOutcomesAreWrittenByNameAndUnknownNamesAreRefused) {
  TempDir tmp;
  RunDir dir(tmp.path());
  for (const auto& [outcome, name] : kExitOutcomeNames) {
    ExitRecord rec;
    rec.outcome = outcome;
    rec.ended_at = FromMillis(1'700'000'005'456);
    ASSERT_TRUE(dir.WriteExit(rec).ok());
    auto written = ReadFile(dir.File("exit.json"));
    ASSERT_TRUE(written.ok());
    EXPECT_NE(written->find("\"outcome\":\"" + std::string(name) + "\""), std::string::npos)
        << *written;
    Result<ExitRecord> got = dir.ReadExit();
    ASSERT_TRUE(got.ok()) << name << ": " << got.status().ToString();
    EXPECT_EQ(got->outcome, outcome) << name;
    EXPECT_EQ(ParseExitOutcome(name), outcome);
    EXPECT_EQ(ToString(outcome), name);
  }
  ASSERT_TRUE(WriteFileAtomic(dir.File("exit.json"),
                              R"({"outcome":"vanished","ended_at":"2025-11-28T08:22:40.123Z"})")
                  .ok());
  Result<ExitRecord> got = dir.ReadExit();
  EXPECT_EQ(got.status().code(), Code::kInternal);
  EXPECT_NE(got.status().message().find("unknown outcome \"vanished\""), std::string::npos)
      << got.status().ToString();
}

TEST(RunDir, ShimInfoStartedAndCancelRoundTrip) {
  TempDir tmp;
  RunDir dir(tmp.path());
  EXPECT_EQ(dir.ReadShimInfo().status().code(), Code::kNotFound);
  EXPECT_FALSE(dir.ReadStarted().has_value());
  EXPECT_FALSE(dir.ReadCancel().has_value());
  ASSERT_TRUE(dir.WriteShimInfo({1234, 987654321012ULL}).ok());
  ASSERT_TRUE(dir.WriteStarted(FromMillis(1'700'000'000'000), 4321).ok());
  ASSERT_TRUE(dir.WriteCancel({"no longer needed", FromMillis(1'700'000'001'000)}).ok());
  EXPECT_EQ(dir.ReadShimInfo()->pid, 1234);
  EXPECT_EQ(dir.ReadShimInfo()->start_time, 987654321012ULL);
  EXPECT_EQ(dir.ReadStarted(), FromMillis(1'700'000'000'000));
  EXPECT_EQ(dir.ReadStartedPid(), 4321);
  EXPECT_EQ(dir.ReadCancel()->reason, "no longer needed");
  EXPECT_EQ(dir.ReadCancel()->requested_at, FromMillis(1'700'000'001'000));
}

}  // namespace
}  // namespace outpost
