#include "core/scheduler.h"

namespace outpost {

bool Mine(const Run& run, const std::string& self) {
  return run.owner.empty() || run.owner == self;
}

AdmissionPlan PlanAdmission(const std::vector<Run>& active, const SchedulerLimits& limits,
                            WallTime now, const OwnedByLiveOther& owned_by_live_other) {
  AdmissionPlan plan;
  // Limits are per replica: each counts the runs it supervises.
  for (const Run& r : active) {
    if (r.status == RunStatus::kRunning && Mine(r, limits.self)) {
      ++plan.running_by_agent[r.agent];
      ++plan.running;
    }
  }
  for (const Run& run : active) {  // oldest first: FIFO
    if (run.status != RunStatus::kPending) continue;
    const bool mine = Mine(run, limits.self);
    if (run.phase == RunPhase::kHeld) {  // its fan-out is still being created...
      // ...unless the server that was creating it died meanwhile: it never starts.
      if (mine && now - run.created_at > kHeldExpiry) plan.expired_held.push_back(run.id);
      continue;
    }
    if (!mine && owned_by_live_other(run.owner)) continue;  // queued at a live replica
    if (limits.disk_low) {
      ++plan.queued_by_agent[run.agent];
      continue;
    }
    auto limit = limits.per_agent.find(run.agent);
    const int agent_max = limit == limits.per_agent.end() ? 0 : limit->second;
    if (plan.running >= limits.max_concurrent_runs ||
        plan.running_by_agent[run.agent] >= agent_max) {
      ++plan.queued_by_agent[run.agent];
      continue;
    }
    plan.admit.push_back({run.id, !mine});
    ++plan.running_by_agent[run.agent];
    ++plan.running;
  }
  for (const auto& [_, n] : plan.queued_by_agent) plan.queued += n;
  return plan;
}

}  // namespace outpost
