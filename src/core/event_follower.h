// EventFollower: the events of one run after a given seq — first what is stored, then each new
// one as it is written — until the `end` event (GET /runs/{id}/events, `outpost logs -f`).
//
// It reads the run's event log (the runner's RunOutput::kEvents file) with its own reader:
// followers never wait for each other, and none of them can slow the run (the shim writes to the
// file and never learns who reads it). It never blocks: Next returns what is there; SetWake says
// when to call it again (inotify, through the server's DirWatcher). Two things are not signalled by
// the file and are looked at every poll_interval(): the log's directory appearing (a PENDING run)
// and a terminal run whose log has no end (the server died between the terminal write and the end
// event) — then the end is appended here, once (core/run_events.h). A run that ended without ever
// starting (cancelled while PENDING) gets its synthesized status + end.
//
// Not thread-safe, except the wake callback, which may run on any thread until destruction.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "runner/dir_watch.h"
#include "runner/event_log.h"
#include "store/run_store.h"

namespace outpost {

class EventFollower {
 public:
  // `watcher` may be null (then poll_interval() is short). `events_file`: where the runner
  // keeps the run's events (Runner::OutputFile). Store, watcher and clock must outlive the
  // follower.
  EventFollower(RunStore& store, DirWatcher* watcher, const Clock& clock, RunId id,
                std::string events_file, std::int64_t after);

  // The events available now (about max_bytes of them). Errors: kInternal (I/O), the store's.
  Result<std::vector<EventLine>> Next(std::size_t max_bytes);
  bool ended() const { return ended_; }
  std::int64_t last_seq() const { return reader_.last_seq(); }

  // `wake` may be called from any thread whenever Next may have more.
  void SetWake(std::function<void()> wake);
  // How long to wait at most for a wake before calling Next anyway.
  Millis poll_interval() const;

 private:
  void TrySubscribe();
  Result<std::vector<EventLine>> CheckRun();

  RunStore& store_;
  DirWatcher* watcher_;
  const Clock& clock_;
  RunId id_;
  std::string file_;
  EventLogReader reader_;
  std::function<void()> wake_;
  std::unique_ptr<DirWatcher::Subscription> sub_;
  MonoTime next_check_{};
  bool ended_ = false;
};

}  // namespace outpost
