#include "core/event_pump.h"

#include <algorithm>

#include "common/json_util.h"
#include "common/log.h"
#include "common/time_util.h"
#include "core/event_hub.h"

namespace outpost {
namespace {

// An event the log refuses as bad input (over kMaxEventBytes, say) is replaced by an `error`
// event of the same seq saying so: the stream keeps its seqs, and the pump never stalls.
RunEvent Unstorable(const RunEvent& e, WallTime now, const Status& why) {
  boost::json::object o{{"seq", e.seq},
                        {"ts", FormatTime(now)},
                        {"type", std::string(event::kError)},
                        {"message", "event " + std::to_string(e.seq) + " (" + e.type + ", " +
                                        std::to_string(e.json.size()) +
                                        " bytes) could not be stored: " + why.message()}};
  return RunEvent{e.seq, std::string(event::kError), ToJson(o)};
}

}  // namespace

EventPump::EventPump(RunOutputs& outputs, EventLog& log, const Clock& clock, EventHub* hub)
    : outputs_(outputs), log_(log), clock_(clock), hub_(hub) {}

EventPump::~EventPump() { Stop(); }

void EventPump::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void EventPump::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::map<std::string, std::shared_ptr<RunState>> gone;
  {
    std::lock_guard lock(mu_);
    gone.swap(runs_);
  }  // watches end here, without mu_ (their callbacks take it)
}

void EventPump::Track(const RunId& id) {
  {
    std::lock_guard lock(mu_);
    auto [it, added] = runs_.try_emplace(id.str());
    if (!added) return;
    it->second = std::make_shared<RunState>();
    it->second->id = id;
    kick_ = true;
  }
  cv_.notify_all();
}

void EventPump::Retain(const std::set<std::string>& ids) {
  std::vector<std::shared_ptr<RunState>> gone;
  {
    std::lock_guard lock(mu_);
    for (auto it = runs_.begin(); it != runs_.end();) {
      if (ids.count(it->first)) {
        ++it;
      } else {
        gone.push_back(std::move(it->second));
        it = runs_.erase(it);
      }
    }
  }
}

EventPumpStats EventPump::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status EventPump::AppendBatch(RunState& st, std::vector<RunEvent> events) {
  const std::string run = st.id.str();
  Result<EventAppend> r = log_.Append(run, events);
  if (r.ok()) {
    st.pumped = events.back().seq;
    if (events.back().type == event::kEnd) st.done = true;
    {
      std::lock_guard lock(mu_);
      stats_.events += r->stored;
      ++stats_.appends;
    }
    if (hub_ && r->stored > 0) hub_->Notify(run, r->last_seq);
    return Status::Ok();
  }
  const Status& err = r.status();
  if (err.code() == Code::kInvalidArgument) {
    if (events.size() > 1) {  // find the one it refuses
      for (RunEvent& e : events) {
        OUTPOST_RETURN_IF_ERROR(AppendBatch(st, {std::move(e)}));
        if (st.done) break;
      }
      return Status::Ok();
    }
    spdlog::error("run {}: event {} is not storable: {}", run, events[0].seq, err.ToString());
    return AppendBatch(st, {Unstorable(events[0], clock_.Now(), err)});
  }
  if (err.code() == Code::kFailedPrecondition || err.code() == Code::kConflict) {
    // The log ends already (the run was ended by another replica: node_lost), or holds other
    // events at these seqs, or misses some before them: resynchronise with its tail.
    Result<EventLogTail> tail = log_.Tail(run);
    if (!tail.ok()) return tail.status();
    // A run that reports over the run channel (Runner::ReportsOverChannel) has its events in
    // the log already, as the channel stored them: what the log holds up to its tail stays, the
    // journal's later events are copied after it (idempotent, never doubled).
    if (!tail->ended && err.code() == Code::kConflict && tail->last_seq >= events.front().seq) {
      spdlog::info("run {}: the log holds seqs {}..{} already; copying after them", run,
                   events.front().seq, tail->last_seq);
      st.pumped = tail->last_seq;
      return Status::Ok();
    }
    if (tail->ended || err.code() == Code::kConflict) {
      spdlog::warn("run {}: journal events from seq {} not copied: {}", run, events[0].seq,
                   err.ToString());
      st.done = true;
      return Status::Ok();
    }
    st.pumped = tail->last_seq;
    return Status::Ok();
  }
  {
    std::lock_guard lock(mu_);
    ++stats_.failures;
  }
  return err;
}

Status EventPump::Copy(RunState& st, int max_batches, bool* more) {
  *more = false;
  if (st.done) return Status::Ok();
  if (st.pumped < 0) {  // adoption: resume where the log stands
    Result<EventLogTail> tail = log_.Tail(st.id.str());
    if (!tail.ok()) {
      std::lock_guard lock(mu_);
      ++stats_.failures;
      return tail.status();
    }
    st.pumped = tail->last_seq;
    st.done = tail->ended;
    if (st.done) return Status::Ok();
  }
  for (int i = 0; i < max_batches && !st.done; ++i) {
    Result<EventBatch> batch = outputs_.ReadEvents(st.id, st.pumped, kBatchBytes);
    if (!batch.ok()) return batch.status();
    if (batch->events.empty()) return Status::Ok();
    OUTPOST_RETURN_IF_ERROR(AppendBatch(st, std::move(batch->events)));
  }
  *more = !st.done;
  return Status::Ok();
}

Status EventPump::Flush(const RunId& id, Millis patience) {
  std::shared_ptr<RunState> st;
  {
    std::lock_guard lock(mu_);
    auto [it, added] = runs_.try_emplace(id.str());
    if (added) {
      it->second = std::make_shared<RunState>();
      it->second->id = id;
    }
    st = it->second;
  }
  const MonoTime deadline = clock_.DeadlineAfter(patience);
  Millis backoff = kFirstBackoff;
  for (;;) {
    Status s = Status::Ok();
    {
      std::lock_guard copying(st->mu);
      bool more = true;
      while (s.ok() && more) s = Copy(*st, 16, &more);
    }
    if (s.ok() || s.code() != Code::kUnavailable || clock_.Mono() + backoff > deadline) {
      std::vector<std::shared_ptr<RunState>> gone{std::move(st)};  // destroyed without mu_
      return s;
    }
    clock_.SleepFor(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void EventPump::Subscribe(std::unique_lock<std::mutex>& lock) {
  const MonoTime now = clock_.Mono();
  std::vector<std::shared_ptr<RunState>> want;
  for (auto& [key, st] : runs_) {
    if (!st->watch && !st->unwatchable && st->watch_at <= now) want.push_back(st);
  }
  if (want.empty()) return;
  lock.unlock();
  std::vector<std::pair<std::shared_ptr<RunState>, Result<std::unique_ptr<EventWatch>>>> got;
  for (auto& st : want) {
    const std::string key = st->id.str();
    got.emplace_back(st, outputs_.WatchEvents(st->id, [this, key] {
      {
        std::lock_guard l(mu_);
        auto it = runs_.find(key);
        if (it == runs_.end()) return;
        it->second->dirty = true;
        kick_ = true;
      }
      cv_.notify_all();
    }));
  }
  lock.lock();
  std::vector<std::unique_ptr<EventWatch>> unused;
  for (auto& [st, watch] : got) {
    auto it = runs_.find(st->id.str());
    const bool tracked = it != runs_.end() && it->second == st;
    if (watch.ok()) {
      if (tracked) {
        st->watch = std::move(*watch);
        st->dirty = true;  // what was written before the watch
      } else {
        unused.push_back(std::move(*watch));
      }
    } else if (watch.status().code() == Code::kUnavailable) {
      st->unwatchable = true;  // polled every kPoll
    } else {
      st->watch_at = now + kPoll;  // no journal yet: the shim is starting
    }
  }
  got.clear();
  if (!unused.empty()) {
    lock.unlock();
    unused.clear();
    lock.lock();
  }
}

void EventPump::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    kick_ = false;
    Subscribe(lock);
    MonoTime now = clock_.Mono();
    std::vector<std::shared_ptr<RunState>> due;
    for (auto& [key, st] : runs_) {
      const bool retrying = st->backoff > kFirstBackoff;
      if (st->next <= now || (st->dirty && !retrying)) {
        st->dirty = false;
        due.push_back(st);
      }
    }
    if (!due.empty()) {
      lock.unlock();
      std::vector<std::pair<Status, bool>> results;
      for (auto& st : due) {
        std::lock_guard copying(st->mu);
        bool more = false;
        Status s = Copy(*st, 4, &more);
        results.emplace_back(s, more);
      }
      lock.lock();
      now = clock_.Mono();
      for (std::size_t i = 0; i < due.size(); ++i) {
        RunState& st = *due[i];
        const auto& [s, more] = results[i];
        if (s.ok()) {
          st.backoff = kFirstBackoff;
          st.next = now + kPoll;
          if (more) st.dirty = true;  // the rest after the other runs' turn
        } else {
          spdlog::warn("run {}: events not copied yet ({}); retrying in {} ms", st.id.str(),
                       s.ToString(), st.backoff.count());
          st.next = now + st.backoff;
          st.backoff = std::min(st.backoff * 2, kMaxBackoff);
        }
      }
      lock.unlock();
      due.clear();  // may be the last reference: its watch ends without mu_
      lock.lock();
    }
    if (stop_) break;
    MonoTime next = MonoTime::max();
    bool dirty = false;
    for (auto& [key, st] : runs_) {
      next = std::min(next, st->next);
      if (!st->watch && !st->unwatchable) next = std::min(next, st->watch_at);
      dirty = dirty || (st->dirty && st->backoff == kFirstBackoff);
    }
    if (dirty) continue;
    clock_.WaitUntil(lock, cv_, next, [this] { return stop_ || kick_; });
  }
}

}  // namespace outpost
