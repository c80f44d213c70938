// Reaper: reconciliation of the store with the processes on this machine, both ways.
//  - FailLost: a run the store says is RUNNING whose shim vanished without an exit record:
//    whatever it left is killed, and the run ends FAILED supervisor_lost.
//  - Sweep: processes on the machine whose run is over (or unknown) in the store. A run is
//    reaped only when seen so on two sweeps in a row, so that a shim that is exiting after
//    writing its record is left alone. Only ULID run ids are considered; which processes are a
//    run's is the runner's business, never a marker a sandboxed process can set (audit F3).
//
// Thread-safety: Stats from any thread; the rest from the supervisor's loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "common/clock.h"
#include "model/run_state.h"
#include "runner/runner.h"
#include "store/run_store.h"

namespace outpost {

struct ReaperStats {
  std::int64_t supervisor_lost = 0;     // runs failed because their shim vanished
  std::int64_t leftovers_killed = 0;    // processes killed for such runs
  std::int64_t recovered_on_start = 0;  // runs finished from exit records found at start
  std::int64_t adopted_on_start = 0;    // live shims re-adopted at start
  std::int64_t orphan_runs_reaped = 0;  // live processes of runs the store says are over
  std::int64_t orphan_processes_killed = 0;
  std::int64_t sweeps = 0;  // Sweep calls done
};

class Reaper {
 public:
  // Ends a run (through the RunWriter) and hands it over; true when this call ended it.
  using EndRun = std::function<bool(const RunId&, const run_state::Ending&)>;

  Reaper(RunStore& store, Runner& runner, const Clock& clock, EndRun end_run)
      : store_(store), runner_(runner), clock_(clock), end_run_(std::move(end_run)) {}

  // `why`: the runner's reason (ShimProbe::message), when it gave one.
  void FailLost(const Run& run, const std::string& why = "");
  void Sweep();

  // Counted by the Supervisor's recovery at start.
  void CountRecovered();
  void SetAdopted(std::int64_t n);
  ReaperStats Stats() const;

 private:
  RunStore& store_;
  Runner& runner_;
  const Clock& clock_;
  EndRun end_run_;
  std::set<std::string> suspects_;  // loop thread only
  mutable std::mutex mu_;
  ReaperStats stats_;  // guarded by mu_
};

}  // namespace outpost
