// The runners of `outpost serve` (README "Container runs"): the local runner (process or
// sandbox: ProcessRunner) when any agent runs there, the docker runner when any agent runs in
// containers, the ecs runner when any agent runs on ECS (Fargate), and the RunnerRouter core
// talks to, which sends each run to its agent's runner.
#pragma once

#include <memory>

#include "agents/agent.h"
#include "common/clock.h"
#include "config/options.h"
#include "core/run_service.h"
#include "runner/docker/docker_runner.h"
#include "runner/docker/engine.h"
#include "runner/ecs/ecs_runner.h"
#include "runner/process_runner.h"
#include "runner/runner_router.h"

namespace outpost::app {

struct Runners {
  std::unique_ptr<ProcessRunner> local;
  std::unique_ptr<docker::DockerEngine> engine;
  std::unique_ptr<docker::DockerRunner> docker;
  ecs::EcsRunner::WithClient ecs;  // [runner.ecs]: its ECS client and the runner
  std::unique_ptr<RunnerRouter> router;
};

// The kind of this server's local runner: [runner] kind when it is process or sandbox, else the
// one an agent names, else sandbox.
RunnerKind LocalRunnerKind(const Options& opts);

// kInvalidArgument for a docker host that does not resolve (engine.h EngineEndpoint::Resolve);
// kFailedPrecondition for an ecs runner without AWS credentials or region.
// A dockerd that does not answer is no error: its agents are unavailable until it does.
Result<Runners> MakeRunners(const Options& opts, Clock& clock, ProcessRunnerConfig local_config);

// Docker agents' availability (the Engine answers; cached a few seconds) and the `docker` check of
// /health: the Engine's reachability, with the runner of every agent. No-op without the docker
// runner.
void WireDockerChecks(Runners& runners, AgentRegistry& agents, RunService& service,
                      const Options& opts);

// ECS agents' availability (the runner is set up). No-op without the ecs runner; call after
// WireDockerChecks.
void WireEcsChecks(Runners& runners, AgentRegistry& agents, const Options& opts);

}  // namespace outpost::app
