// RunService: the run's output — log pages and event followers.
#include "common/log.h"
#include "core/event_follower.h"
#include "core/event_hub.h"
#include "core/log_lines.h"
#include "core/run_service.h"

namespace outpost {
namespace {

constexpr std::size_t kMaxLogReaders = 64;

// The event log of a RunService without one: no run has events yet.
class NoEvents final : public EventLog {
 public:
  Result<EventAppend> Append(std::string_view, const std::vector<RunEvent>&) override {
    return Unavailable("no event log");
  }
  Result<EventBatch> Read(std::string_view, std::int64_t, int, std::size_t) override {
    return EventBatch{};
  }
  Result<EventLogTail> Tail(std::string_view) override { return EventLogTail{}; }
  Status Remove(std::string_view) override { return Status::Ok(); }
};

}  // namespace

EventLog& RunService::Events() {
  static NoEvents none;
  return events_ ? *events_ : none;
}

RunService::~RunService() = default;

void RunService::ImportJournal(const Run& run) {
  if (!import_ || !IsTerminal(run.status)) return;
  const std::string key = run.id.str();
  {
    std::lock_guard lock(events_mu_);
    if (imported_.size() > 4096) imported_.clear();
    if (!imported_.insert(key).second) return;
  }
  auto tail = Events().Tail(key);
  if (!tail.ok() || tail->ended) return;
  if (Status st = import_(run.id); !st.ok()) {
    spdlog::warn("run {}: its journal could not be copied into the event log: {}", key,
                 st.ToString());
    std::lock_guard lock(events_mu_);
    imported_.erase(key);  // try again on the next read
  }
}

Result<LogPage> RunService::Logs(std::string_view id, std::int64_t offset, int limit,
                                 const RequestContext& ctx) {
  std::vector<FieldError> errors;
  if (offset < 0) errors.push_back({"offset", "must be a non-negative integer"});
  if (limit < 1 || limit > 1000) errors.push_back({"limit", "must be an integer from 1 to 1000"});
  if (!errors.empty()) return Status::Invalid(errors);
  auto run = Load(id, ctx);
  if (!run.ok()) return run.status();
  ImportJournal(*run);
  const std::string key = run->id.str();
  std::unique_ptr<LogLines> lines;
  {
    std::lock_guard lock(events_mu_);
    if (auto it = log_readers_.find(key); it != log_readers_.end()) {
      if (it->second->position() <= offset) lines = std::move(it->second);
      log_readers_.erase(it);
    }
  }
  if (!lines) lines = std::make_unique<LogLines>(Events(), run->id);
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
  ImportJournal(*run);
  return std::make_unique<EventFollower>(store_, Events(), hub_, clock_, run->id, after);
}

}  // namespace outpost
