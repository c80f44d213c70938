#include "runner/proc.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

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

}  // namespace
}  // namespace outpost::proc
