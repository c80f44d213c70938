#include "common/clock.h"

#include <algorithm>
#include <thread>

namespace outpost {

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

void RealClock::SleepUntil(MonoTime deadline) const { std::this_thread::sleep_until(deadline); }

bool RealClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          MonoTime deadline, const std::function<bool()>& pred) const {
  // wait_until converts the deadline to a timespec; "never" is a plain wait.
  if (deadline == MonoTime::max()) {
    cv.wait(lock, pred);
    return true;
  }
  return cv.wait_until(lock, deadline, pred);
}

void SimulatedClock::SleepUntil(MonoTime deadline) const {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  WaitUntil(lock, cv, deadline, [] { return false; });
}

// The waiter holds its own mutex while it registers under mu_ (order: waiter's, then mu_), and
// Advance never holds mu_ while it takes a waiter's mutex: no lock-order cycle. Taking the
// waiter's mutex before notifying is what makes the wake-up impossible to miss: the waiter
// checks `fired` and goes to sleep on its condition variable atomically with respect to it.
bool SimulatedClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                               MonoTime deadline, const std::function<bool()>& pred) const {
  if (pred()) return true;
  Waiter w{deadline, lock.mutex(), &cv};
  bool jump = false;
  {
    std::lock_guard g(mu_);
    const MonoTime now = Mono();
    if (now >= deadline) return false;
    sleeps_.push_back(deadline == MonoTime::max()
                          ? Millis::max()
                          : std::chrono::duration_cast<Millis>(deadline - now));
    jump = advance_on_sleep_ && deadline != MonoTime::max();
    if (!jump) waiters_.push_back(&w);
  }
  if (jump) {
    Fire(MoveTo(deadline, {}), lock.mutex());
    blocked_changed_.notify_all();
    return pred();
  }
  blocked_changed_.notify_all();

  bool ok = false;
  while (!(ok = pred()) && !w.fired) cv.wait(lock);
  if (!w.fired) {
    bool registered = false;
    {
      std::lock_guard g(mu_);
      auto it = std::find(waiters_.begin(), waiters_.end(), &w);
      registered = it != waiters_.end();
      if (registered) waiters_.erase(it);
    }
    if (registered) {
      blocked_changed_.notify_all();
    } else {
      // An Advance has unregistered us and is on its way to fire `w`: it must not outlive us.
      cv.wait(lock, [&] { return w.fired; });
    }
  }
  return ok;
}

std::vector<SimulatedClock::Waiter*> SimulatedClock::MoveTo(std::optional<MonoTime> target,
                                                            std::chrono::nanoseconds by) const {
  std::vector<Waiter*> due;
  {
    std::lock_guard g(mu_);
    // Advance moves by `by` even backwards (as it always did); a jump only forwards.
    const MonoTime now = Mono();
    const auto d = target ? std::max(*target - now, MonoTime::duration::zero())
                          : std::chrono::duration_cast<MonoTime::duration>(by);
    wall_ns_ += std::chrono::duration_cast<WallTime::duration>(d).count();
    mono_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    const MonoTime t = Mono();
    auto keep = std::stable_partition(waiters_.begin(), waiters_.end(),
                                      [&](const Waiter* w) { return w->deadline > t; });
    due.assign(keep, waiters_.end());
    waiters_.erase(keep, waiters_.end());
  }
  if (!due.empty()) blocked_changed_.notify_all();
  return due;
}

void SimulatedClock::Fire(const std::vector<Waiter*>& due, const std::mutex* held) {
  for (Waiter* w : due) {
    std::mutex* mu = w->mu;
    std::condition_variable* cv = w->cv;
    if (mu == held) {
      w->fired = true;
      cv->notify_all();
      continue;
    }
    // Notified with the mutex held: once the waiter sees `fired` it may return and destroy its
    // condition variable and `w`, but only after this unlock.
    std::lock_guard g(*mu);
    w->fired = true;
    cv->notify_all();
  }
}

void SimulatedClock::Advance(std::chrono::nanoseconds d) { Fire(MoveTo(std::nullopt, d), nullptr); }

void SimulatedClock::set_advance_on_sleep(bool on) {
  std::lock_guard g(mu_);
  advance_on_sleep_ = on;
}

std::size_t SimulatedClock::blocked() const {
  std::lock_guard g(mu_);
  return waiters_.size();
}

bool SimulatedClock::AwaitBlocked(std::size_t n, Millis timeout) const {
  std::unique_lock g(mu_);
  return blocked_changed_.wait_for(g, timeout, [&] { return waiters_.size() >= n; });
}

std::optional<MonoTime> SimulatedClock::NextDeadline() const {
  std::lock_guard g(mu_);
  std::optional<MonoTime> next;
  for (const Waiter* w : waiters_) {
    if (!next || w->deadline < *next) next = w->deadline;
  }
  return next;
}

std::vector<Millis> SimulatedClock::sleeps() const {
  std::lock_guard g(mu_);
  return sleeps_;
}

}  // namespace outpost
