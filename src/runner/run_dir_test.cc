#include "runner/run_dir.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

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

TEST(RunDir, Secrets_AtRest_TheSecretPartIsNotInSpecJsonAndMergesBack) {
  TempDir tmp;
  RunDir dir(tmp.path());
  LaunchSpec spec;
  spec.run_id = "r1";
  spec.argv = {"agent"};
  spec.env = {{"PATH", "/bin"}, {"KEY", "k-value-1234"}, {"MIXED", "x:k-value-1234"}};
  spec.redact = {"k-value-1234"};
  spec.git_token = "git-token-5678";
  spec.git_token_url = "https://github.com";
  spec.home_files = {{"a.json", "{\"key\":\"k-value-1234\"}"}, {"b.json", "{}"}};
  ASSERT_TRUE(dir.WriteSpec(spec).ok());
  const std::string text = *ReadFile(dir.File("spec.json"));
  EXPECT_EQ(text.find("k-value-1234"), std::string::npos) << text;
  EXPECT_EQ(text.find("git-token-5678"), std::string::npos) << text;
  Result<LaunchSpec> got = dir.ReadSpec();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->env, (std::map<std::string, std::string>{{"PATH", "/bin"}}));
  EXPECT_EQ(got->git_token_url, spec.git_token_url);
  ASSERT_TRUE(MergeSecrets(SecretsToJson(spec), *got).ok());
  EXPECT_EQ(got->env, spec.env);
  EXPECT_EQ(got->redact, spec.redact);
  EXPECT_EQ(got->git_token, spec.git_token);
  EXPECT_EQ(got->home_files, spec.home_files);
  EXPECT_EQ(MergeSecrets("not json", *got).code(), Code::kInternal);
}

// Issue 18 item 10: a file system of `type` (tmpfs, or ext4 on a loop image) mounted on a fresh
// directory, unmounted at the end. The mount itself is checked by the test (ok()).
class SmallFs {
 public:
  explicit SmallFs(const std::string& type) {
    if (type == "tmpfs") {
      ok_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=4m") == 0;
      if (!ok_) error_ = std::string("mount tmpfs: ") + std::strerror(errno);
      return;
    }
    const std::string img = image_.Join("fs.img");
    const std::string cmd = "truncate -s 16M " + img + " && mkfs.ext4 -q -F -m 0 " + img +
                            " >/dev/null 2>&1 && mount -o loop " + img + " " + dir_.path();
    ok_ = std::system(cmd.c_str()) == 0;
    if (!ok_) error_ = "cannot make an ext4 loop mount (needs truncate, mkfs.ext4, mount): " + cmd;
  }
  ~SmallFs() {
    if (ok_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string path() const { return dir_.path(); }
  // Writes until the file system says ENOSPC; true when it did.
  bool Fill() const {
    for (int i = 0;; ++i) {
      std::ofstream f(dir_.Join("fill" + std::to_string(i)), std::ios::binary);
      if (!f) return errno == ENOSPC;
      const std::string block(4096, 'x');
      for (;;) {
        f.write(block.data(), static_cast<std::streamsize>(block.size()));
        f.flush();
        if (!f) break;
      }
      f.close();
      // A last small file can still fit in a partial block: go on until nothing fits.
      if (i > 64) return true;
    }
  }

 private:
  TempDir dir_;
  TempDir image_;
  bool ok_ = false;
  std::string error_;
};

class ExitOnAFullDisk : public ::testing::TestWithParam<std::string> {};

// Issue 18 item 10: the shim reserves the record's space when it starts; with the disk full
// at the end the record is still written (before: ENOSPC, no exit.json, supervisor_lost).
TEST_P(ExitOnAFullDisk, Item10_ExitRecordIsWrittenWhenTheDiskIsFull) {
  SmallFs fs(GetParam());
  ASSERT_TRUE(fs.ok()) << fs.error();
  RunDir dir(fs.path());
  ASSERT_TRUE(dir.ReserveExit().ok());
  ASSERT_TRUE(fs.Fill());
  ASSERT_FALSE(WriteFileAtomic(fs.path() + "/probe", std::string(8192, 'p')).ok())
      << "the disk is not full";
  ExitRecord rec;
  rec.outcome = ExitOutcome::kExited;
  rec.exit_code = 0;
  rec.ended_at = FromMillis(1'700'000'005'456);
  rec.message = "agent exited with code 0";
  rec.agent = AgentResult{};
  rec.agent->final_message = std::string(16 * 1024, '\x01');  // escaped: six times as long
  Status st = dir.WriteExit(rec);
  ASSERT_TRUE(st.ok()) << st.ToString();
  Result<ExitRecord> got = dir.ReadExit();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(ToString(got->outcome), "exited");
  EXPECT_EQ(got->exit_code, 0);
  ASSERT_TRUE(got->agent.has_value());
  EXPECT_EQ(got->agent->final_message, rec.agent->final_message);
  EXPECT_FALSE(FileExists(dir.File("exit.json.reserve")));
}

INSTANTIATE_TEST_SUITE_P(Fs, ExitOnAFullDisk, ::testing::Values("tmpfs", "ext4"));

// Without a reserve (an older shim, or no room at start) the record is written as before.
TEST(RunDir, ExitRecordWithoutAReserveIsWrittenAsBefore) {
  TempDir tmp;
  RunDir dir(tmp.path());
  ExitRecord rec;
  rec.outcome = ExitOutcome::kExited;
  rec.ended_at = FromMillis(1'700'000'005'456);
  ASSERT_TRUE(dir.WriteExit(rec).ok());
  EXPECT_EQ(ToString(dir.ReadExit()->outcome), "exited");
  ASSERT_TRUE(dir.ReserveExit().ok());  // a reserve left over, then a second record
  rec.outcome = ExitOutcome::kCancelled;
  ASSERT_TRUE(dir.WriteExit(rec).ok());
  EXPECT_EQ(ToString(dir.ReadExit()->outcome), "cancelled");
  EXPECT_FALSE(FileExists(dir.File("exit.json.reserve")));
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
  RunProgress written;
  written.turns = 4;
  written.collecting = true;
  ASSERT_TRUE(dir.WriteProgress(written).ok());
  std::optional<RunProgress> p = dir.ReadProgress();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->turns, 4);
  EXPECT_TRUE(p->collecting);
  EXPECT_FALSE(p->has_usage);  // none reported (or a shim that knows no usage)
  EXPECT_FALSE(p->cost_usd);
  // The usage so far (issue 18 item 11: a run over its maxCostUsd is stopped from it).
  written.has_usage = true;
  written.usage = {1200, 340};
  written.cost_usd = 0.0421;
  ASSERT_TRUE(dir.WriteProgress(written).ok());
  p = dir.ReadProgress();
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->has_usage);
  EXPECT_EQ(p->usage, (TokenUsage{1200, 340}));
  EXPECT_EQ(p->cost_usd, 0.0421);
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

// Audit F3: what a run directory holds is read as root, so a file there is read only when it
// is a regular file of bounded size: a FIFO does not block the reader, a link (to /dev/zero, to
// a file elsewhere) is not followed, a device or an oversized file is refused, not read.
TEST(RunDir, F3_RunFilesAreReadWithoutLinksFifosDevicesOrUnboundedSizes) {
  TempDir tmp;
  RunDir dir(tmp.path());
  ASSERT_EQ(::mkfifo(dir.File("spec.json").c_str(), 0600), 0);
  Result<LaunchSpec> fifo = dir.ReadSpec();  // blocks forever in open() on the old code
  EXPECT_EQ(fifo.status().code(), Code::kInternal);
  EXPECT_NE(fifo.status().message().find("not a regular file"), std::string::npos)
      << fifo.status().ToString();

  ASSERT_EQ(::symlink("/dev/zero", dir.File("exit.json").c_str()), 0);
  Result<ExitRecord> zero = dir.ReadExit();  // reads without end on the old code
  EXPECT_EQ(zero.status().code(), Code::kInternal);
  EXPECT_NE(zero.status().message().find("symbolic link"), std::string::npos)
      << zero.status().ToString();

  // A link to a well-formed file is not followed either.
  ASSERT_TRUE(WriteFileAtomic(tmp.path() + "/elsewhere.json", R"({"pid":1,"start_time":2})").ok());
  ASSERT_EQ(::symlink((tmp.path() + "/elsewhere.json").c_str(), dir.File("shim.json").c_str()), 0);
  EXPECT_EQ(dir.ReadShimInfo().status().code(), Code::kInternal);

  EXPECT_EQ(ReadRunFile("/dev/null").status().code(), Code::kInternal);
  ASSERT_TRUE(WriteFileAtomic(dir.File("progress.json"), std::string(100, ' ') + "{}").ok());
  Result<std::string> big = ReadRunFile(dir.File("progress.json"), 64);
  EXPECT_EQ(big.status().code(), Code::kInternal);
  EXPECT_NE(big.status().message().find("larger than 64 bytes"), std::string::npos);
  EXPECT_EQ(ReadRunFile(dir.File("progress.json"), 102).value(), std::string(100, ' ') + "{}");
  EXPECT_EQ(ReadRunFile(dir.File("absent.json")).status().code(), Code::kNotFound);
  EXPECT_TRUE(IsRegularFile(dir.File("progress.json")));
  EXPECT_FALSE(IsRegularFile(dir.File("shim.json")));
  EXPECT_FALSE(IsRegularFile(dir.File("spec.json")));
}

}  // namespace
}  // namespace outpost
