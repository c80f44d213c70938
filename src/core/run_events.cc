#include "core/run_events.h"

#include <algorithm>

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost {
namespace json = boost::json;

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

std::vector<RunEvent> TerminalEvents(const Run& run, std::int64_t first) {
  const std::string ts = FormatTime(run.ended_at.value_or(run.created_at));
  auto line = [&](std::int64_t seq, std::string_view type, const json::object& fields) {
    std::string text = "{\"seq\":" + std::to_string(seq) + ",\"ts\":\"" + ts + "\",\"type\":\"" +
                       std::string(type) + "\"";
    for (const auto& [k, v] : fields) {
      text += ",\"" + std::string(k) + "\":" + ToJson(v);
    }
    return RunEvent{seq, std::string(type), text + "}"};
  };
  return {line(first, event::kStatus, TerminalStatusFields(run)),
          line(first + 1, event::kEnd, {{"status", ToString(run.status)}})};
}

Result<std::int64_t> AppendTerminalEvents(EventLog& log, const Run& run) {
  if (!IsTerminal(run.status)) return FailedPrecondition("the run has not ended");
  // Two tries: another writer may append between our Tail and our Append (a pump's last
  // events, or the same terminal events at other seqs — impossible, they follow the same Tail).
  for (int attempt = 0;; ++attempt) {
    Result<EventLogTail> tail = log.Tail(run.id.str());
    if (!tail.ok()) return tail.status();
    if (tail->ended) return tail->last_seq;
    Result<EventAppend> appended =
        log.Append(run.id.str(), TerminalEvents(run, tail->last_seq + 1));
    if (appended.ok()) return tail->last_seq + 2;
    const Code code = appended.status().code();
    if (attempt >= 2 || (code != Code::kFailedPrecondition && code != Code::kConflict)) {
      return appended.status();
    }
  }
}

std::vector<RunEvent> SynthesizedEvents(const Run& run) { return TerminalEvents(run, 1); }

}  // namespace outpost
