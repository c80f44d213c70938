#include "core/event_follower.h"

#include <filesystem>

#include "core/run_events.h"

namespace outpost {
namespace {

// Without a watch (no event log directory yet, or no inotify): how often to look again.
constexpr Millis kUnwatchedPoll{250};
// With one: how often to ask the store whether the run ended without an end event.
constexpr Millis kWatchedCheck{2000};

}  // namespace

EventFollower::EventFollower(RunStore& store, DirWatcher* watcher, const Clock& clock, RunId id,
                             std::string events_file, std::int64_t after)
    : store_(store),
      watcher_(watcher),
      clock_(clock),
      id_(std::move(id)),
      file_(std::move(events_file)),
      reader_(file_, after) {}

void EventFollower::SetWake(std::function<void()> wake) {
  wake_ = std::move(wake);
  TrySubscribe();
}

void EventFollower::TrySubscribe() {
  if (sub_ || !watcher_ || !wake_) return;
  const std::filesystem::path path(file_);
  auto sub = watcher_->Subscribe(path.parent_path().string(), path.filename().string(), wake_);
  if (sub.ok()) sub_ = std::move(*sub);  // else: no directory yet; poll_interval is short
}

Millis EventFollower::poll_interval() const { return sub_ ? kWatchedCheck : kUnwatchedPoll; }

Result<std::vector<EventLine>> EventFollower::Next(std::size_t max_bytes) {
  std::vector<EventLine> out;
  if (ended_) return out;
  TrySubscribe();  // before reading: a write after the read then still wakes us
  OUTPOST_RETURN_IF_ERROR(reader_.Read(out, max_bytes));
  if (out.empty()) {
    if (clock_.Mono() < next_check_) return out;
    next_check_ = clock_.Mono() + poll_interval();
    auto checked = CheckRun();
    if (!checked.ok()) return checked.status();
    out = std::move(*checked);
  }
  ended_ = ended_ || reader_.ended() || (!out.empty() && out.back().type == event::kEnd);
  return out;
}

// Nothing new in the file: has the run ended without its end event being written?
Result<std::vector<EventLine>> EventFollower::CheckRun() {
  std::vector<EventLine> out;
  auto run = store_.Get(id_);
  if (!run.ok()) return run.status();
  if (!IsTerminal(run->status)) return out;
  Result<std::int64_t> end = AppendTerminalEvents(file_, *run, clock_);
  if (end.status().code() == Code::kNotFound) {  // never started
    for (EventLine& e : SynthesizedEvents(*run)) {
      if (e.seq > reader_.last_seq()) out.push_back(std::move(e));
    }
    ended_ = true;
    return out;
  }
  if (!end.ok()) return out;  // another writer is busy: look again next time
  OUTPOST_RETURN_IF_ERROR(reader_.Read(out, 256 * 1024));
  // Asked for events after the end itself: there is nothing more to wait for.
  if (reader_.last_seq() >= *end) ended_ = true;
  return out;
}

}  // namespace outpost
