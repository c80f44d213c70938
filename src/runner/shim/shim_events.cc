#include "runner/shim/shim_events.h"

#include <sys/stat.h>

namespace outpost::shim {

void ShimEvents::Open(const RunDir& dir, const Clock& clock, LogFn log) {
  log_ = std::move(log);
  auto w = EventLogWriter::Open(dir.File(kEventsFile), clock);
  if (!w.ok()) {
    log_("events.jsonl not available, the run goes on without events: " + w.status().message());
    return;
  }
  writer_ = std::move(*w);
  if (writer_->last_seq() > 0) {
    log_("events.jsonl continues after seq " + std::to_string(writer_->last_seq()));
  }
  Append(event::kStatus, {{"status", "RUNNING"}, {"phase", "preparing"}});
}

void ShimEvents::Phase(std::string_view phase) { Append(event::kPhase, {{"phase", phase}}); }

void ShimEvents::Error(const std::string& message) {
  Append(event::kError, {{"message", message}, {"source", "outpost"}});
}

void ShimEvents::Artifacts(const RunDir& dir) {
  for (std::string_view name : {"diff.patch", "changes.bundle", "context.md"}) {
    struct stat st;
    if (::stat(dir.File(name).c_str(), &st) != 0) continue;
    Append(event::kArtifact,
           {{"name", name}, {"sizeBytes", static_cast<std::int64_t>(st.st_size)}});
  }
}

void ShimEvents::Close() {
  if (!writer_) return;
  if (Status st = writer_->Sync(); !st.ok()) log_("events.jsonl: " + st.message());
  writer_.reset();
}

void ShimEvents::Append(std::string_view type, const boost::json::object& fields) {
  if (!writer_) return;
  if (auto r = writer_->Append(type, fields); !r.ok()) {
    log_("cannot write events.jsonl: " + r.status().message());
  }
}

}  // namespace outpost::shim
