// Clock: wall and monotonic time, and waiting on it, injected into everything with a deadline,
// lease, retry, backoff or TTL (abseil's Clock: Now, Sleep/SleepUntil, AwaitWithDeadline).
// RealClock reads and waits on the system; SimulatedClock is advanced by tests, and Advance
// wakes every thread whose deadline it passed, so a timeout is tested to the millisecond
// without sleeping.
//
// Waiting is const: it does not change the time, and the many `const Clock&` members (the ones
// that only read it) may wait too.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace outpost {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Mono() const = 0;

  // Blocks the calling thread until Mono() >= deadline; returns at once when it has passed.
  // MonoTime::max() never comes (on a SimulatedClock; on the RealClock, not in our lifetime).
  virtual void SleepUntil(MonoTime deadline) const = 0;

  // std::condition_variable::wait_until on this clock's time. REQUIRES: `lock` owns its mutex,
  // the one that guards what `pred` reads. Waits on `cv` until pred() is true or Mono() >=
  // deadline, evaluating pred with the lock held (after spurious wakes too); returns pred()'s
  // last value, with the lock held again. Whoever makes pred true notifies `cv`, as for any
  // condition variable; the clock notifies it when the deadline passes.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         MonoTime deadline, const std::function<bool()>& pred) const = 0;

  // Now + d, saturating at MonoTime::max() (Millis::max() is "never"); Mono() when d <= 0.
  template <class Rep, class Period>
  MonoTime DeadlineAfter(std::chrono::duration<Rep, Period> d) const {
    const MonoTime now = Mono();
    if (d <= d.zero()) return now;
    using D = std::chrono::duration<Rep, Period>;
    if (d >= std::chrono::duration_cast<D>(MonoTime::max() - now)) return MonoTime::max();
    return now + std::chrono::duration_cast<MonoTime::duration>(d);
  }
  template <class Rep, class Period>
  void SleepFor(std::chrono::duration<Rep, Period> d) const {
    if (d > d.zero()) SleepUntil(DeadlineAfter(d));
  }
  template <class Rep, class Period>
  bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
               std::chrono::duration<Rep, Period> d, const std::function<bool()>& pred) const {
    return WaitUntil(lock, cv, DeadlineAfter(d), pred);
  }
};

// A sleep function on `clock`, for the seams that still take one (the HTTP clients' retries).
// `clock` must outlive it.
inline std::function<void(Millis)> SleepOn(const Clock& clock) {
  return [&clock](Millis d) { clock.SleepFor(d); };
}

class RealClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Mono() const override { return std::chrono::steady_clock::now(); }
  void SleepUntil(MonoTime deadline) const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override;
  static RealClock& Instance();
};

// Time stands still until Advance. Thread-safe. A thread blocked in SleepUntil/WaitUntil is
// "blocked" from the moment it is registered (with its lock held, so no Advance is missed) until
// an Advance reaches its deadline (Advance unregisters it before returning, and notifies its
// condition variable) or it returns because its predicate came true.
//
// Tests drive a thread deterministically: AwaitBlocked(n) (bounded, in real time) until it
// waits, Advance, then wait for its effect. Do not call Advance holding the mutex of a waiter.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(WallTime start = WallTime(std::chrono::seconds(1'700'000'000)))
      : wall_ns_(start.time_since_epoch().count()), mono_ns_(0) {}
  WallTime Now() const override { return WallTime(WallTime::duration(wall_ns_.load())); }
  MonoTime Mono() const override { return MonoTime(std::chrono::nanoseconds(mono_ns_.load())); }
  void SleepUntil(MonoTime deadline) const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override;

  // Moves both times forward and wakes every thread whose deadline is now passed.
  void Advance(std::chrono::nanoseconds d);

  // Single-threaded code under test (a retry loop called inline): a thread that would block
  // moves the clock to its deadline instead, as if it had slept, waking the others whose deadline
  // that passes. A wait without deadline (MonoTime::max()) still blocks.
  void set_advance_on_sleep(bool on);

  // Threads blocked now.
  std::size_t blocked() const;
  // Waits, in real time, until at least `n` threads are blocked; false after `timeout`.
  bool AwaitBlocked(std::size_t n, Millis timeout = Millis(10'000)) const;
  // The earliest deadline of a blocked thread (nullopt: none blocked).
  std::optional<MonoTime> NextDeadline() const;
  // How long each wait that blocked (or, with advance_on_sleep, jumped) was to last, from the
  // time it started to its deadline, in order and rounded down to the millisecond
  // (Millis::max(): no deadline).
  std::vector<Millis> sleeps() const;

 private:
  struct Waiter {
    MonoTime deadline;
    std::mutex* mu;
    std::condition_variable* cv;
    bool fired = false;  // guarded by *mu: an Advance passed the deadline and unregistered it
  };
  // Moves the time to `target` (if later; nullopt: now + `by`) and unregisters the waiters it
  // makes due.
  std::vector<Waiter*> MoveTo(std::optional<MonoTime> target, std::chrono::nanoseconds by) const;
  // Fires `due`; `held` is a waiter mutex the calling thread holds already.
  static void Fire(const std::vector<Waiter*>& due, const std::mutex* held);

  // Written under mu_ (also by a const wait, with advance_on_sleep), read anywhere.
  mutable std::atomic<WallTime::rep> wall_ns_;
  mutable std::atomic<std::int64_t> mono_ns_;

  mutable std::mutex mu_;
  mutable std::condition_variable blocked_changed_;
  mutable std::vector<Waiter*> waiters_;  // guarded by mu_: the blocked threads
  mutable std::vector<Millis> sleeps_;    // guarded by mu_
  bool advance_on_sleep_ = false;         // guarded by mu_
};

}  // namespace outpost
