// ArtifactUploader: after a run's terminal status is written, stores what it left behind in the
// ArtifactStore under dispatches/<runId>/ and records the result on the run:
//
//   output.log      (output)   the agent's stdout, redacted as captured (empty when it never ran);
//                              when the runner has none here (the run's replica was lost), the
//                              data of the stdout `output` events of the event log
//   stderr.log      (logs)     the agent's stderr, when there is any
//   events.jsonl    (logs)     the run's events, when there are any (from the event log, with
//                              its terminal status and end; the runner's journal without one)
//   summary.json    (metadata) the run as served (status, reason, exit code, times, duration,
//                              SHAs, changes, usage, agent, model, ...)
//   context.md      (metadata) the context prepended to the task, when any was
//   diff.patch      (patch)    when the agent changed something
//   changes.bundle  (bundle)   its new commits, when it made any
//
// A run whose outputs came over the run channel (Run::channel_outputs): what the channel stored
// under these keys is recorded as it is (Head), never read from the runner; output.log missing
// there comes from the event log.
//
// Every terminal path marks the run artifacts_state "pending" in the same conditional write
// that makes it terminal (Supervisor, RunService::Cancel), and enqueues it here. Upload happens
// on this class's own thread, so it never delays the terminal status. Each object is retried
// with exponential backoff, slept on the clock (the backend also retries transient errors
// inside); what still
// fails is listed in Run::artifacts_missing and the state becomes "partial". A server killed
// in between finds its pending runs again with Recover().
//
// Thread-safety: Enqueue/Recover from any thread; the worker is the only uploader.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "artifacts/artifact_store.h"
#include "common/clock.h"
#include "common/periodic_task.h"
#include "core/run_writer.h"
#include "runner/runner.h"
#include "store/event_log.h"
#include "store/run_store.h"

namespace outpost {

struct ArtifactUploaderOptions {
  int max_attempts = 5;       // per object
  Millis first_backoff{500};  // doubled after each failed attempt
  Millis max_backoff{10'000};
  // The task as summary.json shows it (RedactedTask, core/agent_secrets.h); empty: as given.
  std::function<std::string(const Run&)> shown_task = {};
};

class ArtifactUploader {
 public:
  // `outputs`: where the runner keeps what runs leave behind (must outlive this). Backoffs
  // sleep on `clock`.
  ArtifactUploader(RunStore& store, artifacts::ArtifactStore& artifacts, RunOutputs& outputs,
                   Clock& clock, ArtifactUploaderOptions options = {});
  ~ArtifactUploader();

  // The shared event log (store/event_log.h), source of events.jsonl and of the output.log of a
  // run the runner has no output of. Optional; set before Start.
  void SetEventLog(EventLog* log) { events_ = log; }

  void Start();
  // Finishes the upload in progress (not the queue: Recover picks the rest up next start).
  void Stop();

  // Queues a run whose terminal status says artifacts_state "pending".
  void Enqueue(const RunId& id);
  // Queues every run the store lists as pending (after a restart). Returns how many.
  Result<int> Recover();

  // Uploads one run now, on the calling thread (the worker's body; public for tests).
  // Ok when the run's record was updated (stored or partial) or needed nothing.
  Status UploadRun(const RunId& id);

  // Totals since start, for /health and metrics.
  struct Stats {
    std::int64_t runs_stored = 0;
    std::int64_t runs_partial = 0;
    std::int64_t objects_stored = 0;
    std::int64_t object_failures = 0;  // attempts that failed (retried or not)
    std::size_t queued = 0;
  };
  Stats stats() const;

  // The key of an artifact of a run.
  static std::string Key(const RunId& id, std::string_view name);

 private:
  // The worker's body: uploads what is queued until the queue is empty or Stop().
  void Drain();
  // The run's events in the log as JSON lines, or only the data of its stdout output events.
  Result<std::string> FromEventLog(const RunId& id, bool stdout_only);
  // Runs `put` until it succeeds, a permanent error, or max_attempts.
  Status PutWithRetry(const std::string& key, const std::function<Status()>& put);

  RunStore& store_;
  RunWriter writer_{store_};  // records what was stored
  artifacts::ArtifactStore& artifacts_;
  RunOutputs& outputs_;
  EventLog* events_ = nullptr;
  Clock& clock_;
  const ArtifactUploaderOptions options_;

  mutable std::mutex mu_;
  std::deque<RunId> queue_;       // guarded by mu_
  std::set<std::string> queued_;  // guarded by mu_: ids in queue_, to enqueue once
  Stats stats_;                   // guarded by mu_
  PeriodicTask worker_;           // last: stopped before the members it uses go
};

}  // namespace outpost
