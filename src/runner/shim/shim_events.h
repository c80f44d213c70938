// ShimEvents: the shim's side of the run's events.jsonl (runner/event_log.h) — opening it (which
// takes the writer's lock and repairs a torn tail) and the lifecycle events the shim tells:
// status RUNNING and the phases, start failures, the files it leaves as artifacts. Output and
// agent events go through OutputCapture with writer().
//
// The log is best effort for the run: when it cannot be opened the run goes on without events
// (diagnostics go to shim.log) and the server still appends the terminal ones.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "runner/event_log.h"
#include "runner/run_dir.h"

namespace outpost::shim {

class ShimEvents {
 public:
  using LogFn = std::function<void(std::string_view)>;

  // Opens <dir>/events.jsonl and writes status RUNNING + phase preparing.
  void Open(const RunDir& dir, const Clock& clock, LogFn log);
  // nullptr when the log is not open.
  EventLogWriter* writer() { return writer_.get(); }

  void Phase(std::string_view phase);
  void Error(const std::string& message);
  // An `artifact` event for each of the run's result files that exists (diff.patch, …).
  void Artifacts(const RunDir& dir);
  // fdatasync, then release the lock: from here on the server may append. Idempotent.
  void Close();

 private:
  void Append(std::string_view type, const boost::json::object& fields);

  std::unique_ptr<EventLogWriter> writer_;
  LogFn log_;
};

}  // namespace outpost::shim
