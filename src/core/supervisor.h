// Supervisor: the control plane's side of running runs. It admits PENDING runs FIFO under the
// global and per-agent limits, starts each through the Runner (runner/runner.h: a RunSpec in,
// typed results out), probes the runner for exit records, and writes each run's single
// terminal status with a conditional store update.
//
// It holds no state that matters across restarts: on Start it re-reads the store, re-adopts
// live shims, finishes runs whose exit record appeared while the server was down, and fails
// runs whose shim died without one (supervisor_lost), killing what they left behind.
//
// Thread-safety: Wake/RequestCancel/Snapshot may be called from any thread; the loop runs on
// its own thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "agents/agent.h"
#include "common/clock.h"
#include "config/options.h"
#include "runner/runner.h"
#include "store/run_store.h"

namespace outpost {

class ArtifactUploader;
class Auditor;
class DiskGuard;
class NotifySocket;
class RunObserver;
class SecretStore;

struct ReaperStats {
  std::int64_t supervisor_lost = 0;     // runs failed because their shim vanished
  std::int64_t leftovers_killed = 0;    // processes killed for such runs
  std::int64_t recovered_on_start = 0;  // runs finished from exit records found at start
  std::int64_t adopted_on_start = 0;    // live shims re-adopted at start
  std::int64_t orphan_runs_reaped = 0;  // live processes of runs the store says are over
  std::int64_t orphan_processes_killed = 0;
};

// A replica as this one last saw it in the store, with its judged liveness.
struct ReplicaView {
  ReplicaInfo info;
  bool live = false;
  bool self = false;
};

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
};

class Supervisor {
 public:
  // `secrets` (may be null) supplies the values of a run's secrets at launch.
  Supervisor(RunStore& store, Runner& runner, const AgentRegistry& agents, Clock& clock,
             const Options& opts, const SecretStore* secrets = nullptr);
  ~Supervisor();

  // Recovers what the store and the run directories say, then starts the loop thread.
  Status Start();
  // Stops the loop thread. Shims (and so runs) keep going.
  void Stop();
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
  // Where every status transition written here is recorded (core/auditor.h; UpdateRun is the
  // one place). Optional; set before Start.
  void SetAuditor(Auditor* auditor) { auditor_ = auditor; }
  // This replica's API address, announced with its heartbeat (set once the port is bound).
  void SetAddress(std::string address);
  // For terminal writes made elsewhere (RunService cancelling a PENDING run): the
  // artifacts_state the write should carry, and the hand-over once it is written.
  std::string EndedArtifactsState() const;
  void OnRunEnded(const RunId& id);

  // One pass of the loop: reconcile running runs, then admit pending ones. Public for tests.
  void Tick();

 private:
  void Loop();
  void Reconcile(const std::vector<Run>& active);
  void DeliverCancel(const Run& run);
  void Admit(const std::vector<Run>& active);
  // Starts the shim of a run already marked RUNNING (just admitted, or found never launched
  // after a restart); a run that cannot be started ends FAILED infra_error.
  void Launch(const Run& run);
  void Finalize(Run run, const ExitRecord& rec);
  void FailLost(Run run);
  // Replicas: this one's record (written every lease/3 by its own thread), and the view of
  // the others (re-read every lease/3, and right before one is judged lost).
  void WriteHeartbeat();
  void HeartbeatLoop();
  // True when the records were read now.
  bool RefreshReplicas(bool force);
  // Whether runs owned by `owner` are someone else's live business (false: ours, or a lost
  // replica's — confirmed by a fresh read).
  bool OwnedByLiveOther(const std::string& owner);
  bool Mine(const Run& run) const { return run.owner.empty() || run.owner == opts_.replica_id; }
  void FailNodeLost(const Run& run);
  // The other direction of reconciliation: processes on the machine whose run is over (or
  // unknown) in the store. A run is reaped only when seen so on two sweeps in a row, so a shim
  // that is exiting after writing its record is left alone.
  void Sweep();
  void MarkStarted(Run run, WallTime at);
  // The run -> RunSpec half of launching (agent command, secrets, limits, network, repo); how
  // it is isolated is the runner's business.
  RunSpec SpecFor(const Run& run) const;
  // Applies `mutate` to the latest stored copy until the conditional update wins or the run is
  // terminal. Returns false when the run was already terminal. Every supervisor write of a run
  // goes through here, so a won write that changes the status is audited here.
  bool UpdateRun(const RunId& id, const std::function<bool(Run&)>& mutate);

  RunStore& store_;
  Runner& runner_;
  const AgentRegistry& agents_;
  Clock& clock_;
  const Options& opts_;
  const SecretStore* secrets_;
  ArtifactUploader* uploader_ = nullptr;
  DiskGuard* disk_ = nullptr;
  RunObserver* observer_ = nullptr;
  Auditor* auditor_ = nullptr;
  std::unique_ptr<NotifySocket> notify_;
  int wake_fd_ = -1;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> loop_alive_{false};

  mutable std::mutex mu_;
  SupervisorSnapshot snapshot_;  // guarded by mu_
  void RefreshBlocked(const Run& run);
  std::set<std::string> orphan_suspects_;       // loop thread only
  std::set<std::string> cancels_delivered_;     // loop thread only: run ids
  MonoTime next_sweep_{};                       // loop thread only
  MonoTime next_replicas_refresh_{};            // loop thread only
  std::optional<MonoTime> last_replicas_read_;  // loop thread only
  std::thread heartbeat_thread_;
  std::mutex hb_mu_;
  std::condition_variable hb_cv_;
  bool hb_stop_ = false;  // guarded by hb_mu_
  WallTime started_at_{};
  std::string address_;                        // guarded by mu_
  std::map<std::string, ReplicaInfo> others_;  // loop thread only: other replicas' records

  // The run's event stream and progress (supervisor_events.cc). RecordEnd: appends the
  // terminal status and end event once the store has them (any thread). RefreshProgress:
  // raises `progress` from the run's events (loop thread).
  void RecordEnd(const RunId& id);
  void RefreshProgress(const Run& run);
  struct ProgressState {
    MonoTime next{};
    int turns = 0;
    bool collecting = false;
  };
  std::map<std::string, ProgressState> progress_;  // loop thread only
};

}  // namespace outpost
