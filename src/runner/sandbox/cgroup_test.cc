// Cgroup: the file logic against fake v1/v2 trees in a temp dir (the kernel's side mimicked by
// pre-created interface files), then the real thing on this machine's hierarchy (root only).
#include "runner/sandbox/cgroup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/files.h"
#include "runner/runner_test_util.h"
#include "runner/shim/spawn.h"

namespace outpost::sandbox {
namespace {

using testing::Slurp;
using testing::TempDir;
using testing::WaitFor;

void Put(const std::string& path, const std::string& content) {
  ASSERT_TRUE(WriteFileAtomic(path, content).ok()) << path;
}

// A v2 tree as the kernel shows it: root offers cpu/memory/pids, outpost/run1 already made.
void FakeV2(const std::string& root, bool swap) {
  Put(root + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  Put(root + "/cgroup.subtree_control", "");
  ASSERT_TRUE(MakeDirs(root + "/outpost/run1").ok());
  Put(root + "/outpost/cgroup.controllers", "cpu memory pids\n");
  const std::string leaf = root + "/outpost/run1/";
  for (const char* f : {"memory.max", "pids.max", "cpu.max", "cgroup.procs", "cgroup.freeze"}) {
    Put(leaf + f, "");
  }
  if (swap) Put(leaf + "memory.swap.max", "max\n");
  Put(leaf + "cgroup.events", "populated 1\nfrozen 1\n");
  Put(leaf + "memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n");
  Put(leaf + "memory.peak", "123456789\n");
}

TEST(CgroupV2, CreateEnablesControllersInEveryAncestorAndWritesTheLimits) {
  TempDir tmp;
  FakeV2(tmp.path(), /*swap=*/true);
  Result<Cgroup> cg = Cgroup::Create("outpost/run1", {64 << 20, 64, 1500}, tmp.path());
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_EQ(cg->version(), "v2");
  EXPECT_EQ(cg->dirs(), std::vector<std::string>{tmp.path() + "/outpost/run1"});
  EXPECT_EQ(Slurp(tmp.path() + "/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(Slurp(tmp.path() + "/outpost/cgroup.subtree_control"), "+cpu +memory +pids");
  const std::string leaf = tmp.path() + "/outpost/run1/";
  EXPECT_EQ(Slurp(leaf + "memory.max"), "67108864");
  EXPECT_EQ(Slurp(leaf + "memory.swap.max"), "0");
  EXPECT_EQ(Slurp(leaf + "pids.max"), "64");
  EXPECT_EQ(Slurp(leaf + "cpu.max"), "150000 100000");
}

TEST(CgroupV2, SwapLimitIsWrittenOnlyWhenTheKernelHasIt) {
  TempDir tmp;
  FakeV2(tmp.path(), /*swap=*/false);
  ASSERT_TRUE(Cgroup::Create("outpost/run1", {64 << 20, 64, std::nullopt}, tmp.path()).ok());
  EXPECT_FALSE(FileExists(tmp.path() + "/outpost/run1/memory.swap.max"));
  EXPECT_EQ(Slurp(tmp.path() + "/outpost/run1/cpu.max"), "");
}

TEST(CgroupV2, MembershipFreezeAndFiguresGoThroughTheUnifiedFiles) {
  TempDir tmp;
  FakeV2(tmp.path(), true);
  Result<Cgroup> cg = Cgroup::Create("outpost/run1", {}, tmp.path());
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  const std::string leaf = tmp.path() + "/outpost/run1/";
  ASSERT_TRUE(cg->AddPid(4242).ok());
  EXPECT_EQ(Slurp(leaf + "cgroup.procs"), "4242");
  Put(leaf + "cgroup.procs", "77\n4242\n");
  EXPECT_EQ(cg->Pids(), (std::vector<int>{77, 4242}));
  ASSERT_TRUE(cg->Freeze(RealClock::Instance()).ok());
  EXPECT_EQ(Slurp(leaf + "cgroup.freeze"), "1");
  ASSERT_TRUE(cg->Thaw().ok());
  EXPECT_EQ(Slurp(leaf + "cgroup.freeze"), "0");
  EXPECT_TRUE(cg->OomKilled());
  EXPECT_EQ(cg->PeakMemory(), 123456789);
}

TEST(CgroupV2, FreezeThatNeverTakesEffectIsUnavailable) {
  TempDir tmp;
  FakeV2(tmp.path(), true);
  Put(tmp.path() + "/outpost/run1/cgroup.events", "populated 1\nfrozen 0\n");
  Result<Cgroup> cg = Cgroup::Create("outpost/run1", {}, tmp.path());
  ASSERT_TRUE(cg.ok());
  SimulatedClock clock;
  Status st = cg->Freeze(clock, [&clock](Millis d) { clock.Advance(d * 100); });
  EXPECT_EQ(st.code(), Code::kUnavailable);
}

TEST(CgroupV2, NoMemoryControllerIsFailedPrecondition) {
  TempDir tmp;
  Put(tmp.path() + "/cgroup.controllers", "cpu io pids\n");
  EXPECT_EQ(Cgroup::Create("outpost/r", {}, tmp.path()).status().code(), Code::kFailedPrecondition);
}

TEST(Cgroup, NoHierarchyAtAllIsFailedPreconditionAndBadNamesAreInvalid) {
  TempDir tmp;
  EXPECT_EQ(Cgroup::Create("outpost/r", {}, tmp.path()).status().code(), Code::kFailedPrecondition);
  for (const char* bad : {"", "/abs", "outpost/../x", "outpost//x", "x/"}) {
    EXPECT_EQ(Cgroup::Create(bad, {}, tmp.path()).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(CgroupV1, FakeTreeGetsOneGroupPerControllerAndNoMemswWhenAbsent) {
  TempDir tmp;
  for (const char* c : {"memory", "pids", "freezer"})
    ASSERT_TRUE(MakeDirs(tmp.path() + "/" + c).ok());
  Result<Cgroup> cg = Cgroup::Create("outpost/r", {32 << 20, 10, std::nullopt}, tmp.path());
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_EQ(cg->version(), "v1");
  EXPECT_EQ(cg->dirs().size(), 3u);
  EXPECT_EQ(Slurp(tmp.path() + "/memory/outpost/r/memory.limit_in_bytes"), "33554432");
  EXPECT_FALSE(FileExists(tmp.path() + "/memory/outpost/r/memory.memsw.limit_in_bytes"));
  EXPECT_EQ(Slurp(tmp.path() + "/pids/outpost/r/pids.max"), "10");
  Put(tmp.path() + "/memory/outpost/r/memory.oom_control",
      "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  Put(tmp.path() + "/memory/outpost/r/memory.max_usage_in_bytes", "999\n");
  EXPECT_TRUE(cg->OomKilled());
  EXPECT_EQ(cg->PeakMemory(), 999);
  // A CPU limit without a cpu hierarchy cannot be enforced.
  EXPECT_EQ(Cgroup::Create("outpost/r2", {std::nullopt, 10, 500}, tmp.path()).status().code(),
            Code::kFailedPrecondition);
}

// The real hierarchy of this machine (cgroup v1 here; v2 elsewhere). Needs root.
class RealCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u)
        << "needs root (make test runs as root: the integration tests' servers need it too)";
    name_ = "outpost/test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    if (Result<Cgroup> cg = Cgroup::Open(name_); cg.ok()) {
      cg->KillAll(0, RealClock::Instance());
      (void)cg->Remove(RealClock::Instance());
    }
  }
  std::string name_;
};

TEST_F(RealCgroupTest, LimitsAreWrittenAndRemoveLeavesNoDirectory) {
  Result<Cgroup> cg = Cgroup::Create(name_, {64 << 20, 32, 500});
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  if (cg->version() == "v1") {
    const std::string mem = "/sys/fs/cgroup/memory/" + name_;
    EXPECT_EQ(Slurp(mem + "/memory.limit_in_bytes"), "67108864\n");
    if (FileExists(mem + "/memory.memsw.limit_in_bytes")) {
      EXPECT_EQ(Slurp(mem + "/memory.memsw.limit_in_bytes"), "67108864\n");
    }
    EXPECT_EQ(Slurp("/sys/fs/cgroup/pids/" + name_ + "/pids.max"), "32\n");
    EXPECT_EQ(Slurp("/sys/fs/cgroup/cpu/" + name_ + "/cpu.cfs_quota_us"), "50000\n");
    EXPECT_EQ(Slurp("/sys/fs/cgroup/cpu/" + name_ + "/cpu.cfs_period_us"), "100000\n");
  } else {
    EXPECT_EQ(Slurp("/sys/fs/cgroup/" + name_ + "/memory.max"), "67108864\n");
    EXPECT_EQ(Slurp("/sys/fs/cgroup/" + name_ + "/pids.max"), "32\n");
  }
  EXPECT_TRUE(cg->Pids().empty());
  ASSERT_TRUE(cg->Remove(RealClock::Instance()).ok());
  for (const std::string& d : cg->dirs()) EXPECT_FALSE(FileExists(d)) << d;
}

TEST_F(RealCgroupTest, KillAllEmptiesAGroupThatForksContinuouslyAndIgnoresSigterm) {
  Result<Cgroup> cg = Cgroup::Create(name_, {std::nullopt, 512, std::nullopt});
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  shim::SpawnRequest req{{"sh", "-c",
                          "trap '' TERM; while :; do (trap '' TERM; exec sleep 100) & "
                          "sleep 0.01; done"},
                         {"PATH=/usr/bin:/bin"},
                         "/",
                         -1,
                         -1,
                         /*new_session=*/true};
  req.cgroup = &*cg;
  Result<int> pid = shim::Spawn(req);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return cg->Pids().size() >= 10; }));
  std::vector<int> members = cg->Pids();
  EXPECT_NE(std::find(members.begin(), members.end(), *pid), members.end());
  const auto t0 = std::chrono::steady_clock::now();
  int killed = cg->KillAll(1000, RealClock::Instance());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(950));
  EXPECT_GE(killed, 10);
  EXPECT_TRUE(cg->Pids().empty());
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_TRUE(cg->Remove(RealClock::Instance()).ok());
  for (const std::string& d : cg->dirs()) EXPECT_FALSE(FileExists(d)) << d;
}

TEST_F(RealCgroupTest, OpenFindsAnExistingGroupAndMissingIsNotFound) {
  EXPECT_EQ(Cgroup::Open(name_).status().code(), Code::kNotFound);
  ASSERT_TRUE(Cgroup::Create(name_, {}).ok());
  Result<Cgroup> cg = Cgroup::Open(name_);
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_TRUE(cg->Pids().empty());
  EXPECT_FALSE(cg->OomKilled());
  EXPECT_TRUE(cg->Remove(RealClock::Instance()).ok());
}

}  // namespace
}  // namespace outpost::sandbox
