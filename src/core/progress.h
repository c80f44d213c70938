// The `progress` (0–100) of a run, estimated from what its events say: its phase, how many
// turns the agent has taken (agent_message events) and how much of its timeout has passed.
//
//   PENDING / queued           0
//   preparing (checkout)       2 … 4   (2, +1 per 10% of the timeout, at most 4)
//   running                    5 … 95  5 + 90 × (1 − (1 − t)(1 − g)), where t is the elapsed
//                                      fraction of the timeout and g = 1 − 0.85^turns: either
//                                      signal alone moves it, together they move it faster,
//                                      and it never reaches 100 before the run ends
//   collecting (diff, result)  96
//   terminal                   100
//
// The caller keeps it monotonic (the stored value never goes down).
#pragma once

#include <string_view>

#include "common/clock.h"
#include "model/run.h"

namespace outpost {

struct ProgressInputs {
  RunStatus status = RunStatus::kPending;
  RunPhase phase;
  int agent_turns = 0;
  Millis elapsed{0};  // since the run was admitted
  int timeout_seconds = 600;
};

int EstimateProgress(const ProgressInputs& in);

}  // namespace outpost
