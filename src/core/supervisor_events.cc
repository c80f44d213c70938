// Supervisor: the terminal events of a run's stream and its progress estimate.
#include "common/log.h"
#include "core/artifact_uploader.h"
#include "core/event_hub.h"
#include "core/event_pump.h"
#include "core/progress.h"
#include "core/run_events.h"
#include "core/supervisor.h"

namespace outpost {
namespace {

constexpr auto kProgressInterval = std::chrono::seconds(2);

}  // namespace

void Supervisor::RecordEnd(const RunId& id) {
  auto run = store_.Get(id);
  if (!run.ok() || !IsTerminal(run->status) || !events_) return;
  auto end = AppendTerminalEvents(*events_, *run);
  if (!end.ok()) {
    spdlog::warn("run {}: end event not written yet ({}); its followers will write it", id.str(),
                 end.status().ToString());
  } else if (hub_) {
    hub_->Notify(id.str(), *end);
  }
}

void Supervisor::AdoptOrphanedUploads() {
  if (!uploader_) return;
  std::set<std::string> lost;
  for (const ReplicaView& v : replicas_.Views()) {
    if (!v.live && !v.self) lost.insert(v.info.id);
  }
  std::set<std::string> newly;
  for (const std::string& id : lost) {
    if (!lost_seen_.contains(id)) newly.insert(id);
  }
  lost_seen_ = std::move(lost);
  if (newly.empty()) return;
  ListQuery q;
  q.limit = 200;
  q.artifacts_state = ArtifactsState::kPending;
  int n = 0;
  for (;;) {
    auto page = store_.List(q);
    if (!page.ok()) {
      spdlog::warn("supervisor: cannot list runs still to upload: {}", page.status().ToString());
      for (const std::string& id : newly) lost_seen_.erase(id);  // look again next pass
      return;
    }
    for (const Run& run : page->runs) {
      if (IsTerminal(run.status) && newly.contains(run.owner)) {
        uploader_->Enqueue(run.id);
        ++n;
      }
    }
    if (!page->next_cursor) break;
    q.cursor = page->next_cursor;
  }
  if (n > 0) spdlog::info("artifacts: {} finished run(s) of lost replica(s) to upload here", n);
}

bool Supervisor::PumpToEnd(const RunId& id) {
  if (!pump_) return true;
  Status st = pump_->Flush(id);
  if (st.ok()) return true;
  if (st.code() == Code::kUnavailable) {
    spdlog::warn("run {}: its events are not all in the event log yet ({}); it ends once they are",
                 id.str(), st.ToString());
    return false;
  }
  // Not a passing condition (an unreadable journal): waiting would never end the run.
  spdlog::error("run {}: its journal cannot be copied into the event log ({}); ending it anyway",
                id.str(), st.ToString());
  return true;
}

void Supervisor::RefreshProgress(const Run& run, bool over_channel) {
  if (progress_.size() > 4096) progress_.clear();  // runs that ended; rebuilt as needed
  ProgressState& ps = progress_[run.id.str()];
  const MonoTime now = clock_.Mono();
  if (now < ps.next) return;
  ps.next = now + kProgressInterval;
  const RunProgress reported = over_channel ? RunProgress{} : runner_.Progress(run.id);
  ps.turns = std::max(ps.turns, reported.turns);
  ps.collecting = ps.collecting || reported.collecting;
  ProgressInputs in;
  in.status = run.status;
  in.phase = ps.collecting ? RunPhase::kCollecting : run.phase;
  in.agent_turns = ps.turns;
  in.elapsed =
      std::chrono::duration_cast<Millis>(clock_.Now() - run.started_at.value_or(run.created_at));
  in.timeout_seconds = run.timeout_seconds;
  const int p = EstimateProgress(in);
  if (p <= run.progress) return;
  UpdateRun(run.id, [p](Run& r) {
    if (r.status != RunStatus::kRunning || r.progress >= p) return FailedPrecondition("unchanged");
    r.progress = p;
    return Status::Ok();
  });
}

}  // namespace outpost
