// SseStream: a run's events as Server-Sent Events (GET /runs/{id}/events), a BodyStream over a
// core EventFollower.
//
//   retry: 1000                 first: reconnect after 1 s
//
//   id: 42                      each event: id = seq (what Last-Event-ID resumes from),
//   event: output               event = type, data = the stored JSON line verbatim
//   data: {"seq":42,"ts":…,"type":"output","stream":"stdout","data":"…"}
//
//   : heartbeat                 a comment when nothing was sent for `heartbeat`
//
// The stream ends after the `end` event. An error reading the log ends it with an
// `event: error` (no id): the client reconnects with Last-Event-ID and loses nothing.
#pragma once

#include <memory>

#include "common/clock.h"
#include "core/event_follower.h"
#include "http/http_types.h"

namespace outpost::api {

class SseStream : public http::BodyStream {
 public:
  SseStream(std::unique_ptr<EventFollower> follower, const Clock& clock, Millis heartbeat);

  void Start(std::function<void()> wake) override;
  State Pull(std::string& out, std::size_t max_bytes) override;
  Millis WaitLimit() const override;

 private:
  std::unique_ptr<EventFollower> follower_;
  const Clock& clock_;
  const Millis heartbeat_;
  MonoTime last_sent_{};
  bool started_ = false;
};

}  // namespace outpost::api
