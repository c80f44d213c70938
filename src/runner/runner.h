// Runner: starts a run's supervisor (shim) and talks to it through the run directory.
// Implementations: ProcessRunner (plain child in its own session; this file's sibling
// process_runner.h) and, later, the bubblewrap sandbox and Docker.
//
// The shim outlives the server: Start returns once the shim is launched, detached. Everything
// after that goes through files (run_dir.h) plus a best-effort datagram notification.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "model/run.h"
#include "runner/run_dir.h"

namespace outpost {

enum class ShimState {
  kRunning,  // the shim is alive (or still starting)
  kExited,   // exit.json is there
  kLost,     // the shim is gone and left no exit record
  // Nothing of the run exists: no spec.json, so the runner never launched a shim for it and
  // nothing of it ran (a control plane that died between admitting a run and starting it).
  kNotStarted,
};

struct ShimProbe {
  ShimState state = ShimState::kRunning;
  std::optional<ExitRecord> exit;
};

class Runner {
 public:
  virtual ~Runner() = default;
  virtual std::string_view name() const = 0;

  // Writes spec.json and launches a detached shim for it. kInternal when it could not start.
  virtual Status Start(const LaunchSpec& spec) = 0;
  // Asks the shim to stop the run (idempotent). kNotFound when the run dir does not exist.
  virtual Status RequestCancel(const std::string& run_id, const std::string& reason) = 0;
  // Where the run stands. `grace` covers a shim that was launched but has not written
  // shim.json yet: it is kRunning for that long after spec.json was written.
  virtual ShimProbe Probe(const std::string& run_id) = 0;
  // Kills every process left by a run whose shim is gone; returns how many it killed.
  virtual int KillLeftovers(const std::string& run_id) = 0;
  // Run ids (of this runner's runs) that have live processes on this machine: shims or agent
  // processes. The reaper compares them with the store.
  virtual std::vector<std::string> LiveRuns() = 0;
  // Kills the run's shim and every process of the run (for orphans the store says are over).
  // Returns how many processes were killed.
  virtual int Reap(const std::string& run_id) = 0;
  // Egress attempts the run's allowlist proxy refused so far (empty without a proxy).
  virtual std::vector<BlockedConnection> Blocked(const std::string& run_id) {
    (void)run_id;
    return {};
  }
  // The run directory of a run.
  virtual RunDir Dir(const std::string& run_id) const = 0;
};

}  // namespace outpost
