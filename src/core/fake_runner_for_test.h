// FakeRunner (tests only): the Runner interface in memory, for driving a Supervisor step by
// step. Start launches nothing: the run is "running" until the test says how it ended (Exit:
// its shim wrote an exit record; Lose: its shim vanished without one). Each started run gets a
// directory under `root` for its output files (OutputFile: the terminal events core appends). One FakeRunner may serve several Supervisors,
// as shims outlive the server that started them.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "runner/runner.h"

namespace outpost {

class FakeRunner final : public Runner {
 public:
  explicit FakeRunner(std::string root) : root_(std::move(root)) {}

  RunnerKind kind() const override { return RunnerKind::kProcess; }
  std::string OutputFile(const RunId& id, RunOutput what) const override {
    static constexpr const char* kNames[] = {"stdout.log", "stderr.log", "events.jsonl",
                                             "context.md", "diff.patch", "changes.bundle"};
    return root_ + "/" + id.str() + "/" + kNames[static_cast<int>(what)];
  }

  Status Start(const RunSpec& spec) override {
    std::lock_guard lock(mu_);
    if (!start_error_.ok()) return start_error_;
    const std::string& id = spec.id.str();
    Shim& s = shims_[id];
    s = Shim{};
    s.spec = spec;
    started_.push_back(id);
    std::filesystem::create_directories(root_ + "/" + id);
    return Status::Ok();
  }
  Status RequestCancel(const RunId& id, const std::string& reason) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(id.str());
    if (it == shims_.end()) return NotFound("no run " + id.str());
    it->second.cancels.push_back(reason);
    return Status::Ok();
  }
  ShimProbe Probe(const RunId& id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(id.str());
    if (it == shims_.end()) return {ShimState::kNotStarted, std::nullopt};
    return {it->second.state, it->second.exit};
  }
  std::optional<WallTime> Started(const RunId& id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(id.str());
    return it == shims_.end() ? std::nullopt : it->second.agent_started;
  }
  RunProgress Progress(const RunId& id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(id.str());
    return it == shims_.end() ? RunProgress{} : it->second.progress;
  }
  std::optional<Changes> ChangesOf(const RunId& /*id*/) override { return std::nullopt; }
  int KillLeftovers(const RunId& id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(id.str());
    if (it == shims_.end()) return 0;
    return std::exchange(it->second.leftovers, 0);
  }
  std::vector<RunId> LiveRuns() override {
    std::lock_guard lock(mu_);
    std::vector<RunId> live;
    for (const auto& [id, s] : shims_) {
      if (s.state == ShimState::kRunning || s.leftovers > 0) live.push_back(RunId(id));
    }
    return live;
  }
  int Reap(const RunId& id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(id.str());
    if (it == shims_.end()) return 0;
    Shim& s = it->second;
    int killed = s.leftovers + (s.state == ShimState::kRunning ? 1 : 0);
    s.leftovers = 0;
    s.reaped = true;
    if (s.state == ShimState::kRunning) s.state = ShimState::kLost;
    return killed;
  }
  std::vector<KeptRun> KeptRuns() override { return {}; }
  Status Discard(const RunId& /*id*/) override { return Status::Ok(); }

  // --- What the test says happened.
  // The agent process started at `at`.
  void AgentStarted(const std::string& run_id, WallTime at) {
    std::lock_guard lock(mu_);
    shims_[run_id].agent_started = at;
  }
  // The run reports how far it got.
  void Report(const std::string& run_id, RunProgress progress) {
    std::lock_guard lock(mu_);
    shims_[run_id].progress = progress;
  }
  // The shim finished with `rec` (its exit record).
  void Exit(const std::string& run_id, ExitRecord rec) {
    std::lock_guard lock(mu_);
    Shim& s = shims_[run_id];
    s.state = ShimState::kExited;
    s.exit = std::move(rec);
  }
  // The shim vanished without an exit record, leaving `leftovers` processes behind.
  void Lose(const std::string& run_id, int leftovers) {
    std::lock_guard lock(mu_);
    Shim& s = shims_[run_id];
    s.state = ShimState::kLost;
    s.leftovers = leftovers;
  }
  // A shim runs on this machine for `run_id`, which the supervisor never started (an orphan).
  void Orphan(const std::string& run_id, int processes) {
    std::lock_guard lock(mu_);
    Shim& s = shims_[run_id];
    s.state = ShimState::kRunning;
    s.leftovers = processes - 1;
  }
  // Every later Start fails with `st` (Ok: starts again).
  void FailStarts(Status st) {
    std::lock_guard lock(mu_);
    start_error_ = std::move(st);
  }

  // --- What the test can check.
  // Run ids in the order they were started.
  std::vector<std::string> started() const {
    std::lock_guard lock(mu_);
    return started_;
  }
  std::optional<RunSpec> spec(const std::string& run_id) const {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    if (it == shims_.end() || !it->second.spec) return std::nullopt;
    return it->second.spec;
  }
  // The cancel requests delivered to the run's shim, in order.
  std::vector<std::string> cancels(const std::string& run_id) const {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    return it == shims_.end() ? std::vector<std::string>{} : it->second.cancels;
  }
  bool reaped(const std::string& run_id) const {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    return it != shims_.end() && it->second.reaped;
  }

 private:
  struct Shim {
    std::optional<RunSpec> spec;
    ShimState state = ShimState::kRunning;
    std::optional<ExitRecord> exit;
    std::optional<WallTime> agent_started;
    RunProgress progress;
    int leftovers = 0;
    std::vector<std::string> cancels;
    bool reaped = false;
  };
  const std::string root_;
  mutable std::mutex mu_;
  std::map<std::string, Shim> shims_;
  std::vector<std::string> started_;
  Status start_error_ = Status::Ok();
};

}  // namespace outpost
