// Scheduler: which queued runs a replica admits now, decided over a snapshot of the active runs
// (oldest first, as RunStore::ListActive returns them). Pure: no store, no clock, no threads;
// the Supervisor writes what it decides (RunWriter) and plans again when a write loses a race.
//
// The rules: FIFO over the PENDING runs; a replica counts only the runs it supervises (owner ==
// self, or no owner) against max_concurrent_runs and each agent's max_concurrent (an unknown
// agent: 0, it waits); a run queued at another live replica is left alone, one queued at a lost
// replica is taken over; while the disk is low nothing starts (they wait, they do not fail); a
// "held" run (its fan-out is being created) is never admitted, and one of ours held for longer
// than kHeldExpiry is reported for cancelling (the server that was creating it died).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "model/run.h"

namespace outpost {

inline constexpr std::chrono::seconds kHeldExpiry{60};

struct SchedulerLimits {
  std::string self;  // this replica's id
  int max_concurrent_runs = 0;
  std::map<std::string, int> per_agent;  // an agent's max_concurrent; missing: 0
  bool disk_low = false;
};

struct AdmissionPlan {
  struct Admit {
    RunId id;
    bool takeover = false;  // queued at a lost replica
  };
  std::vector<Admit> admit;                     // in this order
  std::vector<RunId> expired_held;              // ours, held past kHeldExpiry: to cancel
  std::map<std::string, int> running_by_agent;  // ours, once `admit` are started
  std::map<std::string, int> queued_by_agent;   // left waiting (limits, disk)
  int running = 0;
  int queued = 0;
};

// True when `owner`'s runs are another live replica's business. Asked only for PENDING runs
// that are not ours, in FIFO order.
using OwnedByLiveOther = std::function<bool(const std::string& owner)>;

bool Mine(const Run& run, const std::string& self);

AdmissionPlan PlanAdmission(const std::vector<Run>& active, const SchedulerLimits& limits,
                            WallTime now, const OwnedByLiveOther& owned_by_live_other);

}  // namespace outpost
