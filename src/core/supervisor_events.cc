// Supervisor: the terminal events of a run's stream and its progress estimate.
#include "common/log.h"
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

void Supervisor::RefreshProgress(const Run& run) {
  if (progress_.size() > 4096) progress_.clear();  // runs that ended; rebuilt as needed
  ProgressState& ps = progress_[run.id.str()];
  const MonoTime now = clock_.Mono();
  if (now < ps.next) return;
  ps.next = now + kProgressInterval;
  const RunProgress reported = runner_.Progress(run.id);
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
