#include "runner/proc.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "common/ids.h"
#include "runner/runner_test_util.h"
#include "runner/shim/spawn.h"

namespace outpost::proc {
namespace {

using outpost::testing::Gone;
using outpost::testing::WaitFor;

std::string Marker() { return "OUTPOST_RUN_ID=proc-test-" + std::to_string(::getpid()); }

// Starts `sh -c script` in its own session, marked with Marker().
int StartMarked(const std::string& script) {
  Result<int> pid = shim::Spawn({{"/bin/sh", "-c", script},
                                 {"PATH=/usr/bin:/bin", Marker()},
                                 "",
                                 -1,
                                 -1,
                                 /*new_session=*/true});
  EXPECT_TRUE(pid.ok()) << pid.status().ToString();
  return pid.ok() ? *pid : -1;
}

std::string StatLine(std::string_view comm) {
  std::string s = "4242 (" + std::string(comm) + ") S 17";
  for (int field = 5; field <= 21; ++field) s += " " + std::to_string(field);
  return s + " 987654 23 24\n";
}

TEST(Proc, ParseStatCountsFieldsAfterTheLastParenthesis) {
  std::optional<StatInfo> s = ParseStat(StatLine("evil) R 1 (name"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 17);
  EXPECT_EQ(s->start_time, 987654u);
}

TEST(Proc, ParseStatRejectsTruncatedInput) {
  EXPECT_FALSE(ParseStat("4242 (x) S 1 2 3").has_value());
  EXPECT_FALSE(ParseStat("garbage").has_value());
}

TEST(Proc, IsAliveNeedsTheSameStartTime) {
  std::optional<std::uint64_t> start = StartTime(::getpid());
  ASSERT_TRUE(start.has_value());
  EXPECT_TRUE(IsAlive({::getpid(), *start}));
  EXPECT_FALSE(IsAlive({::getpid(), *start + 1}));
  EXPECT_EQ(ParentOf(::getpid()), ::getppid());
}

TEST(Proc, DescendantsIncludeGrandchildren) {
  int sh = StartMarked("sh -c 'sleep 100 & wait' & wait");
  ASSERT_GT(sh, 0);
  ASSERT_TRUE(WaitFor([&] { return Descendants(sh).size() == 2; }));  // inner sh, sleep
  std::vector<int> mine = Descendants(::getpid());
  EXPECT_NE(std::find(mine.begin(), mine.end(), sh), mine.end());
  EXPECT_EQ(KillAndVerify([&] { return FindByEnvMarker(Marker()); }, 500, RealClock::Instance()),
            3);
  EXPECT_TRUE(Gone(sh));
}

TEST(Proc, KillAndVerifyKillsTermIgnoringProcessesAfterTheGrace) {
  int sh = StartMarked("trap '' TERM; sleep 100 & sleep 100 & wait");
  ASSERT_GT(sh, 0);
  ASSERT_TRUE(WaitFor([] { return FindByEnvMarker(Marker()).size() == 3; }));
  std::vector<int> pids = FindByEnvMarker(Marker());
  bool sh_reaped = false;
  KillHooks hooks;
  hooks.on_reap = [&](int pid, int status) {
    if (pid == sh) sh_reaped = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  };
  const MonoTime t0 = RealClock::Instance().Mono();
  EXPECT_EQ(
      KillAndVerify([] { return FindByEnvMarker(Marker()); }, 300, RealClock::Instance(), hooks),
      3);
  EXPECT_GE(RealClock::Instance().Mono() - t0, Millis(300));
  EXPECT_TRUE(sh_reaped);
  for (int pid : pids) EXPECT_TRUE(Gone(pid)) << pid;
  EXPECT_TRUE(FindByEnvMarker(Marker()).empty());
}

TEST(Proc, KillAndVerifyCatchesProcessesForkedDuringTheKill) {
  int sh =
      StartMarked("trap '' TERM; i=0; while [ $i -lt 200 ]; do sleep 100 & i=$((i+1)); done; wait");
  ASSERT_GT(sh, 0);
  ASSERT_TRUE(WaitFor([] { return FindByEnvMarker(Marker()).size() > 5; }));
  int killed = KillAndVerify([] { return FindByEnvMarker(Marker()); }, 50, RealClock::Instance());
  EXPECT_GT(killed, 5);
  EXPECT_TRUE(FindByEnvMarker(Marker()).empty());
  EXPECT_TRUE(Gone(sh));
}

// Audit F3: a run is known by its cgroup outpost/<ULID> (below a container's own path too),
// never by a name that is not a ULID.
TEST(Proc, F3_RunOfCgroupTakesOnlyAnOutpostGroupNamedByAUlid) {
  const std::string id = "01JABCDEFGHJKMNPQRSTVWXYZ0";
  EXPECT_EQ(RunOfCgroup("4:memory:/outpost/" + id + "\n3:pids:/outpost/" + id + "\n"), id);
  EXPECT_EQ(RunOfCgroup("0::/docker/abc/outpost/" + id + "\n"), id);
  EXPECT_EQ(RunOfCgroup("4:memory:/user.slice\n0::/outpost/" + id + "/sub\n"), id);
  EXPECT_FALSE(RunOfCgroup("4:memory:/system.slice/ssh.service\n").has_value());
  EXPECT_FALSE(RunOfCgroup("4:memory:/outpost/x\n").has_value());
  EXPECT_FALSE(RunOfCgroup("4:memory:/outpost/" + id + "X/workspace\n").has_value());
  EXPECT_FALSE(RunOfCgroup("/outpost/" + id).has_value());  // not a cgroup line
}

// Audit F3: markers are trusted only from processes that run as our uid outside every
// outpost/ group, and only with env_markers; their value must be a ULID.
TEST(Proc, F3_RunProcessesIgnoresMarkersThatAreNotUlidsOrFromOtherUids) {
  const std::string id = NewUlid(RealClock::Instance().Now());
  auto start = [](const std::string& marker, std::optional<int> uid) {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (uid && (::setgid(*uid) != 0 || ::setuid(*uid) != 0)) ::_exit(126);
      char* const argv[] = {const_cast<char*>("/bin/sleep"), const_cast<char*>("60"), nullptr};
      char* const envp[] = {const_cast<char*>(marker.c_str()), nullptr};
      ::execve(argv[0], argv, envp);
      ::_exit(127);
    }
    return pid;
  };
  const pid_t mine = start("OUTPOST_RUN_ID=" + id, std::nullopt);
  const pid_t forged = start("OUTPOST_RUN_ID=" + id + "/workspace/x", std::nullopt);
  std::vector<pid_t> pids{mine, forged};
  std::optional<pid_t> other_uid;
  if (::geteuid() == 0) {
    other_uid = start("OUTPOST_RUN_ID=" + id, 300999);
    pids.push_back(*other_uid);
  }
  ASSERT_TRUE(WaitFor([&] {
    return FindByEnvMarker("OUTPOST_RUN_ID=" + id).size() == (other_uid ? 2u : 1u) &&
           FindByEnvMarker("OUTPOST_RUN_ID=" + id + "/workspace/x").size() == 1u;
  }));
  auto all = RunProcesses("/nonexistent-runs", /*env_markers=*/true);
  ASSERT_TRUE(all.count(id));
  EXPECT_EQ(all.at(id), std::vector<int>{mine});  // neither the other uid's nor the forged one
  for (const auto& [run, members] : all) EXPECT_TRUE(IsUlid(run)) << run;
  EXPECT_EQ(RunProcesses("/nonexistent-runs", /*env_markers=*/false).count(id), 0u);
  for (pid_t pid : pids) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

}  // namespace
}  // namespace outpost::proc
