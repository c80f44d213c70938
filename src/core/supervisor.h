// Supervisor: the control plane's side of running runs, a thin loop over its parts. Each pass
// (Tick) starts admitted runs through the Runner (runner/runner.h: a RunSpec in, typed results
// out), reconciles the runs this replica supervises with it (Runner::Probe: finished,
// lost, still running), admits queued runs as the Scheduler plans (core/scheduler.h), and now
// and then lets the Reaper sweep orphan processes (core/reaper.h). Replicas
// (core/replicas.h) holds this replica's heartbeat and its judgement of the others. Every write
// of a run goes through the RunWriter (core/run_writer.h) as a transition of
// model/run_state.h.
//
// It holds no state that matters across restarts: Recover (part of Start) re-reads the store,
// re-adopts live shims, finishes runs whose exit record appeared while the server was down,
// and fails runs whose shim died without one (supervisor_lost), killing what they left behind.
//
// Thread-safety: Wake/RequestCancel/Snapshot may be called from any thread; Tick runs on the
// loop thread (Start), or on the caller's in tests that never call Start.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "agents/agent.h"
#include "common/clock.h"
#include "config/options.h"
#include "core/reaper.h"
#include "core/replicas.h"
#include "core/run_writer.h"
#include "core/scheduler.h"
#include "model/run_state.h"
#include "runner/runner.h"
#include "store/run_store.h"

namespace outpost {

class ArtifactUploader;
class Auditor;
class EventHub;
class EventLog;
class EventPump;
class DiskGuard;
class NotifySocket;
class RunObserver;
class SecretStore;

struct SupervisorSnapshot {
  std::map<std::string, int> running_by_agent;
  std::map<std::string, int> queued_by_agent;
  int running = 0;
  int queued = 0;
  ReaperStats reaper;
  bool loop_alive = false;
  std::vector<ReplicaView> replicas;  // every replica record in the store
  std::int64_t node_lost = 0;         // runs failed because their replica was lost
  std::int64_t taken_over = 0;        // queued runs of a lost replica started here
  // The loop's reads of the active runs (Tick): passes, change-marker reads, full listings.
  std::int64_t ticks = 0;
  std::int64_t marker_reads = 0;
  std::int64_t active_listings = 0;
};

class Supervisor {
 public:
  // `secrets` (may be null) supplies the values of a run's secrets at launch.
  Supervisor(RunStore& store, Runner& runner, const AgentRegistry& agents, Clock& clock,
             const Options& opts, const SecretStore* secrets = nullptr);
  ~Supervisor();

  // Recover, then starts the loop and heartbeat threads.
  Status Start();
  // Stops the threads. Shims (and so runs) keep going.
  void Stop();
  // Announces this replica (one heartbeat) and settles what the store and the runner say of
  // the runs this replica supervised before it started: finished, lost or still running.
  Status Recover();
  // One pass of the loop: reconcile running runs, admit queued ones, sweep orphans when due.
  void Tick();
  // Something changed (a dispatch, a cancel): look now rather than at the next tick.
  void Wake();
  // Forwards a cancel request to the run's shim (idempotent).
  Status RequestCancel(const Run& run);
  SupervisorSnapshot Snapshot() const;
  // Where finished runs' artifacts go (may stay unset: then nothing is uploaded). Set before
  // Start. Every terminal write then also marks the run's artifacts "pending".
  void SetArtifactUploader(ArtifactUploader* uploader) { uploader_ = uploader; }
  // While the data dir's free space is low, queued runs wait instead of starting.
  void SetDiskGuard(DiskGuard* guard) { disk_ = guard; }
  // Told of runs starting and ending (metrics). Optional; set before Start.
  void SetRunObserver(RunObserver* observer) { observer_ = observer; }
  // Where every status transition written here is recorded (core/auditor.h, through the
  // RunWriter). Optional; set before Start.
  void SetAuditor(Auditor* auditor) { writer_.SetAuditor(auditor); }
  // Where runs' events go (core/event_pump.h copies the journals of the runs supervised here
  // into `log`; RecordEnd appends the terminal events there; `hub` is told). Any may be null
  // (then runs get no events in the log). Set before Start.
  void SetEvents(EventLog* log, EventPump* pump, EventHub* hub) {
    events_ = log;
    pump_ = pump;
    hub_ = hub;
  }
  // The run -> RunSpec half of launching (agent command, secrets, limits, network, repo); how
  // it is isolated is the runner's business. Also what the run channel's GET …/spec serves.
  RunSpec SpecFor(const Run& run) const;
  // This replica's API address, announced with its heartbeat (set once the port is bound).
  void SetAddress(std::string address) { replicas_.SetAddress(std::move(address)); }
  // Where runs' supervisors reach the run channel (RunSpec::channel's url): public_url, else
  // this replica's address. Runs launched before it is set get "" (their runner's default).
  void SetChannelUrl(std::string url) {
    std::lock_guard lock(mu_);
    channel_url_ = std::move(url);
  }
  // For terminal writes made elsewhere (RunService cancelling a PENDING run): the
  // artifacts_state the write should carry, and the hand-over once it is written.
  ArtifactsState EndedArtifactsState() const;
  void OnRunEnded(const RunId& id);

  // SIGTERM drain (supervisor_drain.cc; README "Draining a replica"). From BeginDrain on, this
  // replica admits nothing; every pass releases its queued runs to the others (a dispatch may
  // still land here), hands runs whose runner outlives the machine to a live replica, and keeps
  // supervising the rest (local runs) until they end. Its heartbeat says "draining".
  void BeginDrain();
  bool Draining() const { return draining_; }
  // The runs this replica still supervises, as of the last drain pass (nullopt before one).
  std::optional<int> DrainRemaining() const;
  // At exit, once the loop is stopped: the last heartbeat record says this replica left.
  void Leave() { replicas_.Leave(); }

 private:
  void DrainPass(const std::vector<Run>& active);
  std::atomic<bool> draining_{false};
  std::atomic<int> drain_remaining_{-1};  // -1: no drain pass yet

  void Loop();
  // The PENDING and RUNNING runs for this pass into active_: re-listed only when the store's
  // change marker moved (or it keeps none), within kSettle of a move, or kFullListEvery after
  // the last listing; else the last listing is used again. False when the store failed.
  bool RefreshActive();
  std::vector<Run> active_;                  // loop thread only
  bool have_active_ = false;                 // loop thread only
  std::optional<std::int64_t> seen_marker_;  // loop thread only: the marker active_ is as of
  MonoTime full_list_due_{};                 // loop thread only
  MonoTime settle_until_{};                  // loop thread only
  std::atomic<std::int64_t> own_writes_{0};  // UpdateRun/EndRun/Launch attempts
  void Reconcile(const std::vector<Run>& active);
  void DeliverCancel(const Run& run);
  // The run's usage so far (Runner::Progress, priced like the final usage) onto its record, and
  // the ceiling: a run whose cost is over its maxCostUsd is stopped (the cancel path, with a
  // budget reason: Finalize ends it FAILED budget_exceeded).
  void CheckSpend(const Run& run);
  void Admit(const std::vector<Run>& active);
  // Starts the shim of a run already marked RUNNING (just admitted, or found never launched
  // after a restart); a run that cannot be started ends FAILED infra_error.
  void Launch(const Run& run);
  void Finalize(Run run, const ExitRecord& rec);
  void FailNodeLost(const Run& run);
  void MarkStarted(Run run, WallTime at);
  // Writes through the RunWriter; false when `mutate` refused or the store failed (logged).
  bool UpdateRun(const RunId& id, const RunWriter::Mutate& mutate);
  // Ends the run (run_state::End, with this supervisor's artifacts state) after `also` (may be
  // empty) accepted the fresh copy, then hands it over (OnRunEnded). True when this call ended
  // it.
  bool EndRun(const RunId& id, run_state::Ending ending, const RunWriter::Mutate& also = {});
  bool Mine(const Run& run) const { return outpost::Mine(run, opts_.replica_id); }

  RunStore& store_;
  Runner& runner_;
  const AgentRegistry& agents_;
  Clock& clock_;
  const Options& opts_;
  const SecretStore* secrets_;
  RunWriter writer_;
  Replicas replicas_;
  Reaper reaper_;
  ArtifactUploader* uploader_ = nullptr;
  DiskGuard* disk_ = nullptr;
  RunObserver* observer_ = nullptr;
  std::unique_ptr<NotifySocket> notify_;
  int wake_fd_ = -1;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> loop_alive_{false};
  bool recovering_ = false;  // loop thread (or Recover) only

  mutable std::mutex mu_;
  SupervisorSnapshot snapshot_;  // guarded by mu_
  std::string channel_url_;      // guarded by mu_
  void RefreshBlocked(const Run& run);
  std::set<std::string> cancels_delivered_;  // loop thread only: run ids
  // Runs stopped for their maxCostUsd (loop thread only): asked once per process; after a
  // restart the check asks again (a runner keeps the first reason).
  std::set<std::string> budget_stops_;
  MonoTime next_sweep_{};  // loop thread only

  // The run's event stream and progress (supervisor_events.cc). RecordEnd: appends the
  // terminal status and end event once the store has them (any thread). RefreshProgress:
  // raises `progress` from the run's events (loop thread).
  void RecordEnd(const RunId& id);
  void RefreshProgress(const Run& run, bool over_channel);
  // Whether the run's outputs go over the run channel (Runner::OutputsOverChannel, remembered
  // on the record at its launch).
  bool OutputsOverChannel(const Run& run) {
    return run.channel_outputs || runner_.OutputsOverChannel(run.id);
  }
  // The run's shim has exited: its whole journal into the event log before its terminal status
  // is written. False while the log is unavailable (the run is looked at again next pass).
  bool PumpToEnd(const RunId& id);
  // A replica newly judged lost may have left finished runs whose artifacts it never uploaded
  // (it died between the terminal write and the upload): they are uploaded here, their output
  // from the shared event log (supervisor_events.cc). One store listing per newly lost replica.
  void AdoptOrphanedUploads();
  std::set<std::string> lost_seen_;  // loop thread only: replicas already judged lost
  EventLog* events_ = nullptr;
  EventPump* pump_ = nullptr;
  EventHub* hub_ = nullptr;
  struct ProgressState {
    MonoTime next{};
    int turns = 0;
    bool collecting = false;
  };
  std::map<std::string, ProgressState> progress_;  // loop thread only
};

}  // namespace outpost
