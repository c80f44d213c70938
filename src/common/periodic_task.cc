#include "common/periodic_task.h"

#include <pthread.h>

namespace outpost {

PeriodicTask::PeriodicTask(std::string name, const Clock& clock, Millis interval,
                           std::function<void()> fn, Options options)
    : name_(std::move(name)),
      clock_(clock),
      interval_(interval),
      fn_(std::move(fn)),
      options_(options) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
    woken_ = false;
    running_ = true;
  }
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicTask::Wake() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    woken_ = true;
  }
  cv_.notify_all();
}

void PeriodicTask::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard lock(mu_);
  running_ = false;
}

bool PeriodicTask::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

bool PeriodicTask::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void PeriodicTask::Loop() {
  // Linux limits thread names to 15 bytes.
  ::pthread_setname_np(::pthread_self(), name_.substr(0, 15).c_str());
  std::unique_lock lock(mu_);
  bool run = options_.run_at_start;
  while (!stop_) {
    if (run) {
      woken_ = false;
      lock.unlock();
      fn_();
      lock.lock();
    }
    if (stop_) return;
    // The interval counts from the end of the run: a slow run does not make the next one early.
    clock_.WaitUntil(lock, cv_, clock_.DeadlineAfter(interval_),
                     [this] { return stop_ || woken_; });
    run = true;
  }
}

}  // namespace outpost
