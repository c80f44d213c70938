// RunnerRouter: the Runner core talks to when agents run on different runners ([agents.NAME]
// runner): it starts each run on the runner its RunSpec names (RunSpec::runner, the agent's,
// Options::RunnerFor) and sends every later call for a run to the runner that holds it.
//
// Which runner holds a run is decided on this machine, not by the config: each runner is added
// with a `holds` test (its run directory for the run exists: runs/<id>/ for the process runner,
// containers/<id>/ for the docker runner). So a control plane restarted with another agent ->
// runner mapping still probes, cancels and reads each run where it actually runs. A run no
// runner holds (never started) goes to the default runner, which answers "nothing"
// (kNotStarted). LiveRuns, KeptRuns: every runner's; Reap, KillLeftovers: every runner's (each
// touches only what is its own).
//
// Thread-safe once set up (Add before any other call).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runner/runner.h"

namespace outpost {

class RunnerRouter final : public Runner {
 public:
  explicit RunnerRouter(RunnerKind default_kind) : default_kind_(default_kind) {}

  // `runner` must outlive the router. The first runner added for a kind is used.
  void Add(RunnerKind kind, Runner* runner, std::function<bool(const RunId&)> holds);
  // The runner of a kind (nullptr when not added).
  Runner* Find(RunnerKind kind) const;

  RunnerKind kind() const override { return default_kind_; }
  bool ReportsOverChannel(const RunId& id) override { return For(id).ReportsOverChannel(id); }
  bool OutputsOverChannel(const RunId& id) override { return For(id).OutputsOverChannel(id); }
  // kFailedPrecondition naming the runner when the spec's runner is not set up here.
  Status Start(const RunSpec& spec) override;
  Status RequestCancel(const RunId& id, const std::string& reason) override {
    return For(id).RequestCancel(id, reason);
  }
  ShimProbe Probe(const RunId& id) override { return For(id).Probe(id); }
  std::optional<WallTime> Started(const RunId& id) override { return For(id).Started(id); }
  RunProgress Progress(const RunId& id) override { return For(id).Progress(id); }
  std::optional<Changes> ChangesOf(const RunId& id) override { return For(id).ChangesOf(id); }
  std::vector<BlockedConnection> Blocked(const RunId& id) override { return For(id).Blocked(id); }
  int KillLeftovers(const RunId& id) override;
  std::vector<RunId> LiveRuns() override;
  int Reap(const RunId& id) override;
  std::vector<KeptRun> KeptRuns() override;
  Status Discard(const RunId& id) override { return For(id).Discard(id); }
  Result<EventBatch> ReadEvents(const RunId& id, std::int64_t after,
                                std::size_t max_bytes) override {
    return For(id).ReadEvents(id, after, max_bytes);
  }
  Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId& id,
                                                  std::function<void()> wake) override {
    return For(id).WatchEvents(id, std::move(wake));
  }
  Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId& id, RunOutput what) override {
    return For(id).OpenOutput(id, what);
  }

 private:
  struct Entry {
    RunnerKind kind;
    Runner* runner;
    std::function<bool(const RunId&)> holds;
  };
  // The runner holding `id`, else the default one (else the first added).
  Runner& For(const RunId& id) const;

  RunnerKind default_kind_;
  std::vector<Entry> runners_;
};

}  // namespace outpost
