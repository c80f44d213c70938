// The server's side of a run's event stream (model/run_event.h): the terminal events it
// appends (through RunOutputs::EndEvents), and the events of a run that never started (the
// runner has no events of it).
//
// Why the server writes the end: only it knows the terminal status (an exit code 0 may still be
// agent_error; a lost shim is supervisor_lost). It appends `status` + `end` after the store holds
// the terminal status. Appending is idempotent — the runner appends nothing to a stream that
// already ends with `end` — so the supervisor (right after the terminal write) and any reader
// that finds a terminal run whose log has no end (the server died between the two writes) may
// both call it, and exactly one `end` results.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/run.h"
#include "model/run_event.h"
#include "runner/runner.h"

namespace outpost {

// The fields of the terminal `status` event of `run`.
boost::json::object TerminalStatusFields(const Run& run);

// Appends `status` and `end`, stamped with the run's end, to the run's event stream unless it
// already ends with `end`; returns the seq of the end event. `run` must be terminal
// (kFailedPrecondition otherwise). kNotFound when the run never started (nothing is created
// then: see SynthesizedEvents); kUnavailable when another writer holds the stream for more than
// a second (RunOutputs::EndEvents).
Result<std::int64_t> AppendTerminalEvents(RunOutputs& outputs, const Run& run);

// The events of a terminal run that never started (cancelled while PENDING): what
// AppendTerminalEvents writes into an empty log — seq 1 status, seq 2 end — timestamped with
// the run's end, so they are the same on every call.
std::vector<RunEvent> SynthesizedEvents(const Run& run);

}  // namespace outpost
