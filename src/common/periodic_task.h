// PeriodicTask: runs a function every `interval` on its own thread, waiting on a Clock (so a
// SimulatedClock drives it in tests). The background loops of the server (quota and retention
// sweeps, artifact uploads, API key usage flushes) are each one of these.
//
//   PeriodicTask task("retention", clock, std::chrono::hours(1), [this] { SweepOnce(); });
//   task.Start();   // runs fn now, then an interval after each run ends
//   task.Wake();    // runs fn as soon as the current run (if any) is over
//   task.Stop();    // also by the destructor
//
// fn runs on the task's thread only, one run at a time. Thread-safety: Wake and stopping() from
// any thread (fn included); Start and Stop from one owning thread, never from fn.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"

namespace outpost {

class PeriodicTask {
 public:
  struct Options {
    // Run fn as soon as the task starts; otherwise the first run is an interval after Start.
    bool run_at_start = true;
  };

  // `name` names the thread (first 15 bytes) for ps and debuggers. `interval` is measured from
  // the end of one run to the start of the next; Millis::max(): only Wake() runs fn. `clock`
  // must outlive the task.
  PeriodicTask(std::string name, const Clock& clock, Millis interval, std::function<void()> fn,
               Options options);
  PeriodicTask(std::string name, const Clock& clock, Millis interval, std::function<void()> fn)
      : PeriodicTask(std::move(name), clock, interval, std::move(fn), Options{}) {}
  ~PeriodicTask();  // Stop()s
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Starts the thread; no-op when running. A stopped task may be started again.
  void Start();
  // Makes fn run again as soon as possible: now if the task is waiting, right after the run in
  // progress otherwise (wakes during one run count once). No-op when not running.
  void Wake();
  // Asks the thread to end and joins it: a run in progress finishes first (long runs poll
  // stopping()), no further run starts. Idempotent.
  void Stop();
  // True from Stop() until the thread is joined: a long fn checks it to return early.
  bool stopping() const;
  bool running() const;

 private:
  void Loop();

  const std::string name_;
  const Clock& clock_;
  const Millis interval_;
  const std::function<void()> fn_;
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;     // guarded by mu_
  bool woken_ = false;    // guarded by mu_
  bool running_ = false;  // guarded by mu_
  std::thread thread_;    // Start/Stop only
};

}  // namespace outpost
