// EcsRunner: the Runner (runner.h) whose runs are Amazon ECS tasks — one Fargate task per run
// (ARCHITECTURE.md §8; aws/ecs_client.h is how it talks to ECS). It only launches, tracks and
// stops: the task's `outpost task` fetches the RunSpec and the agent's keys over the run channel
// and reports events, outputs and its exit there (ReportsOverChannel and OutputsOverChannel are
// true), so this runner keeps no files and its RunOutputs, Started, Progress and ChangesOf
// answer nothing.
//
// Start: RunTask of the task definition `{task_definition_prefix}{agent}` (the runbook's
// outpost-{env}-{agent}; its container is named after the agent), launch type FARGATE or a
// capacity provider strategy, awsvpcConfiguration from the config; container overrides carry
// ONLY OUTPOST_RUN_ID, OUTPOST_CHANNEL_URL and OUTPOST_BOOTSTRAP_TOKEN (overrides are capped at
// 8,192 characters and recorded by CloudTrail: never the channel token, the RunSpec or a key);
// clientToken = "<runId>-<attempt>" where attempt is the first 16 hex digits of the SHA-256 of
// the attempt's channel token (core issues a new one per attempt; 43 characters, ECS allows
// 64), so a RunTask retried after a lost answer never starts a second task; startedBy = the run
// id; tags runId, agent, tenant and outpostDeadline (the epoch second after which the runner
// stops the task: read back on adoption). Capacity failures and throttling are retried by the
// client (then kUnavailable); every error keeps ECS's message (core: infra_error).
//
// Tracking: every Probe reads one shared view of all tracked tasks, refreshed by ONE
// DescribeTasks pass (batches of 100) at most every describe_interval — not one call per run
// per tick. Probe maps it:
//   not STOPPED -> kRunning; past its deadline (timeout + grace + stop_after_grace) -> StopTask
//     (then timeout_total); still PROVISIONING/PENDING start_timeout after launch -> StopTask
//     (then start_failed: "did not reach RUNNING");
//   STOPPED -> kExited, outcome: our StopTask for a cancel -> cancelled; for the deadline ->
//     timeout_total; TaskFailedToStart or a stoppedReason/container reason of
//     CannotPullContainerError, ResourceInitializationError, CannotStartContainerError,
//     CannotCreateVolumeError, ContainerRuntimeTimeoutError -> start_failed (core: infra_error)
//     with ECS's message; a container reason OutOfMemoryError -> oom; UserInitiated without our
//     StopTask (someone else stopped it) -> cancelled, cancel_reason "the ECS task was stopped
//     outside Outpost: <stoppedReason>"; SpotInterruption, TerminationNotice,
//     InfrastructureHealth, ServiceSchedulerInitiated -> kLost with ECS's reason; a task that ended
//     by itself (EssentialContainerExited) -> kLost too, naming the container's exit code: core
//     then takes the exit record the task posted over the run channel (agent result, changes
//     included), and without one ends the run supervisor_lost with this message;
//   DescribeTasks failing (throttled past the retries, ECS unreachable) or answering MISSING
//     for the task -> kRunning for lost_grace, then kLost naming ECS's error.
// A run id the runner does not track (a restarted control plane): adopted by ListTasks
// startedBy=<id> (RUNNING, then STOPPED; ECS keeps stopped tasks for about an hour) and
// DescribeTasks with tags; none -> kNotStarted.
// RequestCancel: StopTask("outpost: cancelled: <reason>") at once (ECS: SIGTERM, then SIGKILL
// after the task definition's stopTimeout); tried again by Probe while it fails.
// LiveRuns: the cluster's RUNNING tasks whose startedBy is a run id and whose tag runId says the
// same (ListTasks + DescribeTasks with tags). Reap: StopTask. KeptRuns: none; Discard: Ok.
//
// Thread-safety: every method may be called concurrently; one mutex serializes them (ECS calls
// included: the shared view is refreshed by one caller at a time, the others then read it).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aws/ecs_client.h"
#include "common/clock.h"
#include "runner/runner.h"

namespace outpost::ecs {

inline constexpr char kTagRunId[] = "runId";
inline constexpr char kTagAgent[] = "agent";
inline constexpr char kTagTenant[] = "tenant";
inline constexpr char kTagDeadline[] = "outpostDeadline";
// StopTask reasons the runner gives (and recognises on adoption).
inline constexpr char kStopCancelled[] = "outpost: cancelled: ";
inline constexpr char kStopDeadline[] = "outpost: deadline: ";
inline constexpr char kStopStartTimeout[] = "outpost: did not start: ";
inline constexpr char kStopReaped[] = "outpost: reaped: ";

struct EcsRunnerConfig {
  std::string cluster;
  std::vector<std::string> subnets;
  std::vector<std::string> security_groups;
  bool assign_public_ip = false;
  // A run's task definition (family): task_definition_prefix + the agent's name.
  std::string task_definition_prefix = "outpost-prod-";
  std::string capacity_provider;  // "" = launch type FARGATE
  Millis describe_interval{5'000};
  Millis start_timeout{600'000};
  Millis lost_grace{300'000};
  // The deadline's StopTask comes this long after timeout + grace (the task's own deadline
  // should have ended it by then).
  int stop_after_grace_seconds = 15;
};

class EcsRunner final : public Runner {
 public:
  using Config = EcsRunnerConfig;

  // `client` and `clock` must outlive the runner.
  EcsRunner(const aws::EcsClient& client, Clock& clock, Config config);

  RunnerKind kind() const override { return RunnerKind::kEcs; }
  bool RunsOutliveMachine() const override { return true; }
  bool ReportsOverChannel(const RunId& /*id*/) override { return true; }
  bool OutputsOverChannel(const RunId& /*id*/) override { return true; }

  // kInvalidArgument: a bad id, no agent, no subnets configured ("No subnets configured for ECS
  // workers"), overrides over ECS's cap; kFailedPrecondition: no channel or no bootstrap token
  // (the channel token itself never goes into the overrides); kConflict: started before; ECS's
  // errors as aws/ecs_client.h maps them (its message kept).
  Status Start(const RunSpec& spec) override;
  Status RequestCancel(const RunId& id, const std::string& reason) override;
  ShimProbe Probe(const RunId& id) override;
  std::optional<WallTime> Started(const RunId& /*id*/) override { return std::nullopt; }
  RunProgress Progress(const RunId& /*id*/) override { return {}; }
  std::optional<Changes> ChangesOf(const RunId& /*id*/) override { return std::nullopt; }
  int KillLeftovers(const RunId& id) override { return Reap(id); }
  std::vector<RunId> LiveRuns() override;
  // StopTask of the run's task when it is not STOPPED; 1 when one was stopped.
  int Reap(const RunId& id) override;
  std::vector<KeptRun> KeptRuns() override { return {}; }
  Status Discard(const RunId& /*id*/) override { return Status::Ok(); }
  Result<EventBatch> ReadEvents(const RunId& /*id*/, std::int64_t after,
                                std::size_t /*max_bytes*/) override {
    if (after < 0) return InvalidArgument("after must be >= 0");
    return EventBatch{};
  }
  Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId& /*id*/,
                                                  std::function<void()> /*wake*/) override {
    return Unavailable("the ecs runner's events come over the run channel");
  }
  Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId& /*id*/, RunOutput /*what*/) override {
    return NotFound("the ecs runner keeps no outputs (they come over the run channel)");
  }

  // The client and the runner together, as `outpost serve` makes them: credentials from the
  // environment's chain (aws/credentials.h), region `region` (else the chain's), `endpoint` ""
  // for AWS. kInvalidArgument / kFailedPrecondition naming what is missing.
  struct WithClient {
    std::unique_ptr<aws::EcsClient> client;
    std::unique_ptr<EcsRunner> runner;
  };
  static Result<WithClient> Create(const std::string& region, const std::string& endpoint,
                                   const std::map<std::string, std::string>& env, Clock& clock,
                                   Config config);

  // The RunTask request of a run (pure but for the config; tests look at it).
  Result<aws::EcsRunTaskRequest> RunTaskFor(const RunSpec& spec) const;
  std::string TaskDefinitionFor(const std::string& agent) const {
    return config_.task_definition_prefix + agent;
  }
  // Whether the run has a task in the cluster: tracked, or found by ListTasks startedBy (then
  // adopted). For RunnerRouter's `holds` after a restart. A run ECS has no task of is
  // remembered as such for a minute (no ListTasks per tick for runs of other runners); an ECS
  // that does not answer: false, not remembered.
  bool Holds(const RunId& id);
  // The task ARN of a tracked run ("" when untracked).
  std::string TaskOf(const RunId& id) const;
  // How many runs are tracked now.
  std::size_t tracked() const;

 private:
  struct Tracked {
    std::string arn;
    MonoTime launched{};
    std::optional<WallTime> deadline;
    std::optional<std::string> cancel_reason;
    enum class Stop { kNone, kCancel, kDeadline, kStartTimeout, kReap } stop = Stop::kNone;
    bool stop_sent = false;
    std::optional<MonoTime> missing_since;
  };

  // The shared view, refreshed when older than describe_interval (one DescribeTasks pass for
  // every tracked task). Called with mu_ held.
  void RefreshLocked();
  // ListTasks startedBy=id + DescribeTasks: the task of a run started by an earlier process,
  // tracked from now on. nullopt when ECS has none (or cannot say: `error` set).
  std::optional<aws::EcsTask> Adopt(const RunId& id, Status* error);
  ShimProbe Ended(const RunId& id, const Tracked& t, const aws::EcsTask& task) const;
  Status SendStop(const RunId& id, Tracked& t, Tracked::Stop why, const std::string& reason);

  const aws::EcsClient& client_;
  Clock& clock_;
  Config config_;
  mutable std::mutex mu_;
  std::map<std::string, Tracked> runs_;            // guarded by mu_; by run id
  std::map<std::string, aws::EcsTask> described_;  // guarded by mu_; by task ARN
  std::set<std::string> missing_;                  // guarded by mu_; ARNs ECS answered MISSING
  std::optional<MonoTime> described_at_;           // guarded by mu_
  Status describe_error_;                          // guarded by mu_: the last pass's
  std::optional<MonoTime> failing_since_;          // guarded by mu_
  std::map<std::string, MonoTime> not_ours_;       // guarded by mu_: Holds said no, then
};

}  // namespace outpost::ecs
