#include "wire/run_json.h"

#include <boost/json.hpp>

#include "common/time_util.h"

namespace outpost::wire {
namespace json = boost::json;
namespace {

template <typename T>
json::value Opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value_from(*v);
}

json::value OptTime(const std::optional<WallTime>& t) {
  if (!t) return nullptr;
  return json::value(FormatTime(*t));
}

json::object NetworkJson(const Run& r) {
  json::array blocked;
  for (const auto& b : r.network_blocked) {
    blocked.push_back({{"host", b.host}, {"port", b.port}, {"time", FormatTime(b.at)}});
  }
  return {{"policy", ToString(r.network)}, {"blocked", std::move(blocked)}};
}

}  // namespace

json::value PromotionToJson(const std::optional<Promotion>& p) {
  if (!p) return nullptr;
  json::object o{
      {"branch", p->branch}, {"commit", p->commit}, {"at", FormatTime(p->at)}, {"by", p->by}};
  o["base"] = p->base.empty() ? json::value(nullptr) : json::value(p->base);
  o["prUrl"] = p->pr_url.empty() ? json::value(nullptr) : json::value(p->pr_url);
  o["prNumber"] = p->pr_number == 0 ? json::value(nullptr) : json::value(p->pr_number);
  return o;
}

json::value VerificationToJson(const std::optional<Verification>& v) {
  if (!v) return nullptr;
  return json::object{{"exitCode", v->exit_code ? json::value(*v->exit_code) : nullptr},
                      {"passed", v->passed},
                      {"tail", v->tail},
                      {"timedOut", v->timed_out}};
}

namespace {

json::object ResourcesJson(const ResourceConstraints& rc) {
  json::object o;
  if (rc.max_memory_mb) o["maxMemoryMb"] = *rc.max_memory_mb;
  if (rc.max_cpu_units) o["maxCpuUnits"] = *rc.max_cpu_units;
  if (rc.max_disk_gb) o["maxDiskGb"] = *rc.max_disk_gb;
  return o;
}

json::value ChangesJson(const std::optional<Changes>& changes) {
  if (!changes) return nullptr;
  json::object c{{"kind", changes->kind},
                 {"beforeSha", Opt(changes->before_sha)},
                 {"afterSha", Opt(changes->after_sha)},
                 {"filesChanged", json::value_from(changes->files_changed)}};
  json::array stat;
  std::int64_t ins = 0, del = 0;
  for (const FileChangeStat& f : changes->diff_stat) {
    stat.push_back(json::object{
        {"path", f.path}, {"insertions", Opt(f.insertions)}, {"deletions", Opt(f.deletions)}});
    ins += f.insertions.value_or(0);
    del += f.deletions.value_or(0);
  }
  c["insertions"] = ins;
  c["deletions"] = del;
  c["diffStat"] = std::move(stat);
  c["redacted"] = changes->redacted;
  return c;
}

json::value UsageJson(const std::optional<Usage>& usage) {
  if (!usage) return nullptr;
  json::object u{{"inputTokens", usage->input_tokens},
                 {"outputTokens", usage->output_tokens},
                 {"costUsd", usage->cost_usd}};
  if (!usage->cost_source.empty()) u["costSource"] = usage->cost_source;
  return u;
}

json::value DurationMs(const Run& r) {
  if (!r.started_at || !r.ended_at) return nullptr;
  return ToMillis(*r.ended_at) - ToMillis(*r.started_at);
}

}  // namespace

json::object RunToJson(const Run& r) {
  json::object o;
  o["runId"] = r.id.str();
  o["dispatchId"] = r.id.str();
  o["status"] = ToString(r.status);
  o["phase"] = ToString(r.phase);
  o["reason"] = Opt(r.reason);
  o["agent"] = r.agent;
  o["modelId"] = r.model_id;
  o["task"] = r.task;
  o["repo"] = Opt(r.repo);
  o["branch"] = Opt(r.branch);
  o["context"] = r.context;
  o["timeoutSeconds"] = r.timeout_seconds;
  o["inactivityTimeoutSeconds"] = Opt(r.inactivity_timeout_seconds);
  o["maxCostUsd"] = Opt(r.max_cost_usd);
  o["workspaceMode"] = r.workspace_mode;
  o["network"] = NetworkJson(r);
  o["resourceConstraints"] = ResourcesJson(r.resources);
  o["additionalSecrets"] = json::value_from(r.additional_secrets);
  o["tags"] = json::value_from(r.tags);
  o["idempotencyKey"] = Opt(r.idempotency_key);
  o["groupId"] = Opt(r.group_id);
  o["createdAt"] = FormatTime(r.created_at);
  o["startedAt"] = OptTime(r.started_at);
  o["endedAt"] = OptTime(r.ended_at);
  o["durationMs"] = DurationMs(r);
  o["exitCode"] = Opt(r.exit_code);
  o["errorMessage"] = Opt(r.error_message);
  o["finalMessage"] = Opt(r.final_message);
  o["cancelReason"] = Opt(r.cancel_reason);
  o["cancelRequestedAt"] = OptTime(r.cancel_requested_at);
  o["changes"] = ChangesJson(r.changes);
  o["usage"] = UsageJson(r.usage);
  o["progress"] = r.progress;
  o["promotion"] = PromotionToJson(r.promotion);
  o["verify"] = Opt(r.verify);
  o["verification"] = VerificationToJson(r.verification);
  if (r.artifacts_state != ArtifactsState::kNone) {
    o["artifactsStatus"] = ToString(r.artifacts_state);
    o["artifactsMissing"] = json::value_from(r.artifacts_missing);
  }
  return o;
}

json::object DispatchResultToJson(const Run& run, bool created,
                                  const std::optional<std::string>& group_id,
                                  const std::vector<Run>& group) {
  if (group_id) {
    json::array runs, ids;
    for (const Run& r : group) {
      runs.push_back(json::object{{"runId", r.id.str()},
                                  {"agent", r.agent},
                                  {"modelId", r.model_id},
                                  {"status", ToString(r.status)}});
      ids.emplace_back(r.id.str());
    }
    return {{"groupId", *group_id},
            {"runs", std::move(runs)},
            {"runIds", std::move(ids)},
            {"idempotent", !created}};
  }
  return {{"runId", run.id.str()},          {"dispatchId", run.id.str()},
          {"status", ToString(run.status)}, {"agent", run.agent},
          {"modelId", run.model_id},        {"createdAt", FormatTime(run.created_at)},
          {"idempotent", !created}};
}

}  // namespace outpost::wire
