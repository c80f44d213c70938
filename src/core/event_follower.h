// EventFollower: the events of one run after a given seq — first what is stored, then each new
// one as it is written — until the `end` event (GET /runs/{id}/events, `outpost logs -f`).
//
// It reads the run's events from the shared event log (store/event_log.h: EventLog::Read) from
// its own position, on any replica: followers never wait for each other, and none of them can
// slow the run (the run's supervisor never learns who reads). It never blocks: Next returns
// what is there; SetWake says when to call it again (the EventHub: one watcher per run per
// replica, however many followers). One thing is not signalled by the hub and is looked at every
// poll_interval(): a terminal run whose log has no end (the server died between the terminal
// write and the end event, or the run never started) — then the terminal status + end are
// appended to the log here, once (core/run_events.h).
//
// Not thread-safe, except the wake callback, which may run on any thread until destruction.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "core/event_hub.h"
#include "model/run_event.h"
#include "store/event_log.h"
#include "store/run_store.h"

namespace outpost {

class EventFollower {
 public:
  // Reads the events with seq > `after`. Store, log, hub and clock must outlive the follower;
  // `hub` may be null (then it polls every poll_interval()).
  EventFollower(RunStore& store, EventLog& log, EventHub* hub, const Clock& clock, RunId id,
                std::int64_t after);

  // The events available now (about max_bytes of them). Errors: kInternal (I/O), the store's.
  Result<std::vector<RunEvent>> Next(std::size_t max_bytes);
  bool ended() const { return ended_; }
  std::int64_t last_seq() const { return last_seq_; }

  // `wake` may be called from any thread whenever Next may have more.
  void SetWake(std::function<void()> wake);
  // How long to wait at most for a wake before calling Next anyway.
  Millis poll_interval() const;

 private:
  void TrySubscribe();
  Result<std::vector<RunEvent>> CheckRun();
  // Reads what is there after last_seq_ into `out`.
  Status Read(std::vector<RunEvent>& out, std::size_t max_bytes);

  RunStore& store_;
  EventLog& log_;
  EventHub* hub_;
  const Clock& clock_;
  RunId id_;
  std::int64_t last_seq_;
  std::function<void()> wake_;
  std::unique_ptr<EventHub::Subscription> sub_;
  MonoTime next_check_{};
  bool ended_ = false;
};

}  // namespace outpost
