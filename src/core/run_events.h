// The server's side of a run's event stream (model/run_event.h) in the shared event log
// (store/event_log.h): the terminal events it appends, and the events of a run that never
// started.
//
// Why the server writes the end: only it knows the terminal status (an exit code 0 may still be
// agent_error; a lost shim is supervisor_lost). It appends `status` + `end` after the store holds
// the terminal status, at the log's Tail+1, stamped with the run's end. Appending is idempotent —
// the events are the same on every call and the log acknowledges identical resends — so the
// supervisor (right after the terminal write) and any reader that finds a terminal run whose log
// has no end (the server died between the two writes), on any replica, may all call it, and
// exactly one `end` results.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/run.h"
#include "model/run_event.h"
#include "store/event_log.h"

namespace outpost {

// The fields of the terminal `status` event of `run`.
boost::json::object TerminalStatusFields(const Run& run);

// The terminal `status` (seq `first`) and `end` (seq `first` + 1) of `run`, timestamped with the
// run's end, so that they are the same on every call.
std::vector<RunEvent> TerminalEvents(const Run& run, std::int64_t first);

// Appends the terminal events to the run's log unless it already ends with `end`; returns the
// seq of the end event. `run` must be terminal (kFailedPrecondition otherwise). A run that never
// started gets them as seq 1 and 2. The log's errors (kUnavailable: try again).
Result<std::int64_t> AppendTerminalEvents(EventLog& log, const Run& run);

// The events of a terminal run that never started (cancelled while PENDING): what
// AppendTerminalEvents writes into an empty log — seq 1 status, seq 2 end.
std::vector<RunEvent> SynthesizedEvents(const Run& run);

}  // namespace outpost
