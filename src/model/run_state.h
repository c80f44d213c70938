// The run state machine: every legal change of a run's status and phase, as pure functions on
// a Run. Each either applies the whole transition and returns Ok, or refuses it and leaves the
// run untouched:
//
//   PENDING/held ──Release──▶ PENDING/queued ──Admit──▶ RUNNING/preparing
//   RUNNING/preparing ──MarkStarted──▶ RUNNING/running ──EnterPhase──▶ RUNNING/collecting
//   PENDING or RUNNING ──RequestCancel──▶ (same status, cancel requested)
//   PENDING ──End──▶ CANCELLED | FAILED
//   RUNNING ──End──▶ COMPLETED | FAILED | TIMEOUT | CANCELLED
//
// Nothing leaves a terminal status, and nothing goes back (RUNNING never becomes PENDING).
// Refusals: kConflict when the run is already terminal (details.currentStatus), else
// kFailedPrecondition naming the current status and phase. kInvalidArgument for a request that
// is wrong whatever the run (a non-terminal End status, a reason of another status).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "model/run.h"

namespace outpost {

// The status a terminal reason belongs to (succeeded: COMPLETED, cancelled: CANCELLED,
// timeout_*: TIMEOUT, any other: FAILED); nullopt for an unknown reason.
std::optional<RunStatus> StatusOfReason(std::string_view reason);

namespace run_state {

// PENDING/held → PENDING/queued: every run of its fan-out exists.
Status Release(Run& run);
// PENDING/queued → RUNNING/preparing under `owner`; started_at is the admission time until
// MarkStarted, progress 2.
Status Admit(Run& run, std::string_view owner, WallTime now);
// RUNNING (preparing or collecting-before-seen) → RUNNING/running: the agent process started at
// `at`; progress at least 5. kFailedPrecondition when the phase is already running.
Status MarkStarted(Run& run, WallTime at);
// RUNNING: to a later phase (preparing → running → collecting), never back, never to done
// (that is End) nor to queued/held.
Status EnterPhase(Run& run, RunPhase phase);
// PENDING or RUNNING: records the cancel request (reason, requested_at). The status does not
// change here: a PENDING run is then ended CANCELLED (End), a RUNNING one by its shim.
Status RequestCancel(Run& run, std::string reason, WallTime now);

// What ends a run.
struct Ending {
  RunStatus status = RunStatus::kFailed;
  std::string_view reason;
  // Set: becomes error_message. Unset: error_message is left as it is.
  std::optional<std::string> message;
  WallTime at;  // ended_at
  // kPending when an uploader takes finished runs, else kNone.
  ArtifactsState artifacts_state = ArtifactsState::kNone;
};
// PENDING → CANCELLED | FAILED, RUNNING → any terminal status: status, reason, phase done,
// ended_at, progress 100, error_message (when given) and artifacts_state.
Status End(Run& run, const Ending& ending);

}  // namespace run_state
}  // namespace outpost
