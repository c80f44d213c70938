#include "api/sse_stream.h"

#include <algorithm>

#include "common/log.h"

namespace outpost::api {

SseStream::SseStream(std::unique_ptr<EventFollower> follower, const Clock& clock, Millis heartbeat)
    : follower_(std::move(follower)), clock_(clock), heartbeat_(heartbeat) {}

void SseStream::Start(std::function<void()> wake) {
  follower_->SetWake(std::move(wake));
  last_sent_ = clock_.Mono();
}

http::BodyStream::State SseStream::Pull(std::string& out, std::size_t max_bytes) {
  if (!started_) {
    started_ = true;
    out += "retry: 1000\n\n";
  }
  Result<std::vector<RunEvent>> events = follower_->Next(max_bytes);
  if (!events.ok()) {
    spdlog::warn("event stream: {}", events.status().ToString());
    out += "event: error\ndata: {\"message\":\"the event log could not be read; reconnect\"}\n\n";
    return State::kEnd;
  }
  for (const RunEvent& e : *events) {
    out += "id: " + std::to_string(e.seq) + "\nevent: " + e.type + "\ndata: ";
    out += e.json;
    out += "\n\n";
  }
  if (follower_->ended()) return State::kEnd;
  const MonoTime now = clock_.Mono();
  if (!events->empty()) {
    last_sent_ = now;
    return State::kMore;
  }
  if (now - last_sent_ >= heartbeat_) {
    out += ": heartbeat\n\n";
    last_sent_ = now;
  }
  return State::kWait;
}

Millis SseStream::WaitLimit() const {
  const auto until_heartbeat =
      std::chrono::duration_cast<Millis>(last_sent_ + heartbeat_ - clock_.Mono());
  return std::clamp(std::min(until_heartbeat, follower_->poll_interval()), Millis(1), heartbeat_);
}

}  // namespace outpost::api
