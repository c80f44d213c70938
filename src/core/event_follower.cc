#include "core/event_follower.h"

#include "core/run_events.h"

namespace outpost {
namespace {

// Without a hub: how often to look again.
constexpr Millis kUnwatchedPoll{250};
// With one: how often to ask the store whether the run ended without an end event.
constexpr Millis kWatchedCheck{2000};
// Events per read (the byte budget bounds it first, for output).
constexpr int kReadLimit = 1000;

}  // namespace

EventFollower::EventFollower(RunStore& store, EventLog& log, EventHub* hub, const Clock& clock,
                             RunId id, std::int64_t after)
    : store_(store),
      log_(log),
      hub_(hub),
      clock_(clock),
      id_(std::move(id)),
      last_seq_(std::max<std::int64_t>(after, 0)) {}

void EventFollower::SetWake(std::function<void()> wake) {
  wake_ = std::move(wake);
  TrySubscribe();
}

void EventFollower::TrySubscribe() {
  if (sub_ || !hub_ || !wake_) return;
  sub_ = hub_->Subscribe(id_.str(), wake_);
}

Millis EventFollower::poll_interval() const { return sub_ ? kWatchedCheck : kUnwatchedPoll; }

Status EventFollower::Read(std::vector<RunEvent>& out, std::size_t max_bytes) {
  Result<EventBatch> batch = log_.Read(id_.str(), last_seq_, kReadLimit, max_bytes);
  if (!batch.ok()) return batch.status();
  if (!batch->events.empty()) last_seq_ = batch->events.back().seq;
  ended_ = ended_ || batch->ended;
  for (RunEvent& e : batch->events) out.push_back(std::move(e));
  return Status::Ok();
}

Result<std::vector<RunEvent>> EventFollower::Next(std::size_t max_bytes) {
  std::vector<RunEvent> out;
  if (ended_) return out;
  TrySubscribe();  // before reading: a write after the read then still wakes us
  OUTPOST_RETURN_IF_ERROR(Read(out, max_bytes));
  if (out.empty()) {
    if (clock_.Mono() < next_check_) return out;
    next_check_ = clock_.Mono() + poll_interval();
    auto checked = CheckRun();
    if (!checked.ok()) return checked.status();
    out = std::move(*checked);
  }
  ended_ = ended_ || (!out.empty() && out.back().type == event::kEnd);
  return out;
}

// Nothing new in the stream: has the run ended without its end event being written?
Result<std::vector<RunEvent>> EventFollower::CheckRun() {
  std::vector<RunEvent> out;
  auto run = store_.Get(id_);
  if (!run.ok()) return run.status();
  if (!IsTerminal(run->status)) return out;
  Result<std::int64_t> end = AppendTerminalEvents(log_, *run);
  if (!end.ok()) return out;  // the store is busy: look again next time
  if (hub_) hub_->Notify(id_.str(), *end);
  OUTPOST_RETURN_IF_ERROR(Read(out, 256 * 1024));
  // Asked for events after the end itself: there is nothing more to wait for.
  if (last_seq_ >= *end) ended_ = true;
  return out;
}

}  // namespace outpost
