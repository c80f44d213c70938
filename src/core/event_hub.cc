#include "core/event_hub.h"

#include <algorithm>

#include "common/log.h"

namespace outpost {

EventHub::EventHub(EventLog& log, const Clock& clock) : log_(log), clock_(clock) {}

EventHub::~EventHub() { Stop(); }

void EventHub::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void EventHub::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

EventHub::Subscription::~Subscription() { hub_->Unsubscribe(run_, id_); }

std::unique_ptr<EventHub::Subscription> EventHub::Subscribe(std::string_view run_id,
                                                            std::function<void()> wake) {
  std::uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    auto [it, added] = watches_.try_emplace(std::string(run_id));
    it->second.subs.emplace(id, std::move(wake));
    if (added) {
      it->second.due = clock_.Mono();  // learn where the log stands now
      kick_ = true;
    }
  }
  cv_.notify_all();
  return std::unique_ptr<Subscription>(new Subscription(this, std::string(run_id), id));
}

void EventHub::Unsubscribe(const std::string& run, std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = watches_.find(run);
  if (it == watches_.end()) return;
  it->second.subs.erase(id);
  if (it->second.subs.empty()) watches_.erase(it);
}

void EventHub::WakeLocked(Watch& w) {
  for (auto& [id, wake] : w.subs) wake();
}

void EventHub::Notify(std::string_view run_id, std::int64_t last_seq) {
  {
    std::lock_guard lock(mu_);
    auto it = watches_.find(run_id);
    if (it == watches_.end()) return;  // nobody follows it here
    Watch& w = it->second;
    WakeLocked(w);
    // Known now: the next poll does not wake the followers again for the same events.
    if (w.known >= 0) w.known = std::max(w.known, last_seq);
    // It is being written to: look soon for what other writers add.
    w.interval = kFastPoll;
    w.due = std::min(w.due, clock_.Mono() + kFastPoll);
    kick_ = true;
  }
  cv_.notify_all();
}

MonoTime EventHub::NextDueLocked() const {
  MonoTime next = MonoTime::max();
  for (const auto& [run, w] : watches_) next = std::min(next, w.due);
  return next;
}

MonoTime EventHub::PollDue() {
  std::vector<std::string> due;
  {
    std::lock_guard lock(mu_);
    const MonoTime now = clock_.Mono();
    for (const auto& [run, w] : watches_) {
      if (w.due <= now) due.push_back(run);
    }
  }
  for (const std::string& run : due) {
    Result<EventLogTail> tail = log_.Tail(run);  // without the lock: a store call
    std::lock_guard lock(mu_);
    ++tail_calls_;
    auto it = watches_.find(run);
    if (it == watches_.end()) continue;  // its last follower left meanwhile
    Watch& w = it->second;
    const MonoTime now = clock_.Mono();
    if (!tail.ok()) {
      spdlog::warn("events of run {}: {}", run, tail.status().ToString());
      w.interval = kIdlePoll;  // the store is in trouble: do not add to it
    } else if (tail->last_seq != w.known) {
      // Moved (or first seen: a follower that subscribed before its first read is woken once
      // more, harmlessly).
      w.known = tail->last_seq;
      WakeLocked(w);
      w.interval = kFastPoll;
    } else {
      w.interval = std::min(w.interval * 2, kIdlePoll);
    }
    w.due = now + w.interval;
  }
  std::lock_guard lock(mu_);
  return NextDueLocked();
}

void EventHub::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    kick_ = false;
    lock.unlock();
    const MonoTime next = PollDue();
    lock.lock();
    if (stop_) break;
    clock_.WaitUntil(lock, cv_, next, [this] { return stop_ || kick_; });
  }
}

std::int64_t EventHub::tail_calls() const {
  std::lock_guard lock(mu_);
  return tail_calls_;
}

std::size_t EventHub::watched() const {
  std::lock_guard lock(mu_);
  return watches_.size();
}

}  // namespace outpost
