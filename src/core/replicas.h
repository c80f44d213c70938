// Replicas: this control-plane replica among the others sharing the store. It announces itself
// (a heartbeat record every lease/3, on its own thread so that a slow supervisor pass never
// makes it look lost), reads the others' records, and judges them: a replica is live while its
// heartbeat is younger than the lease. What a lost replica leaves is taken over by the
// Supervisor: its queued runs are admitted here (Scheduler), its running ones end node_lost.
// A draining replica (SIGTERM) says so in its record, and "left" in its last one: whatever is
// still queued at it is anyone's at once, while its running runs keep their lease.
//
// Thread-safety: Beat, SetAddress and Views from any thread; Refresh and OwnedByLiveOther from
// the supervisor's loop thread only.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/periodic_task.h"
#include "store/run_store.h"

namespace outpost {

// A replica as this one last saw it in the store, with its judged liveness.
struct ReplicaView {
  ReplicaInfo info;
  bool live = false;
  bool self = false;
};

class Replicas {
 public:
  // `running`: how many runs this replica supervises now (announced with each heartbeat).
  Replicas(RunStore& store, const Clock& clock, std::string self, int lease_seconds, int capacity,
           std::function<int()> running);
  ~Replicas();

  const std::string& self() const { return self_; }
  // This replica's API address, announced with its heartbeat (set once the port is bound).
  void SetAddress(std::string address);
  // Writes this replica's record now; the first one also fixes its started_at.
  void Beat();
  // Beats now and then every lease/3 (on the clock) on a thread of its own until StopHeartbeat.
  void StartHeartbeat();
  void StopHeartbeat();
  // SIGTERM drain: every heartbeat from now on says "draining" (one is written now).
  void SetDraining();
  // The last record, at exit: stops the heartbeat and writes "left" (so the others take what it
  // released at once; its leases still run out as before).
  void Leave();

  // Re-reads every replica's record: when `force`, now (but at most every 500 ms: a lost
  // replica's many queued runs must not cost one store scan each), else when lease/3 has passed
  // since the last read. True when the records were read now.
  bool Refresh(bool force);
  // Whether runs owned by `owner` are someone else's live business (false: ours, or a lost
  // replica's — confirmed by a fresh read before anything irreversible is done).
  bool OwnedByLiveOther(const std::string& owner);
  // Whether queued runs owned by `owner` wait for it: a live other replica that is neither
  // draining nor gone (a draining or departed replica's queue is anyone's at once).
  bool QueueHeldByLiveOther(const std::string& owner);
  // Every replica record as last read.
  std::vector<ReplicaView> Views() const;

 private:
  RunStore& store_;
  const Clock& clock_;
  const std::string self_;
  const int lease_seconds_;
  const int capacity_;
  const std::function<int()> running_;

  mutable std::mutex mu_;
  std::string address_;              // guarded by mu_
  std::optional<WallTime> started_;  // guarded by mu_
  bool draining_ = false;            // guarded by mu_
  bool left_ = false;                // guarded by mu_
  std::vector<ReplicaView> views_;   // guarded by mu_

  std::map<std::string, ReplicaInfo> others_;  // loop thread only
  MonoTime next_refresh_{};                    // loop thread only
  std::optional<MonoTime> last_read_;          // loop thread only

  PeriodicTask heartbeat_;  // last: stopped before the members Beat uses go
};

}  // namespace outpost
