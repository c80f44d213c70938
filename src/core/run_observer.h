// RunObserver: what happens to runs, for metrics (telemetry/). The supervisor and RunService
// call it right after the store accepted the write that made it so; it must be quick and
// thread-safe (calls come from request threads and the supervisor's loop).
#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "model/run.h"

namespace outpost {

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // A dispatch request ended: `run` created (created=true), an idempotent replay
  // (created=false), or refused with `error` (run is null then; `agent` is what the body
  // named, "" when it named none or several).
  virtual void OnDispatch(std::string_view agent, const Run* run, bool created,
                          const Status& error) = 0;
  // The agent process of `run` started (as its shim reported) `started` after the supervisor
  // admitted it at `admitted`.
  virtual void OnStarted(const Run& run, WallTime admitted, WallTime started) = 0;
  // `run` reached its terminal status (written once, so this is called once per run and
  // replica).
  virtual void OnEnded(const Run& run) = 0;
};

}  // namespace outpost
