// How runs execute on this machine ([server] runner / OUTPOST_RUNNER / --runner): unisolated
// processes or bubblewrap + cgroups, named "process" and "sandbox". Apart from run.h so that
// config/ can type Options::runner without the run model.
#pragma once

#include <optional>
#include <string_view>

namespace outpost {

enum class RunnerKind { kProcess, kSandbox };
std::string_view ToString(RunnerKind kind);
// nullopt for a name other than "process" or "sandbox".
std::optional<RunnerKind> ParseRunnerKind(std::string_view name);

}  // namespace outpost
