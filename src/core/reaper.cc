#include "core/reaper.h"

#include "common/ids.h"
#include "common/log.h"

namespace outpost {

void Reaper::FailLost(const Run& run, const std::string& why) {
  int killed = runner_.KillLeftovers(run.id);
  const std::string what =
      why.empty() ? "the run's supervisor (shim) died without an exit record" : why;
  bool failed =
      end_run_(run.id, {RunStatus::kFailed, reason::kSupervisorLost,
                        what + "; " + std::to_string(killed) + " leftover process(es) killed",
                        clock_.Now(), ArtifactsState::kNone});
  std::lock_guard lock(mu_);
  stats_.leftovers_killed += killed;
  if (failed) ++stats_.supervisor_lost;
  spdlog::warn("run {} FAILED (supervisor_lost), {} leftover process(es) killed", run.id.str(),
               killed);
}

void Reaper::Sweep() {
  std::set<std::string> suspects;
  for (const RunId& run_id : runner_.LiveRuns()) {
    const std::string& id = run_id.str();
    // Audit F3: a run id is a ULID (the runner lists nothing else); anything else is never
    // "over" in the store by default, nor reaped.
    if (!IsUlid(id)) continue;
    auto run = store_.Get(run_id);
    bool over = run.ok() ? IsTerminal(run->status) : run.status().code() == Code::kNotFound;
    if (!over) continue;
    if (!suspects_.count(id)) {
      suspects.insert(id);
      continue;
    }
    int killed = runner_.Reap(run_id);
    spdlog::warn("reaper: run {} is over in the store but had {} live process(es): killed", id,
                 killed);
    std::lock_guard lock(mu_);
    ++stats_.orphan_runs_reaped;
    stats_.orphan_processes_killed += killed;
  }
  suspects_ = std::move(suspects);
  std::lock_guard lock(mu_);
  ++stats_.sweeps;
}

void Reaper::CountRecovered() {
  std::lock_guard lock(mu_);
  ++stats_.recovered_on_start;
}

void Reaper::SetAdopted(std::int64_t n) {
  std::lock_guard lock(mu_);
  stats_.adopted_on_start = n;
}

ReaperStats Reaper::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace outpost
