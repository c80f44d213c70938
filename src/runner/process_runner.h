// ProcessRunner: runs each shim as a plain detached process on this machine. In mode kProcess
// (runner "process") the shim runs the agent unisolated; in mode kSandbox (runner "sandbox")
// the specs have spec.sandbox.enabled and the shim runs the agent in bubblewrap + a cgroup
// (ARCHITECTURE.md §5). The shim does the isolating; this class only launches and watches.
//
// Start launches `<shim_exe> shim <run-dir>` in its own session, double-forked so that it is
// not the server's child (the server never reaps it and may exit before it). Everything else
// reads the run directory. Thread-safe: the object holds only configuration; concurrent calls
// for the same run are as safe as the file protocol (atomic writes) makes them.
#pragma once

#include <string>

#include "common/clock.h"
#include "runner/runner.h"

namespace outpost {

class ProcessRunner final : public Runner {
 public:
  enum class Mode { kProcess, kSandbox };

  // runs_dir: parent of the run directories (made absolute). shim_exe: the executable that
  // understands `shim <run-dir>` (the outpost binary itself in production). start_grace: how
  // long a run whose shim has not written shim.json yet still counts as running.
  ProcessRunner(std::string runs_dir, std::string shim_exe, Clock& clock,
                Millis start_grace = Millis(10'000), Mode mode = Mode::kProcess);

  std::string_view name() const override { return mode_ == Mode::kSandbox ? "sandbox" : "process"; }
  // Creates the run dir (0700; 0711 in sandbox mode, so the sandbox uid can reach its
  // workspace and home), writes spec.json (workspace defaults to <run-dir>/workspace) and
  // launches the shim; returns without waiting for the run. kInvalidArgument when
  // spec.sandbox.enabled does not match the mode (a sandbox run never silently runs
  // unisolated), kConflict when the run was started before (spec.json exists), kInternal when
  // the directory or the fork failed.
  Status Start(const LaunchSpec& spec) override;
  // Writes cancel.json (the first reason wins) and signals a live shim with SIGUSR1.
  Status RequestCancel(const std::string& run_id, const std::string& reason) override;
  ShimProbe Probe(const std::string& run_id) override;
  // Finds the run's processes by their OUTPOST_RUN_ID environment marker and kills them
  // (SIGTERM, 2 s grace, SIGKILL until none is left); in sandbox mode also kills what is left
  // in the run's cgroup and removes it. Blocks up to a few seconds.
  int KillLeftovers(const std::string& run_id) override;
  std::vector<std::string> LiveRuns() override;
  int Reap(const std::string& run_id) override;
  std::vector<BlockedConnection> Blocked(const std::string& run_id) override;
  RunDir Dir(const std::string& run_id) const override;

 private:
  Status Launch(const std::string& run_dir) const;
  int KillCgroup(const std::string& run_id);

  std::string runs_dir_;
  std::string shim_exe_;
  Clock& clock_;
  Millis start_grace_;
  Mode mode_;
};

}  // namespace outpost
