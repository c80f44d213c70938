// EventPump: copies the journal of each run this replica supervises (RunOutputs::ReadEvents,
// what its shim writes) into the shared event log (store/event_log.h), so that every replica
// reads every run's events from one place (ARCHITECTURE.md §8: one read path).
//
// The journal's seqs are kept: they are the idempotency keys of EventLog::Append, so a resend
// (after a failed append, or after a control-plane restart: the pump resumes from the log's
// Tail) is acknowledged by the log, never doubled. Each run is woken by the runner's
// WatchEvents (one watch per tracked run, owned here), so an event reaches the log within
// milliseconds; runs whose watch is not (yet) there are polled every kPoll. Copies go in
// bounded batches (about kBatchBytes of journal per Append). A store that says kUnavailable is
// retried with backoff on the clock (kFirstBackoff doubling to kMaxBackoff): events are never
// dropped. After each append the EventHub (may be null) is told, so that followers on this
// replica see the events at once.
//
// The copying runs on the pump's own thread (Start); Flush copies the rest of one run on the
// caller's (the supervisor's, once the run's shim has exited, before its terminal status is
// written).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "runner/runner.h"
#include "store/event_log.h"

namespace outpost {

class EventHub;

struct EventPumpStats {
  std::int64_t events = 0;    // events stored in the log by this pump
  std::int64_t appends = 0;   // successful Append calls
  std::int64_t failures = 0;  // failed Append/Tail calls (retried)
};

class EventPump {
 public:
  static constexpr std::size_t kBatchBytes = 256 * 1024;
  static constexpr Millis kPoll{1000};
  static constexpr Millis kFirstBackoff{100};
  static constexpr Millis kMaxBackoff{5000};

  // Everything must outlive the pump; `hub` may be null.
  EventPump(RunOutputs& outputs, EventLog& log, const Clock& clock, EventHub* hub);
  ~EventPump();

  void Start();
  void Stop();

  // Starts copying the run's journal (idempotent): the supervisor's runs, each pass.
  void Track(const RunId& id);
  // Forgets every tracked run not in `ids` (runs that ended, or are no longer ours).
  void Retain(const std::set<std::string>& ids);
  // Copies the rest of the run's journal into the log now (its shim has exited), retrying
  // kUnavailable with backoff for up to `patience`. Ok when the log holds all of the journal
  // (or ends already: the run was ended elsewhere). The log's error otherwise: try again later.
  Status Flush(const RunId& id, Millis patience = Millis(3000));

  EventPumpStats stats() const;

 private:
  struct RunState {
    RunId id;
    std::mutex mu;                      // held while copying
    std::int64_t pumped = -1;           // guarded by mu: the last seq in the log (-1: ask Tail)
    bool done = false;                  // guarded by mu: the log ended (nothing more to copy)
    std::unique_ptr<EventWatch> watch;  // guarded by EventPump::mu_
    bool dirty = true;                  // guarded by EventPump::mu_
    MonoTime next{};                    // guarded by EventPump::mu_: poll / retry at
    Millis backoff = kFirstBackoff;     // guarded by EventPump::mu_
    bool unwatchable = false;           // guarded by EventPump::mu_: the runner cannot notify
    MonoTime watch_at{};                // guarded by EventPump::mu_: try WatchEvents again at
  };
  // Copies what the journal has beyond the log, up to `max_batches` appends. Ok when it caught
  // up; the log's error (kUnavailable: retry) otherwise.
  Status Copy(RunState& st, int max_batches, bool* more);
  Status AppendBatch(RunState& st, std::vector<RunEvent> events);
  // Subscribes to the journals of the tracked runs that have no watch yet (without mu_ held).
  void Subscribe(std::unique_lock<std::mutex>& lock);
  void Loop();

  RunOutputs& outputs_;
  EventLog& log_;
  const Clock& clock_;
  EventHub* hub_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<RunState>> runs_;  // guarded by mu_
  bool stop_ = false;                                      // guarded by mu_
  bool kick_ = false;                                      // guarded by mu_
  EventPumpStats stats_;                                   // guarded by mu_
  std::thread thread_;
};

}  // namespace outpost
