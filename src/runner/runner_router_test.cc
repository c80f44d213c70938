// RunnerRouter: a run starts on its spec's runner; every later call goes to the runner holding
// the run (whatever the config says now); Reap and LiveRuns span every runner.
#include "runner/runner_router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "testing/status_matchers.h"

namespace outpost {
namespace {

using ::outpost::testing::StatusIs;

// Records what it was asked; holds the runs it started.
class StubRunner final : public Runner {
 public:
  StubRunner(RunnerKind kind, bool channel) : kind_(kind), channel_(channel) {}
  RunnerKind kind() const override { return kind_; }
  bool ReportsOverChannel(const RunId&) override { return channel_; }
  Status Start(const RunSpec& spec) override {
    started.insert(spec.id.str());
    return Status::Ok();
  }
  Status RequestCancel(const RunId& id, const std::string&) override {
    cancelled.insert(id.str());
    return Status::Ok();
  }
  ShimProbe Probe(const RunId& id) override {
    return {started.count(id.str()) ? ShimState::kRunning : ShimState::kNotStarted, std::nullopt};
  }
  std::optional<WallTime> Started(const RunId&) override { return std::nullopt; }
  RunProgress Progress(const RunId&) override { return {}; }
  std::optional<Changes> ChangesOf(const RunId&) override { return std::nullopt; }
  int KillLeftovers(const RunId& id) override { return Reap(id); }
  std::vector<RunId> LiveRuns() override {
    std::vector<RunId> out;
    for (const std::string& id : started) out.emplace_back(id);
    return out;
  }
  int Reap(const RunId& id) override { return static_cast<int>(started.erase(id.str())); }
  std::vector<KeptRun> KeptRuns() override { return {}; }
  Status Discard(const RunId&) override { return Status::Ok(); }
  Result<EventBatch> ReadEvents(const RunId&, std::int64_t, std::size_t) override {
    return EventBatch{};
  }
  Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId&, std::function<void()>) override {
    return Unavailable("stub");
  }
  Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId&, RunOutput) override {
    return NotFound("stub");
  }
  std::set<std::string> started, cancelled;

 private:
  RunnerKind kind_;
  bool channel_;
};

TEST(RunnerRouter, StartsOnTheSpecsRunnerAndRoutesByWhoHoldsTheRun) {
  StubRunner sandbox(RunnerKind::kSandbox, false), docker(RunnerKind::kDocker, true);
  RunnerRouter router(RunnerKind::kSandbox);
  router.Add(RunnerKind::kDocker, &docker,
             [&](const RunId& id) { return docker.started.count(id.str()) > 0; });
  router.Add(RunnerKind::kSandbox, &sandbox,
             [&](const RunId& id) { return sandbox.started.count(id.str()) > 0; });
  RunSpec in_container;
  in_container.id = RunId("01HF7YAT00000000000000000A");
  in_container.runner = RunnerKind::kDocker;
  RunSpec local;
  local.id = RunId("01HF7YAT00000000000000000B");  // no runner: the default
  ASSERT_OK(router.Start(in_container));
  ASSERT_OK(router.Start(local));
  EXPECT_EQ(docker.started.count(in_container.id.str()), 1u);
  EXPECT_EQ(sandbox.started.count(local.id.str()), 1u);
  EXPECT_TRUE(router.ReportsOverChannel(in_container.id));
  EXPECT_FALSE(router.ReportsOverChannel(local.id));
  ASSERT_OK(router.RequestCancel(in_container.id, "x"));
  EXPECT_EQ(docker.cancelled.count(in_container.id.str()), 1u);
  EXPECT_TRUE(sandbox.cancelled.empty());
  // A run nobody holds: the default runner answers (nothing of it).
  EXPECT_EQ(router.Probe(RunId("01HF7YAT00000000000000000C")).state, ShimState::kNotStarted);
  EXPECT_EQ(router.LiveRuns().size(), 2u);
  EXPECT_EQ(router.Reap(in_container.id), 1);
  EXPECT_EQ(router.kind(), RunnerKind::kSandbox);
}

TEST(RunnerRouter, ARunnerNotSetUpIsAFailedPreconditionNamingIt) {
  StubRunner sandbox(RunnerKind::kSandbox, false);
  RunnerRouter router(RunnerKind::kSandbox);
  router.Add(RunnerKind::kSandbox, &sandbox, [](const RunId&) { return false; });
  RunSpec spec;
  spec.id = RunId("01HF7YAT00000000000000000A");
  spec.runner = RunnerKind::kDocker;
  EXPECT_THAT(router.Start(spec),
              StatusIs(Code::kFailedPrecondition, ::testing::HasSubstr("'docker'")));
  EXPECT_TRUE(sandbox.started.empty());
}

}  // namespace
}  // namespace outpost
