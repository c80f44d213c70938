#include "store/run_json.h"

#include <boost/json.hpp>

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost {
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

std::optional<WallTime> ReadTime(const json::object& o, std::string_view key) {
  auto s = GetString(o, key);
  if (!s) return std::nullopt;
  return ParseTime(*s);
}

std::optional<int> ReadInt(const json::object& o, std::string_view key) {
  auto v = GetInt(o, key);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace

json::object RunToJson(const Run& r, bool internal) {
  json::object o;
  o["runId"] = r.id.str();
  o["dispatchId"] = r.id.str();
  o["status"] = ToString(r.status);
  o["phase"] = r.phase;
  o["reason"] = Opt(r.reason);
  o["agent"] = r.agent;
  o["modelId"] = r.model_id;
  o["task"] = r.task;
  o["repo"] = Opt(r.repo);
  o["branch"] = Opt(r.branch);
  o["context"] = r.context;
  o["timeoutSeconds"] = r.timeout_seconds;
  o["inactivityTimeoutSeconds"] = Opt(r.inactivity_timeout_seconds);
  o["workspaceMode"] = r.workspace_mode;
  json::array blocked;
  for (const auto& b : r.network_blocked) {
    blocked.push_back({{"host", b.host}, {"port", b.port}, {"time", FormatTime(b.at)}});
  }
  o["network"] = {{"policy", r.network}, {"blocked", std::move(blocked)}};
  json::object rc;
  if (r.resources.max_memory_mb) rc["maxMemoryMb"] = *r.resources.max_memory_mb;
  if (r.resources.max_cpu_units) rc["maxCpuUnits"] = *r.resources.max_cpu_units;
  if (r.resources.max_disk_gb) rc["maxDiskGb"] = *r.resources.max_disk_gb;
  o["resourceConstraints"] = std::move(rc);
  o["additionalSecrets"] = json::value_from(r.additional_secrets);
  json::object tags;
  for (const auto& [k, v] : r.tags) tags[k] = v;
  o["tags"] = std::move(tags);
  o["idempotencyKey"] = Opt(r.idempotency_key);
  o["groupId"] = Opt(r.group_id);
  o["createdAt"] = FormatTime(r.created_at);
  o["startedAt"] = OptTime(r.started_at);
  o["endedAt"] = OptTime(r.ended_at);
  if (r.started_at && r.ended_at) {
    o["durationMs"] = ToMillis(*r.ended_at) - ToMillis(*r.started_at);
  } else {
    o["durationMs"] = nullptr;
  }
  o["exitCode"] = Opt(r.exit_code);
  o["errorMessage"] = Opt(r.error_message);
  o["finalMessage"] = Opt(r.final_message);
  o["cancelReason"] = Opt(r.cancel_reason);
  o["cancelRequestedAt"] = OptTime(r.cancel_requested_at);
  if (r.changes) {
    o["changes"] = {{"kind", r.changes->kind},
                    {"beforeSha", Opt(r.changes->before_sha)},
                    {"afterSha", Opt(r.changes->after_sha)},
                    {"filesChanged", json::value_from(r.changes->files_changed)}};
    json::array stat;
    std::int64_t ins = 0, del = 0;
    for (const FileChangeStat& f : r.changes->diff_stat) {
      stat.push_back(json::object{
          {"path", f.path}, {"insertions", Opt(f.insertions)}, {"deletions", Opt(f.deletions)}});
      ins += f.insertions.value_or(0);
      del += f.deletions.value_or(0);
    }
    json::object& c = o["changes"].as_object();
    c["insertions"] = ins;
    c["deletions"] = del;
    c["diffStat"] = std::move(stat);
    c["redacted"] = r.changes->redacted;
  } else {
    o["changes"] = nullptr;
  }
  if (r.usage) {
    o["usage"] = {{"inputTokens", r.usage->input_tokens},
                  {"outputTokens", r.usage->output_tokens},
                  {"costUsd", r.usage->cost_usd}};
    if (!r.usage->cost_source.empty()) o["usage"].as_object()["costSource"] = r.usage->cost_source;
  } else {
    o["usage"] = nullptr;
  }
  o["progress"] = r.progress;
  if (!r.artifacts_state.empty()) {
    o["artifactsStatus"] = r.artifacts_state;
    o["artifactsMissing"] = json::value_from(r.artifacts_missing);
  }
  if (internal) {
    json::array arts;
    for (const ArtifactRef& a : r.artifacts) {
      arts.push_back(json::object{{"name", a.name},
                                  {"type", a.type},
                                  {"contentType", a.content_type},
                                  {"sizeBytes", a.size_bytes},
                                  {"sha256", a.sha256}});
    }
    o["artifacts"] = std::move(arts);
    o["tenant"] = r.tenant;
    o["requestHash"] = r.request_hash;
    o["owner"] = r.owner;
    if (!r.key_id.empty()) o["keyId"] = r.key_id;
    if (!r.quota_slot.empty()) o["quotaSlot"] = r.quota_slot;
    o["version"] = r.version;
  }
  return o;
}

Result<Run> RunFromJson(const json::object& o) {
  Run r;
  auto id = GetString(o, "runId");
  auto status = GetString(o, "status");
  if (!id || !status || !ParseRunStatus(*status)) return Internal("corrupt run record");
  r.id = RunId(*id);
  r.status = *ParseRunStatus(*status);
  r.phase = GetString(o, "phase").value_or(std::string(kPhaseQueued));
  r.reason = GetString(o, "reason");
  r.agent = GetString(o, "agent").value_or("");
  r.model_id = GetString(o, "modelId").value_or("");
  r.task = GetString(o, "task").value_or("");
  r.repo = GetString(o, "repo");
  r.branch = GetString(o, "branch");
  r.context = GetString(o, "context").value_or("standard");
  r.timeout_seconds = ReadInt(o, "timeoutSeconds").value_or(600);
  r.inactivity_timeout_seconds = ReadInt(o, "inactivityTimeoutSeconds");
  r.workspace_mode = GetString(o, "workspaceMode").value_or("ephemeral");
  if (auto it = o.find("network"); it != o.end() && it->value().is_object()) {
    const auto& n = it->value().get_object();
    r.network = GetString(n, "policy").value_or("none");
    if (auto b = n.find("blocked"); b != n.end() && b->value().is_array()) {
      for (const auto& e : b->value().get_array()) {
        if (!e.is_object()) continue;
        BlockedConnection c;
        c.host = GetString(e.get_object(), "host").value_or("");
        c.port = ReadInt(e.get_object(), "port").value_or(0);
        c.at = ReadTime(e.get_object(), "time").value_or(WallTime{});
        r.network_blocked.push_back(std::move(c));
      }
    }
  } else {
    r.network = GetString(o, "network").value_or("none");
  }
  if (auto it = o.find("resourceConstraints"); it != o.end() && it->value().is_object()) {
    const auto& rc = it->value().get_object();
    r.resources.max_memory_mb = ReadInt(rc, "maxMemoryMb");
    r.resources.max_cpu_units = ReadInt(rc, "maxCpuUnits");
    r.resources.max_disk_gb = ReadInt(rc, "maxDiskGb");
  }
  if (auto it = o.find("additionalSecrets"); it != o.end() && it->value().is_array()) {
    for (const auto& v : it->value().get_array()) {
      if (v.is_string()) r.additional_secrets.emplace_back(v.get_string());
    }
  }
  if (auto it = o.find("tags"); it != o.end() && it->value().is_object()) {
    for (const auto& kv : it->value().get_object()) {
      if (kv.value().is_string()) r.tags[std::string(kv.key())] = kv.value().get_string();
    }
  }
  r.idempotency_key = GetString(o, "idempotencyKey");
  r.group_id = GetString(o, "groupId");
  auto created = ReadTime(o, "createdAt");
  if (!created) return Internal("corrupt run record: createdAt");
  r.created_at = *created;
  r.started_at = ReadTime(o, "startedAt");
  r.ended_at = ReadTime(o, "endedAt");
  r.exit_code = ReadInt(o, "exitCode");
  r.error_message = GetString(o, "errorMessage");
  r.final_message = GetString(o, "finalMessage");
  r.cancel_reason = GetString(o, "cancelReason");
  r.cancel_requested_at = ReadTime(o, "cancelRequestedAt");
  if (auto it = o.find("changes"); it != o.end() && it->value().is_object()) {
    const auto& c = it->value().get_object();
    Changes ch;
    ch.kind = GetString(c, "kind").value_or("none");
    ch.before_sha = GetString(c, "beforeSha");
    ch.after_sha = GetString(c, "afterSha");
    if (auto f = c.find("filesChanged"); f != c.end() && f->value().is_array()) {
      for (const auto& v : f->value().get_array()) {
        if (v.is_string()) ch.files_changed.emplace_back(v.get_string());
      }
    }
    if (auto f = c.find("diffStat"); f != c.end() && f->value().is_array()) {
      for (const auto& v : f->value().get_array()) {
        if (!v.is_object()) continue;
        const auto& e = v.get_object();
        ch.diff_stat.push_back(
            {GetString(e, "path").value_or(""), GetInt(e, "insertions"), GetInt(e, "deletions")});
      }
    }
    ch.redacted = GetBool(c, "redacted").value_or(false);
    r.changes = std::move(ch);
  }
  if (auto it = o.find("usage"); it != o.end() && it->value().is_object()) {
    const auto& u = it->value().get_object();
    Usage us;
    us.input_tokens = GetInt(u, "inputTokens").value_or(0);
    us.output_tokens = GetInt(u, "outputTokens").value_or(0);
    if (auto c = u.find("costUsd"); c != u.end() && c->value().is_number()) {
      us.cost_usd = c->value().to_number<double>();
    }
    us.cost_source = GetString(u, "costSource").value_or("");
    r.usage = us;
  }
  r.progress = ReadInt(o, "progress").value_or(0);
  r.artifacts_state = GetString(o, "artifactsStatus").value_or("");
  if (auto it = o.find("artifactsMissing"); it != o.end() && it->value().is_array()) {
    for (const auto& v : it->value().get_array()) {
      if (v.is_string()) r.artifacts_missing.emplace_back(v.get_string());
    }
  }
  if (auto it = o.find("artifacts"); it != o.end() && it->value().is_array()) {
    for (const auto& v : it->value().get_array()) {
      if (!v.is_object()) continue;
      const auto& e = v.get_object();
      r.artifacts.push_back({GetString(e, "name").value_or(""), GetString(e, "type").value_or(""),
                             GetString(e, "contentType").value_or(""),
                             GetInt(e, "sizeBytes").value_or(0),
                             GetString(e, "sha256").value_or("")});
    }
  }
  r.tenant = GetString(o, "tenant").value_or("default");
  r.request_hash = GetString(o, "requestHash").value_or("");
  r.owner = GetString(o, "owner").value_or("");
  r.key_id = GetString(o, "keyId").value_or("");
  r.quota_slot = GetString(o, "quotaSlot").value_or("");
  r.version = GetInt(o, "version").value_or(0);
  return r;
}

json::object ReplicaToJson(const ReplicaInfo& r) {
  return {{"replicaId", r.id},
          {"host", r.host},
          {"address", r.address},
          {"version", r.version},
          {"startedAt", FormatTime(r.started_at)},
          {"heartbeatAt", FormatTime(r.heartbeat_at)},
          {"running", r.running},
          {"capacity", r.capacity}};
}

Result<ReplicaInfo> ReplicaFromJson(const json::object& o) {
  ReplicaInfo r;
  auto id = GetString(o, "replicaId");
  auto beat = ReadTime(o, "heartbeatAt");
  if (!id || !beat) return Internal("corrupt replica record");
  r.id = *id;
  r.host = GetString(o, "host").value_or("");
  r.address = GetString(o, "address").value_or("");
  r.version = GetString(o, "version").value_or("");
  r.started_at = ReadTime(o, "startedAt").value_or(*beat);
  r.heartbeat_at = *beat;
  r.running = static_cast<int>(GetInt(o, "running").value_or(0));
  r.capacity = static_cast<int>(GetInt(o, "capacity").value_or(0));
  return r;
}

}  // namespace outpost
