// The shim's repository steps end to end (ProcessRunner + the real shim + real git): context
// prepended to the task argument, changes collected even when the run times out.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/files.h"
#include "runner/process_runner.h"
#include "runner/runner_test_util.h"
#include "workspace/collect.h"

namespace outpost {
namespace {

using testing::Slurp;
using testing::TempDir;
using testing::WaitFor;

class ShimCheckoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = tmp_.path() + "/origin";
    const std::string setup =
        "set -e; git init -q -b main " + origin_ + " && cd " + origin_ +
        " && printf '# Widgets\\nPurpose: make widgets\\n' > README.md && git add README.md && "
        "git -c user.name=t -c user.email=t@t commit -q -m init";
    ASSERT_EQ(std::system(setup.c_str()), 0);
  }
  LaunchSpec Spec(const std::string& id, std::vector<std::string> argv) {
    LaunchSpec spec;
    spec.run_id = id;
    spec.argv = std::move(argv);
    spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"T", tmp_.path()}};
    spec.workspace = runner_.Dir(id).workspace();
    spec.timeout_seconds = 30;
    spec.grace_seconds = 1;
    spec.repo_url = origin_;
    spec.local_repo_roots = {tmp_.path()};
    spec.repo_cache_dir = tmp_.path() + "/repos";
    return spec;
  }
  ExitRecord Run(const LaunchSpec& spec) {
    Status st = runner_.StartLaunch(spec);
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::optional<ExitRecord> rec;
    WaitFor(
        [&] {
          ShimProbe p = runner_.Probe(RunId(spec.run_id));
          if (p.state == ShimState::kExited) rec = p.exit;
          return p.state != ShimState::kRunning;
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(rec.has_value());
    return rec.value_or(ExitRecord{});
  }

  TempDir tmp_;
  std::string origin_;
  ProcessRunner runner_{tmp_.path() + "/runs", OUTPOST_TEST_SHIM, RealClock::Instance(),
                        Millis(10'000)};
};

TEST_F(ShimCheckoutTest, ContextIsPrependedToTheTaskArgumentAndSaved) {
  LaunchSpec spec = Spec("ctx", {"sh", "-c", "printf '%s' \"$0\" > $T/task.txt", "fix the bug"});
  spec.context_level = "standard";
  spec.task_arg_index = 3;
  ExitRecord rec = Run(spec);
  ASSERT_EQ(ToString(rec.outcome), "exited") << rec.message;
  const std::string context = Slurp(runner_.Dir("ctx").File("context.md"));
  EXPECT_NE(context.find("Project: origin\nPurpose: make widgets\n"), std::string::npos) << context;
  EXPECT_EQ(Slurp(tmp_.path() + "/task.txt"), context + "\n\n<task>\nfix the bug\n</task>");
}

TEST_F(ShimCheckoutTest, WithoutAContextLevelTheTaskIsUnchanged) {
  LaunchSpec spec = Spec("noctx", {"sh", "-c", "printf '%s' \"$0\" > $T/task.txt", "as is"});
  spec.task_arg_index = 3;
  ASSERT_EQ(ToString(Run(spec).outcome), "exited");
  EXPECT_EQ(Slurp(tmp_.path() + "/task.txt"), "as is");
  EXPECT_FALSE(FileExists(runner_.Dir("noctx").File("context.md")));
}

TEST_F(ShimCheckoutTest, TimedOutRunKeepsItsPartialChanges) {
  LaunchSpec spec = Spec("partial", {"sh", "-c", "echo partial > p.txt; exec sleep 60"});
  spec.timeout_seconds = 2;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "timeout_total") << rec.message;
  auto changes = workspace::ReadChanges(runner_.Dir("partial").File("changes.json"));
  ASSERT_TRUE(changes.ok()) << changes.status().message();
  EXPECT_EQ(changes->kind, "uncommitted");
  EXPECT_EQ(changes->files_changed, std::vector<std::string>{"p.txt"});
  EXPECT_TRUE(FileExists(runner_.Dir("partial").File("diff.patch")));
}

}  // namespace
}  // namespace outpost
