// The Supervisor's SIGTERM drain (supervisor.h BeginDrain; README "Draining a replica").
#include <algorithm>

#include "common/log.h"
#include "core/supervisor.h"

namespace outpost {

void Supervisor::BeginDrain() {
  if (draining_.exchange(true)) return;
  spdlog::info("draining: admitting nothing more, releasing queued runs to the other replicas");
  replicas_.SetDraining();  // at once: the others need not wait for the next heartbeat
  Wake();
}

std::optional<int> Supervisor::DrainRemaining() const {
  const int n = drain_remaining_;
  if (n < 0) return std::nullopt;
  return n;
}

void Supervisor::DrainPass(const std::vector<Run>& active) {
  const std::string& self = opts_.replica_id;
  // A live replica that takes work, for runs that can go on without this machine.
  std::string heir;
  if (runner_.RunsOutliveMachine()) {
    for (const ReplicaView& v : replicas_.Views()) {
      if (v.self || !v.live || v.info.draining || v.info.left) continue;
      heir = v.info.id;
      break;
    }
  }
  int released = 0, handed = 0, remaining = 0;
  for (const Run& run : active) {
    if (run.owner != self) continue;
    if (run.status == RunStatus::kPending) {
      // Queued (or held) here: no owner, so that any replica admits it now.
      released += UpdateRun(run.id, [&](Run& r) {
        if (r.status != RunStatus::kPending || r.owner != self) return Conflict("moved on");
        r.owner.clear();
        return Status::Ok();
      });
    } else if (run.status == RunStatus::kRunning) {
      const bool handed_over = !heir.empty() && UpdateRun(run.id, [&](Run& r) {
        if (r.status != RunStatus::kRunning || r.owner != self) return Conflict("moved on");
        r.owner = heir;
        return Status::Ok();
      });
      if (handed_over) {
        ++handed;
        spdlog::info("run {}: handed over to replica {} (draining)", run.id.str(), heir);
      } else {
        ++remaining;  // a local run: supervised here until it ends
      }
    }
  }
  if (released > 0) spdlog::info("draining: released {} queued run(s)", released);
  if (handed > 0) spdlog::info("draining: handed over {} running run(s)", handed);
  {
    std::lock_guard lock(mu_);
    snapshot_.running = remaining;
    snapshot_.queued = 0;
    snapshot_.queued_by_agent.clear();
  }
  drain_remaining_ = remaining;
}

}  // namespace outpost
