// FakeRunner (tests only): the Runner interface in memory, for driving a Supervisor step by
// step. Start launches nothing: the run is "running" until the test says how it ended (Exit:
// its shim wrote an exit record; Lose: its shim vanished without one). Each started run has a
// journal in memory (Emit: what its shim reports; core's pump copies it into the event log);
// it keeps no outputs. One FakeRunner may serve several Supervisors,
// as shims outlive the server that started them.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <boost/json/serialize.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "runner/runner.h"

namespace outpost {

class FakeRunner final : public Runner {
 public:
  FakeRunner() = default;

  RunnerKind kind() const override { return RunnerKind::kProcess; }
  bool RunsOutliveMachine() const override { return outlives_machine_; }
  void SetRunsOutliveMachine(bool v) { outlives_machine_ = v; }
  // Every run's outputs go over the run channel (a remote task): then the runner must not be
  // asked for them — Started, Progress and ChangesOf count such calls (asked_for_outputs).
  bool OutputsOverChannel(const RunId& /*id*/) override { return outputs_over_channel_; }
  void SetOutputsOverChannel(bool v) { outputs_over_channel_ = v; }
  int asked_for_outputs() const {
    std::lock_guard lock(mu_);
    return asked_for_outputs_;
  }

  // --- RunOutputs, in memory. No watch: followers poll.
  Result<EventBatch> ReadEvents(const RunId& id, std::int64_t after,
                                std::size_t max_bytes) override {
    std::lock_guard lock(mu_);
    EventBatch batch;
    auto it = shims_.find(id.str());
    if (it == shims_.end()) return batch;
    std::size_t bytes = 0;
    for (const RunEvent& e : it->second.events) {
      if (e.seq <= after) continue;
      if (!batch.events.empty() && bytes + e.json.size() > max_bytes) break;
      bytes += e.json.size();
      batch.events.push_back(e);
      batch.ended = e.type == event::kEnd;
    }
    return batch;
  }
  Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId& /*id*/,
                                                  std::function<void()> /*wake*/) override {
    return Unavailable("the fake runner does not notify");
  }
  Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId& /*id*/, RunOutput /*what*/) override {
    return NotFound("the fake runner keeps no outputs");
  }

  Status Start(const RunSpec& spec) override {
    std::lock_guard lock(mu_);
    if (!start_error_.ok()) return start_error_;
    const std::string& id = spec.id.str();
    Shim& s = shims_[id];
    s = Shim{};
    s.spec = spec;
    started_.push_back(id);
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
    ShimProbe p{it->second.state, it->second.exit};
    if (p.state == ShimState::kLost) p.message = it->second.lost_message;
    return p;
  }
  std::optional<WallTime> Started(const RunId& id) override {
    std::lock_guard lock(mu_);
    if (outputs_over_channel_) ++asked_for_outputs_;
    auto it = shims_.find(id.str());
    return it == shims_.end() ? std::nullopt : it->second.agent_started;
  }
  RunProgress Progress(const RunId& id) override {
    std::lock_guard lock(mu_);
    if (outputs_over_channel_) ++asked_for_outputs_;
    auto it = shims_.find(id.str());
    return it == shims_.end() ? RunProgress{} : it->second.progress;
  }
  std::optional<Changes> ChangesOf(const RunId& /*id*/) override {
    std::lock_guard lock(mu_);
    if (outputs_over_channel_) ++asked_for_outputs_;
    return std::nullopt;
  }
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
  // The shim vanished without an exit record, leaving `leftovers` processes behind; `why`:
  // the runner's reason (ShimProbe::message).
  void Lose(const std::string& run_id, int leftovers, const std::string& why = "") {
    std::lock_guard lock(mu_);
    Shim& s = shims_[run_id];
    s.state = ShimState::kLost;
    s.leftovers = leftovers;
    s.lost_message = why;
  }
  // A shim runs on this machine for `run_id`, which the supervisor never started (an orphan).
  void Orphan(const std::string& run_id, int processes) {
    std::lock_guard lock(mu_);
    Shim& s = shims_[run_id];
    s.state = ShimState::kRunning;
    s.leftovers = processes - 1;
  }
  // The run's shim reports an event (type and fields after seq/ts/type).
  void Emit(const std::string& run_id, WallTime ts, std::string_view type,
            const boost::json::object& fields = {}) {
    std::lock_guard lock(mu_);
    AppendLocked(shims_[run_id].events, ts, type, fields);
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
    std::string lost_message;
    std::vector<std::string> cancels;
    bool reaped = false;
    std::vector<RunEvent> events;
  };
  static void AppendLocked(std::vector<RunEvent>& log, WallTime ts, std::string_view type,
                           const boost::json::object& fields) {
    const std::int64_t seq = log.empty() ? 1 : log.back().seq + 1;
    boost::json::object o{{"seq", seq}, {"ts", FormatTime(ts)}, {"type", type}};
    for (const auto& [k, v] : fields) o[k] = v;
    log.push_back({seq, std::string(type), boost::json::serialize(o)});
  }
  bool outlives_machine_ = false;
  std::atomic<bool> outputs_over_channel_{false};
  int asked_for_outputs_ = 0;  // guarded by mu_
  mutable std::mutex mu_;
  std::map<std::string, Shim> shims_;
  std::vector<std::string> started_;
  Status start_error_ = Status::Ok();
};

}  // namespace outpost
