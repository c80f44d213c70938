// RunService: the run's output — log pages and event followers.
#include "common/log.h"
#include "core/event_follower.h"
#include "core/log_lines.h"
#include "core/run_service.h"
#include "runner/dir_watch.h"

namespace outpost {
namespace {

constexpr std::size_t kMaxLogReaders = 64;

}  // namespace

std::string RunService::EventsFile(const RunId& id) const {
  return outputs_ ? outputs_->OutputFile(id, RunOutput::kEvents) : "";
}

RunService::~RunService() = default;

DirWatcher* RunService::Watcher() {
  std::lock_guard lock(events_mu_);
  if (!watcher_ && !watcher_failed_) {
    auto w = DirWatcher::Create();
    if (w.ok()) {
      watcher_ = std::move(*w);
    } else {
      // Followers still work, looking at the file every poll interval instead.
      watcher_failed_ = true;
      spdlog::warn("event followers will poll: {}", w.status().ToString());
    }
  }
  return watcher_.get();
}

Result<LogPage> RunService::Logs(std::string_view id, std::int64_t offset, int limit,
                                 const RequestContext& ctx) {
  std::vector<FieldError> errors;
  if (offset < 0) errors.push_back({"offset", "must be a non-negative integer"});
  if (limit < 1 || limit > 1000) errors.push_back({"limit", "must be an integer from 1 to 1000"});
  if (!errors.empty()) return Status::Invalid(errors);
  auto run = Load(id, ctx);
  if (!run.ok()) return run.status();
  const std::string key = run->id.str();
  std::unique_ptr<LogLines> lines;
  {
    std::lock_guard lock(events_mu_);
    if (auto it = log_readers_.find(key); it != log_readers_.end()) {
      if (it->second->position() <= offset) lines = std::move(it->second);
      log_readers_.erase(it);
    }
  }
  if (!lines) lines = std::make_unique<LogLines>(EventsFile(run->id));
  Result<LogPage> page = lines->Page(offset, limit);
  std::lock_guard lock(events_mu_);
  if (log_readers_.size() >= kMaxLogReaders) log_readers_.clear();
  log_readers_[key] = std::move(lines);
  return page;
}

Result<std::unique_ptr<EventFollower>> RunService::Follow(std::string_view id, std::int64_t after,
                                                          const RequestContext& ctx) {
  if (after < 0) return Status::Invalid({{"after", "must be a non-negative integer"}});
  auto run = Load(id, ctx);
  if (!run.ok()) return run.status();
  return std::make_unique<EventFollower>(store_, Watcher(), clock_, run->id, EventsFile(run->id),
                                         after);
}

}  // namespace outpost
