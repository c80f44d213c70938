#include "app/runners.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

#include "app/stores.h"
#include "common/files.h"
#include "common/log.h"

namespace outpost::app {
namespace {

// The Engine's Ping, kept for a few seconds: /health, /health/fleet and every dispatch ask.
class EngineChecks {
 public:
  EngineChecks(docker::DockerRunner& runner, Clock& clock) : runner_(runner), clock_(clock) {}

  Status Reachable() {
    std::lock_guard lock(mu_);
    const MonoTime now = clock_.Mono();
    if (!ping_ || now >= ping_at_ + kTtl) {
      ping_ = runner_.Reachable();
      ping_at_ = now;
    }
    return *ping_;
  }

 private:
  static constexpr Millis kTtl{5000};
  docker::DockerRunner& runner_;
  Clock& clock_;
  std::mutex mu_;
  std::optional<Status> ping_;  // guarded by mu_
  MonoTime ping_at_{};          // guarded by mu_
};

}  // namespace

RunnerKind LocalRunnerKind(const Options& opts) {
  auto local = [](RunnerKind k) { return k == RunnerKind::kProcess || k == RunnerKind::kSandbox; };
  if (local(opts.runner)) return opts.runner;
  for (const auto& [name, a] : opts.agents) {
    if (a.enabled && a.runner && local(*a.runner)) return *a.runner;
  }
  return RunnerKind::kSandbox;
}

Result<Runners> MakeRunners(const Options& opts, Clock& clock, ProcessRunnerConfig local_config) {
  Runners r;
  const RunnerKind local = LocalRunnerKind(opts);
  r.router = std::make_unique<RunnerRouter>(opts.runner);
  r.local = std::make_unique<ProcessRunner>(opts.RunsDir(), opts.self_exe, clock, Millis(10'000),
                                            local, std::move(local_config));
  const std::string runs_dir = std::filesystem::absolute(opts.RunsDir()).string();
  r.router->Add(local, r.local.get(),
                [runs_dir](const RunId& id) { return FileExists(runs_dir + "/" + id.str()); });
  if (opts.UsesRunner(RunnerKind::kDocker)) {
    auto endpoint = docker::EngineEndpoint::Resolve(opts.docker.host, ProcessEnvironment());
    if (!endpoint.ok()) {
      return InvalidArgument("runner.docker.host: " + endpoint.status().message());
    }
    r.engine = std::make_unique<docker::DockerEngine>(*endpoint);
    docker::DockerRunnerConfig dc;
    dc.data_dir = opts.data_dir;
    dc.default_image = opts.docker.ImageFor("shell");
    dc.allow_host_network = opts.sandbox.allow_host_network;
    dc.unreachable_grace_seconds = opts.docker.unreachable_grace_seconds;
    // A daemon on another machine shares no files with this one (README "Container runs").
    dc.remote = opts.docker.remote || endpoint->host.starts_with("tcp://");
    r.docker = std::make_unique<docker::DockerRunner>(*r.engine, clock, dc);
    const std::string containers =
        std::filesystem::absolute(opts.data_dir).lexically_normal().string() + "/containers";
    // The docker runner's runs are told apart first: containers/<id> is its alone.
    r.router->Add(RunnerKind::kDocker, r.docker.get(), [containers](const RunId& id) {
      return FileExists(containers + "/" + id.str());
    });
    if (Status st = r.engine->Ping(); !st.ok()) {
      spdlog::warn(
          "docker: the Engine at {} does not answer ({}): its agents are unavailable "
          "until it does",
          endpoint->host, st.message());
    }
  }
  if (opts.UsesRunner(RunnerKind::kEcs)) {
    ecs::EcsRunnerConfig ec;
    ec.cluster = opts.ecs.cluster;
    ec.subnets = opts.ecs.subnets;
    ec.security_groups = opts.ecs.security_groups;
    ec.assign_public_ip = opts.ecs.assign_public_ip;
    ec.task_definition_prefix = opts.ecs.TaskDefinitionPrefix();
    ec.capacity_provider = opts.ecs.capacity_provider;
    ec.describe_interval = std::chrono::seconds(opts.ecs.describe_interval_seconds);
    ec.start_timeout = std::chrono::seconds(opts.ecs.start_timeout_seconds);
    ec.lost_grace = std::chrono::seconds(opts.ecs.lost_grace_seconds);
    auto made =
        ecs::EcsRunner::Create(opts.ecs.region, opts.ecs.endpoint, ProcessEnvironment(), clock, ec);
    if (!made.ok()) return made.status();
    r.ecs = std::move(*made);
    // Last: a run no other runner holds is looked up in the cluster (once, then tracked).
    ecs::EcsRunner* ecs_runner = r.ecs.runner.get();
    r.router->Add(RunnerKind::kEcs, ecs_runner,
                  [ecs_runner](const RunId& id) { return ecs_runner->Holds(id); });
    spdlog::info("ecs: cluster {}, task definitions {}<agent>, region {}", opts.ecs.cluster,
                 opts.ecs.TaskDefinitionPrefix(), r.ecs.client->options().region);
  }
  return r;
}

void WireDockerChecks(Runners& runners, AgentRegistry& agents, RunService& service,
                      const Options& opts) {
  if (!runners.docker) return;
  auto checks = std::make_shared<EngineChecks>(*runners.docker, RealClock::Instance());
  const Options* o = &opts;
  agents.SetRunnerCheck([checks, o](const AgentOptions& agent) -> AgentAvailability {
    // Reachability only: a run whose image is missing fails its start as infra_error with the
    // Engine's message (the image may be pulled or built any time). ECS agents: WireEcsChecks.
    if (o->RunnerFor(agent.name) == RunnerKind::kEcs) return {};
    if (Status st = checks->Reachable(); !st.ok()) {
      return {false, "the docker runner's Engine is unreachable: " + st.message()};
    }
    return {};
  });
  const std::string host = runners.engine->endpoint().host;
  service.AddHealthSource([checks, o, host] {
    Status st = checks->Reachable();
    boost::json::object agents;
    bool all_docker = true;
    for (const auto& [name, a] : o->agents) {
      if (!a.enabled) continue;
      const RunnerKind kind = o->RunnerFor(name);
      agents[name] = ToString(kind);
      all_docker &= kind == RunnerKind::kDocker;
    }
    boost::json::object check{{"status", st.ok() ? "pass" : all_docker ? "fail" : "warn"}};
    check["message"] = st.ok() ? "the Engine at " + host + " answers"
                               : "the Engine at " + host + " is unreachable (" + st.message() +
                                     "): the agents it runs are unavailable";
    check["agents"] = std::move(agents);
    return HealthContribution{"docker", std::move(check), {}};
  });
}

void WireEcsChecks(Runners& runners, AgentRegistry& agents, const Options& opts) {
  if (!runners.ecs.runner) return;
  // An ECS agent is available once the runner is set up: a task definition that does not exist
  // fails its run's start as infra_error with ECS's message.
  if (!runners.docker) {
    agents.SetRunnerCheck([](const AgentOptions&) -> AgentAvailability { return {}; });
  }
  (void)opts;
}

}  // namespace outpost::app
