#include "model/run_state.h"

#include <algorithm>
#include <array>
#include <utility>

namespace outpost {
namespace {

std::string Where(const Run& run) {
  return "run " + run.id.str() + " is " + std::string(ToString(run.status)) + "/" +
         std::string(ToString(run.phase));
}

// Ok unless the run is terminal: then kConflict with details.currentStatus.
Status NotTerminal(const Run& run, std::string_view what) {
  if (!IsTerminal(run.status)) return Status::Ok();
  Status st = Conflict("cannot " + std::string(what) + ": run " + run.id.str() +
                       " already ended with status " + std::string(ToString(run.status)));
  st.WithDetail("currentStatus", boost::json::value(ToString(run.status)));
  return st;
}

Status Refuse(const Run& run, std::string_view what) {
  return FailedPrecondition("cannot " + std::string(what) + ": " + Where(run));
}

}  // namespace

std::optional<RunStatus> StatusOfReason(std::string_view r) {
  if (r == reason::kSucceeded) return RunStatus::kCompleted;
  if (r == reason::kCancelled) return RunStatus::kCancelled;
  if (r == reason::kTimeoutTotal || r == reason::kTimeoutInactive) return RunStatus::kTimeout;
  for (std::string_view failed :
       {reason::kExitNonzero, reason::kSignaled, reason::kAgentError, reason::kOom,
        reason::kDiskQuota, reason::kBudgetExceeded, reason::kInfraError, reason::kRepoError,
        reason::kSupervisorLost, reason::kNodeLost}) {
    if (r == failed) return RunStatus::kFailed;
  }
  return std::nullopt;
}

namespace run_state {

Status Release(Run& run) {
  if (Status st = NotTerminal(run, "release"); !st.ok()) return st;
  if (run.status != RunStatus::kPending || run.phase != RunPhase::kHeld)
    return Refuse(run, "release");
  run.phase = RunPhase::kQueued;
  return Status::Ok();
}

Status Admit(Run& run, std::string_view owner, WallTime now) {
  if (Status st = NotTerminal(run, "admit"); !st.ok()) return st;
  if (run.status != RunStatus::kPending || run.phase == RunPhase::kHeld)
    return Refuse(run, "admit");
  run.status = RunStatus::kRunning;
  run.phase = RunPhase::kPreparing;
  run.started_at = now;
  run.owner = std::string(owner);
  run.progress = 2;
  return Status::Ok();
}

Status MarkStarted(Run& run, WallTime at) {
  if (Status st = NotTerminal(run, "mark started"); !st.ok()) return st;
  if (run.status != RunStatus::kRunning || run.phase == RunPhase::kRunning) {
    return Refuse(run, "mark started");
  }
  run.phase = RunPhase::kRunning;
  run.started_at = at;
  run.progress = std::max(run.progress, 5);
  return Status::Ok();
}

Status EnterPhase(Run& run, RunPhase phase) {
  const std::string what = "enter phase " + std::string(ToString(phase));
  if (Status st = NotTerminal(run, what); !st.ok()) return st;
  const bool forward = phase == RunPhase::kRunning || phase == RunPhase::kCollecting;
  if (run.status != RunStatus::kRunning || !forward || run.phase >= phase) {
    return Refuse(run, what);
  }
  run.phase = phase;
  return Status::Ok();
}

Status RequestCancel(Run& run, std::string reason, WallTime now) {
  if (Status st = NotTerminal(run, "cancel"); !st.ok()) return st;
  run.cancel_reason = std::move(reason);
  run.cancel_requested_at = now;
  return Status::Ok();
}

Status End(Run& run, const Ending& e) {
  const std::string what = "end as " + std::string(ToString(e.status));
  if (!IsTerminal(e.status)) {
    return InvalidArgument("cannot " + what + ": not a terminal status");
  }
  const std::optional<RunStatus> of = StatusOfReason(e.reason);
  if (!of || *of != e.status) {
    return InvalidArgument("cannot " + what + ": reason \"" + std::string(e.reason) +
                           "\" belongs to another status");
  }
  if (e.artifacts_state != ArtifactsState::kNone && e.artifacts_state != ArtifactsState::kPending) {
    return InvalidArgument("cannot " + what + ": a run ends with artifacts pending or none");
  }
  if (Status st = NotTerminal(run, what); !st.ok()) return st;
  // A run that never started can only be cancelled or fail (nothing ran to complete or time out).
  if (run.status == RunStatus::kPending && e.status != RunStatus::kCancelled &&
      e.status != RunStatus::kFailed) {
    return Refuse(run, what);
  }
  run.status = e.status;
  run.reason = std::string(e.reason);
  run.phase = RunPhase::kDone;
  run.ended_at = e.at;
  run.progress = 100;
  if (e.message) run.error_message = e.message;
  run.artifacts_state = e.artifacts_state;
  return Status::Ok();
}

}  // namespace run_state
}  // namespace outpost
