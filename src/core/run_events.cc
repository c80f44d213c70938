#include "core/run_events.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost {
namespace json = boost::json;
namespace {

// The terminal events carry the time the run ended, not the time they were appended (which may
// be much later, by a reader repairing a log): then they read the same as SynthesizedEvents.
class EndedClock final : public Clock {
 public:
  EndedClock(const Clock& base, std::optional<WallTime> ended) : base_(base), ended_(ended) {}
  WallTime Now() const override { return ended_.value_or(base_.Now()); }
  MonoTime Mono() const override { return base_.Mono(); }
  void SleepUntil(MonoTime deadline) const override { base_.SleepUntil(deadline); }
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override {
    return base_.WaitUntil(lock, cv, deadline, pred);
  }

 private:
  const Clock& base_;
  std::optional<WallTime> ended_;
};

}  // namespace

json::object TerminalStatusFields(const Run& run) {
  json::object o{{"status", ToString(run.status)}, {"phase", ToString(RunPhase::kDone)}};
  if (run.reason) o["reason"] = *run.reason;
  if (run.exit_code) o["exitCode"] = *run.exit_code;
  if (run.error_message) o["message"] = *run.error_message;
  // What the allowlist proxy refused, "host:port" once each: the stream says why the agent
  // could not get out, not only GET /runs/{id}.
  if (!run.network_blocked.empty()) {
    json::array blocked;
    for (const auto& b : run.network_blocked) {
      json::value hp(b.host + ":" + std::to_string(b.port));
      if (std::find(blocked.begin(), blocked.end(), hp) == blocked.end()) blocked.push_back(hp);
    }
    o["networkBlocked"] = std::move(blocked);
  }
  return o;
}

Result<std::int64_t> AppendTerminalEvents(const std::string& events_file, const Run& run,
                                          const Clock& clock) {
  if (!IsTerminal(run.status)) return FailedPrecondition("the run has not ended");
  const std::string dir = std::filesystem::path(events_file).parent_path().string();
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return NotFound("the run never started: no " + dir);
  EndedClock ended(clock, run.ended_at);
  auto log = EventLogWriter::Open(events_file, ended, Millis(1000));
  if (!log.ok()) return log.status();
  if ((*log)->last_type() == event::kEnd) return (*log)->last_seq();
  if (auto r = (*log)->Append(event::kStatus, TerminalStatusFields(run)); !r.ok()) {
    return r.status();
  }
  auto end = (*log)->Append(event::kEnd, {{"status", ToString(run.status)}});
  if (!end.ok()) return end.status();
  OUTPOST_RETURN_IF_ERROR((*log)->Sync());
  return *end;
}

std::vector<EventLine> SynthesizedEvents(const Run& run) {
  const std::string ts = FormatTime(run.ended_at.value_or(run.created_at));
  auto line = [&](std::int64_t seq, std::string_view type, const json::object& fields) {
    std::string text = "{\"seq\":" + std::to_string(seq) + ",\"ts\":\"" + ts + "\",\"type\":\"" +
                       std::string(type) + "\"";
    for (const auto& [k, v] : fields) {
      text += ",\"" + std::string(k) + "\":" + ToJson(v);
    }
    return EventLine{seq, std::string(type), text + "}"};
  };
  return {line(1, event::kStatus, TerminalStatusFields(run)),
          line(2, event::kEnd, {{"status", ToString(run.status)}})};
}

}  // namespace outpost
