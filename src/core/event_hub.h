// EventHub: wakes the followers of runs (core/event_follower.h) on this replica when a run's
// event log (store/event_log.h) grows — ONE watcher per followed run, however many followers.
//
// Two sources of news. Local appenders (the EventPump, the run channel) call Notify(run) right
// after an Append: the run's followers are woken at once, without a store call. Appends made on
// other replicas are seen by polling EventLog::Tail of each followed run, adaptively: kFastPoll
// after the run's log last moved (or was notified), doubling with every poll that finds nothing
// new, up to kIdlePoll. A run being written to is then seen within ~25-50 ms; an idle run costs
// one Tail a second per replica (see the report of issue 19 for the store-call figures). A run
// nobody follows here is not polled at all.
//
// Wake callbacks are called with the hub's lock held, from the hub's thread or Notify's caller:
// they must be quick and must not call back into the hub (post to an event loop, signal a cv).
// Once a Subscription is destroyed its callback is never called again.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "store/event_log.h"

namespace outpost {

class EventHub {
 public:
  static constexpr Millis kFastPoll{25};
  static constexpr Millis kIdlePoll{1000};

  // `log` and `clock` must outlive the hub.
  EventHub(EventLog& log, const Clock& clock);
  ~EventHub();

  // Starts / stops the polling thread (tests may call PollDue themselves instead).
  void Start();
  void Stop();

  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    friend class EventHub;
    Subscription(EventHub* hub, std::string run, std::uint64_t id)
        : hub_(hub), run_(std::move(run)), id_(id) {}
    EventHub* hub_;
    std::string run_;
    std::uint64_t id_;
  };
  // `wake` is called whenever the run's log may have grown (a hint: read to find out).
  std::unique_ptr<Subscription> Subscribe(std::string_view run_id, std::function<void()> wake);

  // A local appender appended to the run's log (up to `last_seq`, the Append's EventAppend::
  // last_seq; 0 when unknown): wake its followers now.
  void Notify(std::string_view run_id, std::int64_t last_seq = 0);

  // Polls the Tail of every watched run that is due, wakes the followers of those whose log
  // moved; returns when the next one is due (MonoTime::max(): nothing watched).
  MonoTime PollDue();

  // For tests and /metrics: the store calls made (EventLog::Tail), the runs watched.
  std::int64_t tail_calls() const;
  std::size_t watched() const;

 private:
  struct Watch {
    std::map<std::uint64_t, std::function<void()>> subs;
    std::int64_t known = -1;  // the last seq seen (-1: not polled yet)
    Millis interval = kFastPoll;
    MonoTime due{};
  };
  void Unsubscribe(const std::string& run, std::uint64_t id);
  void WakeLocked(Watch& w);
  MonoTime NextDueLocked() const;
  void Loop();

  EventLog& log_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Watch, std::less<>> watches_;  // guarded by mu_
  std::uint64_t next_id_ = 1;                          // guarded by mu_
  bool stop_ = false;                                  // guarded by mu_
  bool kick_ = false;                                  // guarded by mu_: the schedule changed
  std::int64_t tail_calls_ = 0;                        // guarded by mu_
  std::thread thread_;
};

}  // namespace outpost
