#include "runner/runner.h"

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost {

std::string_view ToString(ExitOutcome outcome) {
  for (const auto& [o, name] : kExitOutcomeNames) {
    if (o == outcome) return name;
  }
  return "";
}

std::optional<ExitOutcome> ParseExitOutcome(std::string_view name) {
  for (const auto& [o, n] : kExitOutcomeNames) {
    if (n == name) return o;
  }
  return std::nullopt;
}

namespace {

namespace json = boost::json;

std::optional<WallTime> GetTime(const json::object& o, std::string_view key) {
  std::optional<std::string> s = GetString(o, key);
  if (!s) return std::nullopt;
  return ParseTime(*s);
}

std::optional<int> GetInt32(const json::object& o, std::string_view key) {
  std::optional<std::int64_t> v = GetInt(o, key);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace

json::object ExitRecordToJson(const ExitRecord& rec) {
  json::object o{{"outcome", ToString(rec.outcome)},
                 {"ended_at", FormatTime(rec.ended_at)},
                 {"message", rec.message},
                 {"leftover_processes_killed", rec.leftover_processes_killed},
                 {"stdout_bytes", rec.stdout_bytes},
                 {"stderr_bytes", rec.stderr_bytes}};
  if (rec.stdout_dropped_bytes > 0) o["stdout_dropped_bytes"] = rec.stdout_dropped_bytes;
  if (rec.stderr_dropped_bytes > 0) o["stderr_dropped_bytes"] = rec.stderr_dropped_bytes;
  if (rec.exit_code) o["exit_code"] = *rec.exit_code;
  if (rec.signal) o["signal"] = *rec.signal;
  if (rec.started_at) o["started_at"] = FormatTime(*rec.started_at);
  if (rec.cancel_reason) o["cancel_reason"] = *rec.cancel_reason;
  if (!rec.cgroup_version.empty()) o["cgroup_version"] = rec.cgroup_version;
  if (rec.peak_memory_bytes) o["peak_memory_bytes"] = *rec.peak_memory_bytes;
  if (rec.agent) {
    json::object a{{"final_message", rec.agent->final_message},
                   {"has_usage", rec.agent->has_usage},
                   {"input_tokens", rec.agent->usage.input},
                   {"output_tokens", rec.agent->usage.output}};
    if (rec.agent->cost_usd) a["cost_usd"] = *rec.agent->cost_usd;
    if (rec.agent->error) a["error"] = *rec.agent->error;
    o["agent_result"] = std::move(a);
    o["agent_turns"] = rec.agent_turns;
  }
  return o;
}

Result<ExitRecord> ExitRecordFromJson(const json::object& o, std::string_view where) {
  auto missing = [&](std::string_view key) {
    return InvalidArgument(std::string(where) + ": missing or malformed \"" + std::string(key) +
                           "\"");
  };
  ExitRecord rec;
  std::optional<std::string> outcome = GetString(o, "outcome");
  std::optional<WallTime> ended = GetTime(o, "ended_at");
  if (!outcome) return missing("outcome");
  if (!ended) return missing("ended_at");
  std::optional<ExitOutcome> parsed = ParseExitOutcome(*outcome);
  if (!parsed) {
    return InvalidArgument(std::string(where) + ": unknown outcome \"" + *outcome + "\"");
  }
  rec.outcome = *parsed;
  rec.ended_at = *ended;
  rec.exit_code = GetInt32(o, "exit_code");
  rec.signal = GetInt32(o, "signal");
  rec.started_at = GetTime(o, "started_at");
  rec.message = GetString(o, "message").value_or("");
  rec.cancel_reason = GetString(o, "cancel_reason");
  rec.leftover_processes_killed = GetInt32(o, "leftover_processes_killed").value_or(0);
  rec.stdout_bytes = GetInt(o, "stdout_bytes").value_or(0);
  rec.stderr_bytes = GetInt(o, "stderr_bytes").value_or(0);
  rec.stdout_dropped_bytes = GetInt(o, "stdout_dropped_bytes").value_or(0);
  rec.stderr_dropped_bytes = GetInt(o, "stderr_dropped_bytes").value_or(0);
  rec.cgroup_version = GetString(o, "cgroup_version").value_or("");
  rec.peak_memory_bytes = GetInt(o, "peak_memory_bytes");
  if (const json::value* a = o.if_contains("agent_result"); a != nullptr && a->is_object()) {
    const json::object& ao = a->as_object();
    AgentResult r;
    r.final_message = GetString(ao, "final_message").value_or("");
    r.has_usage = GetBool(ao, "has_usage").value_or(false);
    r.usage.input = GetInt(ao, "input_tokens").value_or(0);
    r.usage.output = GetInt(ao, "output_tokens").value_or(0);
    if (const json::value* c = ao.if_contains("cost_usd"); c != nullptr && c->is_number()) {
      r.cost_usd = c->to_number<double>();
    }
    r.error = GetString(ao, "error");
    rec.agent = std::move(r);
    rec.agent_turns = GetInt32(o, "agent_turns").value_or(0);
  }
  return rec;
}

}  // namespace outpost
