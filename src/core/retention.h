// Housekeeping of finished runs, so that a long-lived server does not fill its disk (the
// original v1 died of 59 GB of old runs):
//
//  - RetentionSweeper deletes, for every run that ended more than `max_age` ago, what the
//    runner keeps of it (Runner::Discard: its run directory) and (for the local artifact store) its
//    artifacts under dispatches/<runId>/. The run's record stays in the store; its artifacts list
//    then points at deleted objects and GET /runs/{id}/artifacts answers them as expired. S3 is
//    left to a bucket lifecycle rule (README).
//  - DiskGuard watches the free space of the data dir: below the threshold, /health is degraded
//    and no new run is admitted (dispatch is 503, queued runs wait) rather than failing runs for
//    lack of space.
//
// Thread-safety: SweepOnce is called by the sweeper's thread (or a test); DiskGuard is safe
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "artifacts/artifact_store.h"
#include "common/clock.h"
#include "common/periodic_task.h"
#include "runner/runner.h"
#include "store/event_log.h"
#include "store/run_store.h"

namespace outpost {

// Free bytes of the filesystem holding `path` (statvfs f_bavail), kInternal on failure.
Result<std::int64_t> FreeDiskBytes(const std::string& path);

class DiskGuard {
 public:
  using Probe = std::function<Result<std::int64_t>()>;
  // `min_free_bytes` 0 turns the guard off. The probe is cached for `refresh`.
  DiskGuard(std::string path, std::int64_t min_free_bytes, Clock& clock,
            Millis refresh = Millis(2'000), Probe probe = nullptr);

  // True when free space is below the threshold (false when off or unknown).
  bool Low();
  std::optional<std::int64_t> free_bytes();
  std::int64_t min_free_bytes() const { return min_free_bytes_; }

 private:
  void Refresh();
  const std::string path_;
  const std::int64_t min_free_bytes_;
  Clock& clock_;
  const Millis refresh_;
  Probe probe_;
  std::mutex mu_;
  std::optional<std::int64_t> free_;  // guarded by mu_
  MonoTime checked_{};                // guarded by mu_
  bool checked_once_ = false;         // guarded by mu_
};

struct RetentionStats {
  std::int64_t runs_swept = 0;          // run directories removed
  std::int64_t objects_deleted = 0;     // artifacts removed
  std::int64_t event_logs_removed = 0;  // runs whose events were removed from the event log
  std::int64_t errors = 0;
};

class RetentionSweeper {
 public:
  // `local_artifacts` may be null (S3: a lifecycle rule's job). `max_age` 0: never sweep.
  // `runner`: whose files of ended runs are discarded (Runner::KeptRuns, Discard).
  RetentionSweeper(RunStore& store, artifacts::ArtifactStore* local_artifacts, Runner& runner,
                   Clock& clock, std::chrono::hours max_age,
                   Millis interval = std::chrono::hours(1));
  ~RetentionSweeper();

  // The shared event log (store/event_log.h): a run's events go with its files and artifacts.
  // Optional; set before Start.
  void SetEventLog(EventLog* log) { events_ = log; }

  void Start();
  void Stop();
  // One pass: every finished run older than max_age. Returns what it removed.
  RetentionStats SweepOnce();
  RetentionStats totals() const;

 private:
  void SweepAndLog();
  bool Expired(const RunId& id, WallTime cutoff);
  // Removes the run's events from the event log (once per pass).
  void RemoveEvents(const RunId& id, RetentionStats& s, std::set<std::string>& removed);

  RunStore& store_;
  artifacts::ArtifactStore* artifacts_;
  Runner& runner_;
  Clock& clock_;
  const std::chrono::hours max_age_;
  EventLog* events_ = nullptr;

  mutable std::mutex mu_;
  RetentionStats totals_;  // guarded by mu_
  PeriodicTask task_;      // last: stopped before the members it uses go
};

}  // namespace outpost
