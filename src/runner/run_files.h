// RunFiles: reading the run directories (run_dir.h) of one runs directory — what every runner
// whose runs write their files on this machine answers from: the event journal, the outputs,
// progress, changes, blocked connections, the exit record, the kept runs and their removal.
// ProcessRunner (runs/<id>/, written by its shim) and DockerRunner (containers/<id>/, bind-
// mounted into the container, written by `outpost task` and its shim) share it, so that both
// read a run the same way.
//
// Thread-safe: the event readers' cache and the directory watcher are guarded by a mutex;
// everything else reads files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/dir_watch.h"
#include "runner/event_log.h"
#include "runner/run_dir.h"
#include "runner/runner.h"

namespace outpost {

class RunFiles {
 public:
  // runs_dir: the parent of the run directories (made absolute).
  explicit RunFiles(std::string runs_dir);

  const std::string& runs_dir() const { return runs_dir_; }
  RunDir Dir(const std::string& run_id) const;
  std::string OutputPath(const RunId& id, RunOutput what) const;

  // RunOutputs, from the run directory's events.jsonl and output files. ReadEvents bisects the
  // file to `after` (readers that stopped at a seq are kept for the next call). WatchEvents:
  // inotify on the run directory through one DirWatcher made at the first call; kUnavailable
  // when inotify is not available.
  Result<EventBatch> ReadEvents(const RunId& id, std::int64_t after, std::size_t max_bytes);
  Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId& id, std::function<void()> wake);
  Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId& id, RunOutput what);

  // exit.json with the agent's result filled (for a record without one, parsed from stdout.log
  // with spec.json's parser); nullopt while there is none.
  std::optional<ExitRecord> ReadExit(const RunId& id) const;
  std::optional<WallTime> Started(const RunId& id) const;
  // progress.json; without one (an older shim), what the tail of events.jsonl says.
  RunProgress Progress(const RunId& id) const;
  std::optional<Changes> ChangesOf(const RunId& id) const;
  // network-blocked.jsonl (the run's egress proxy's BlockedLog).
  std::vector<BlockedConnection> Blocked(const RunId& id) const;
  // The run directories, by their mtime (seconds).
  std::vector<Runner::KeptRun> KeptRuns() const;
  // Removes the run directory (and forgets its readers). kInvalidArgument for an id that is
  // not a plain name, kInternal when it cannot be removed.
  Status Discard(const RunId& id);

 private:
  std::string runs_dir_;
  std::mutex mu_;
  // Wakes the followers of runs' events; made at the first WatchEvents. Guarded by mu_ (the
  // watcher itself is thread-safe).
  std::unique_ptr<DirWatcher> watcher_;
  bool watcher_failed_ = false;  // guarded by mu_
  // Readers of event streams, by (run id, the last seq they returned): a reader asking for what
  // follows where it stopped (a follower, a log page) goes on from there instead of seeking
  // again. Taken out while in use; bounded. Guarded by mu_.
  std::map<std::pair<std::string, std::int64_t>, std::unique_ptr<EventLogReader>> readers_;
};

// A name usable as one path component of a runs directory (not empty, no '/', not "." or "..").
bool IsPlainRunId(const std::string& id);

}  // namespace outpost
