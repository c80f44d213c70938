// `outpost shim <run-dir>`: the per-run supervisor (ARCHITECTURE.md §4).
//
// Started detached by a Runner, it owns one run from spec.json to exit.json: it clones the
// repository when asked, starts the agent in its own session, appends its stdout/stderr to
// the run directory as they come, enforces the total and inactivity deadlines, obeys cancel
// requests (cancel.json + SIGUSR1, or SIGTERM), kills every process the agent left behind
// (it is the child subreaper of the whole tree), and writes exit.json last — only once no
// descendant is left. The server may die and come back at any point; the files tell it all.
#pragma once

#include <string>

namespace outpost {

// The shim's main. Returns the process exit code: 0 once exit.json is written (whatever the
// outcome of the run), 1 when even that failed (the server will then see the run as lost).
// Takes over the process: blocks signals, becomes a subreaper, forks. Call once, from a
// single-threaded process.
int RunShim(const std::string& run_dir);

}  // namespace outpost
