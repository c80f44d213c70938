// FakeRunner (tests only): the Runner interface in memory, for driving a Supervisor step by
// step. Start launches nothing: the run is "running" until the test says how it ended (Exit:
// its shim wrote an exit record; Lose: its shim vanished without one). It keeps a real run
// directory per started run (under `root`), so that what core reads there (started.json, the
// terminal events) behaves as with a real shim. One FakeRunner may serve several Supervisors,
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

  std::string_view name() const override { return "fake"; }

  Status Start(const LaunchSpec& spec) override {
    std::lock_guard lock(mu_);
    if (!start_error_.ok()) return start_error_;
    Shim& s = shims_[spec.run_id];
    s = Shim{};
    s.spec = spec;
    started_.push_back(spec.run_id);
    std::filesystem::create_directories(root_ + "/" + spec.run_id);
    return Status::Ok();
  }
  Status RequestCancel(const std::string& run_id, const std::string& reason) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    if (it == shims_.end()) return NotFound("no run directory for " + run_id);
    it->second.cancels.push_back(reason);
    return Status::Ok();
  }
  ShimProbe Probe(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    if (it == shims_.end()) return {ShimState::kNotStarted, std::nullopt};
    return {it->second.state, it->second.exit};
  }
  int KillLeftovers(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    if (it == shims_.end()) return 0;
    return std::exchange(it->second.leftovers, 0);
  }
  std::vector<std::string> LiveRuns() override {
    std::lock_guard lock(mu_);
    std::vector<std::string> live;
    for (const auto& [id, s] : shims_) {
      if (s.state == ShimState::kRunning || s.leftovers > 0) live.push_back(id);
    }
    return live;
  }
  int Reap(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    if (it == shims_.end()) return 0;
    Shim& s = it->second;
    int killed = s.leftovers + (s.state == ShimState::kRunning ? 1 : 0);
    s.leftovers = 0;
    s.reaped = true;
    if (s.state == ShimState::kRunning) s.state = ShimState::kLost;
    return killed;
  }
  RunDir Dir(const std::string& run_id) const override { return RunDir(root_ + "/" + run_id); }

  // --- What the test says happened.
  // The agent process started at `at` (the shim writes started.json).
  void AgentStarted(const std::string& run_id, WallTime at) {
    (void)Dir(run_id).WriteStarted(at, 4242);
  }
  // The shim finished with `rec` (exit.json).
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
  std::optional<LaunchSpec> spec(const std::string& run_id) const {
    std::lock_guard lock(mu_);
    auto it = shims_.find(run_id);
    if (it == shims_.end() || it->second.spec.run_id.empty()) return std::nullopt;
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
    LaunchSpec spec;
    ShimState state = ShimState::kRunning;
    std::optional<ExitRecord> exit;
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
