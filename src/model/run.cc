#include "model/run.h"

#include <array>
#include <utility>

namespace outpost {
namespace {

// Each enum's names: adding a value is one row here (and its enumerator in run.h).
template <typename E, std::size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<RunPhase, 6> kPhases = {{
    {RunPhase::kQueued, "queued"},
    {RunPhase::kHeld, "held"},
    {RunPhase::kPreparing, "preparing"},
    {RunPhase::kRunning, "running"},
    {RunPhase::kCollecting, "collecting"},
    {RunPhase::kDone, "done"},
}};

constexpr Names<ArtifactsState, 4> kArtifactsStates = {{
    {ArtifactsState::kNone, ""},
    {ArtifactsState::kPending, "pending"},
    {ArtifactsState::kStored, "stored"},
    {ArtifactsState::kPartial, "partial"},
}};

constexpr Names<NetworkPolicy, 3> kNetworkPolicies = {{
    {NetworkPolicy::kNone, "none"},
    {NetworkPolicy::kAllowlist, "allowlist"},
    {NetworkPolicy::kHost, "host"},
}};

constexpr Names<RunnerKind, 4> kRunnerKinds = {{
    {RunnerKind::kProcess, "process"},
    {RunnerKind::kSandbox, "sandbox"},
    {RunnerKind::kDocker, "docker"},
    {RunnerKind::kEcs, "ecs"},
}};

template <typename E, std::size_t N>
std::string_view NameOf(const Names<E, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "";
}

template <typename E, std::size_t N>
std::optional<E> ValueOf(const Names<E, N>& names, std::string_view name) {
  for (const auto& [v, n] : names) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(RunStatus s) {
  switch (s) {
    case RunStatus::kPending:
      return "PENDING";
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kCompleted:
      return "COMPLETED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kTimeout:
      return "TIMEOUT";
    case RunStatus::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

std::optional<RunStatus> ParseRunStatus(std::string_view s) {
  for (RunStatus st : {RunStatus::kPending, RunStatus::kRunning, RunStatus::kCompleted,
                       RunStatus::kFailed, RunStatus::kTimeout, RunStatus::kCancelled}) {
    if (ToString(st) == s) return st;
  }
  return std::nullopt;
}

bool IsTerminal(RunStatus s) { return s != RunStatus::kPending && s != RunStatus::kRunning; }

std::string_view ToString(RunPhase p) { return NameOf(kPhases, p); }
std::optional<RunPhase> ParseRunPhase(std::string_view s) { return ValueOf(kPhases, s); }

std::string_view ToString(ArtifactsState s) { return NameOf(kArtifactsStates, s); }
std::optional<ArtifactsState> ParseArtifactsState(std::string_view s) {
  return ValueOf(kArtifactsStates, s);
}

std::string_view ToString(NetworkPolicy policy) { return NameOf(kNetworkPolicies, policy); }
std::optional<NetworkPolicy> ParseNetworkPolicy(std::string_view name) {
  return ValueOf(kNetworkPolicies, name);
}

std::string_view ToString(RunnerKind kind) { return NameOf(kRunnerKinds, kind); }
std::optional<RunnerKind> ParseRunnerKind(std::string_view name) {
  return ValueOf(kRunnerKinds, name);
}

}  // namespace outpost
