// How runs execute ([runner] kind, alias [server] runner / OUTPOST_RUNNER / --runner; per agent
// [agents.NAME] runner): unisolated processes, bubblewrap + cgroups, or a container on a Docker
// Engine, or an ECS task (Fargate), named "process", "sandbox", "docker" and "ecs". Apart from
// run.h so that config/ can type Options::runner without the run model.
#pragma once

#include <optional>
#include <string_view>

namespace outpost {

enum class RunnerKind { kProcess, kSandbox, kDocker, kEcs };
std::string_view ToString(RunnerKind kind);
// nullopt for a name other than "process", "sandbox", "docker" or "ecs".
std::optional<RunnerKind> ParseRunnerKind(std::string_view name);

}  // namespace outpost
