#include "runner/runner.h"

namespace outpost {

std::string_view ToString(RunnerKind kind) {
  return kind == RunnerKind::kSandbox ? "sandbox" : "process";
}

std::optional<RunnerKind> ParseRunnerKind(std::string_view name) {
  if (name == "sandbox") return RunnerKind::kSandbox;
  if (name == "process") return RunnerKind::kProcess;
  return std::nullopt;
}

std::string_view ToString(NetworkPolicy policy) {
  switch (policy) {
    case NetworkPolicy::kNone:
      return "none";
    case NetworkPolicy::kAllowlist:
      return "allowlist";
    case NetworkPolicy::kHost:
      return "host";
  }
  return "none";
}

std::optional<NetworkPolicy> ParseNetworkPolicy(std::string_view name) {
  if (name == "none") return NetworkPolicy::kNone;
  if (name == "allowlist") return NetworkPolicy::kAllowlist;
  if (name == "host") return NetworkPolicy::kHost;
  return std::nullopt;
}

}  // namespace outpost
