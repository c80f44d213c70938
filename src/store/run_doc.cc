#include "store/run_doc.h"

#include <boost/json.hpp>

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost {
namespace json = boost::json;
namespace {

// ---- writing ----

template <typename T>
json::value Opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value_from(*v);
}

json::value OptTime(const std::optional<WallTime>& t) {
  if (!t) return nullptr;
  return json::value(FormatTime(*t));
}

json::object NetworkToDoc(const Run& r) {
  json::array blocked;
  for (const auto& b : r.network_blocked) {
    blocked.push_back({{"host", b.host}, {"port", b.port}, {"time", FormatTime(b.at)}});
  }
  return {{"policy", ToString(r.network)}, {"blocked", std::move(blocked)}};
}

json::value PromotionJson(const std::optional<Promotion>& p) {
  if (!p) return nullptr;
  json::object o{
      {"branch", p->branch}, {"commit", p->commit}, {"at", FormatTime(p->at)}, {"by", p->by}};
  o["base"] = p->base.empty() ? json::value(nullptr) : json::value(p->base);
  o["prUrl"] = p->pr_url.empty() ? json::value(nullptr) : json::value(p->pr_url);
  o["prNumber"] = p->pr_number == 0 ? json::value(nullptr) : json::value(p->pr_number);
  return o;
}

json::value VerificationToDoc(const Verification& v) {
  return json::object{{"exitCode", v.exit_code ? json::value(*v.exit_code) : nullptr},
                      {"passed", v.passed},
                      {"tail", v.tail},
                      {"timedOut", v.timed_out}};
}

json::object ResourcesToDoc(const ResourceConstraints& rc) {
  json::object o;
  if (rc.max_memory_mb) o["maxMemoryMb"] = *rc.max_memory_mb;
  if (rc.max_cpu_units) o["maxCpuUnits"] = *rc.max_cpu_units;
  if (rc.max_disk_gb) o["maxDiskGb"] = *rc.max_disk_gb;
  return o;
}

// The totals (insertions, deletions) stay as the codec shared with the API wrote them; they are
// not read back (they are sums over diffStat).
json::value ChangesToDoc(const std::optional<Changes>& changes) {
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

json::value UsageToDoc(const std::optional<Usage>& usage) {
  if (!usage) return nullptr;
  json::object u{{"inputTokens", usage->input_tokens},
                 {"outputTokens", usage->output_tokens},
                 {"costUsd", usage->cost_usd}};
  if (!usage->cost_source.empty()) u["costSource"] = usage->cost_source;
  return u;
}

json::array ArtifactsToDoc(const std::vector<ArtifactRef>& artifacts) {
  json::array arts;
  for (const ArtifactRef& a : artifacts) {
    arts.push_back(json::object{{"name", a.name},
                                {"type", a.type},
                                {"contentType", a.content_type},
                                {"sizeBytes", a.size_bytes},
                                {"sha256", a.sha256}});
  }
  return arts;
}

// What was asked: written once at creation.
void RequestToDoc(const Run& r, json::object& o) {
  o["agent"] = r.agent;
  o["modelId"] = r.model_id;
  o["task"] = r.task;
  o["repo"] = Opt(r.repo);
  o["branch"] = Opt(r.branch);
  o["context"] = r.context;
  o["timeoutSeconds"] = r.timeout_seconds;
  o["inactivityTimeoutSeconds"] = Opt(r.inactivity_timeout_seconds);
  if (r.max_cost_usd) o["maxCostUsd"] = *r.max_cost_usd;
  o["workspaceMode"] = r.workspace_mode;
  o["network"] = NetworkToDoc(r);
  o["resourceConstraints"] = ResourcesToDoc(r.resources);
  o["additionalSecrets"] = json::value_from(r.additional_secrets);
  o["tags"] = json::value_from(r.tags);
  o["idempotencyKey"] = Opt(r.idempotency_key);
  o["groupId"] = Opt(r.group_id);
  if (r.verify) o["verify"] = *r.verify;
}

// What happened.
void OutcomeToDoc(const Run& r, json::object& o) {
  o["createdAt"] = FormatTime(r.created_at);
  o["startedAt"] = OptTime(r.started_at);
  o["endedAt"] = OptTime(r.ended_at);
  o["durationMs"] = r.started_at && r.ended_at
                        ? json::value(ToMillis(*r.ended_at) - ToMillis(*r.started_at))
                        : json::value(nullptr);
  o["exitCode"] = Opt(r.exit_code);
  o["errorMessage"] = Opt(r.error_message);
  o["finalMessage"] = Opt(r.final_message);
  o["cancelReason"] = Opt(r.cancel_reason);
  o["cancelRequestedAt"] = OptTime(r.cancel_requested_at);
  o["changes"] = ChangesToDoc(r.changes);
  o["usage"] = UsageToDoc(r.usage);
  o["progress"] = r.progress;
  if (r.promotion) o["promotion"] = PromotionJson(r.promotion);
  if (r.verification) o["verification"] = VerificationToDoc(*r.verification);
  if (r.artifacts_state != ArtifactsState::kNone) {
    o["artifactsStatus"] = ToString(r.artifacts_state);
    o["artifactsMissing"] = json::value_from(r.artifacts_missing);
  }
}

// ---- reading ----

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

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

const json::array* ArrayAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_array() ? &it->value().get_array() : nullptr;
}

// The strings of an array field (other elements skipped); empty when absent.
std::vector<std::string> ReadStrings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const json::array* a = ArrayAt(o, key)) {
    for (const auto& v : *a) {
      if (v.is_string()) out.emplace_back(v.get_string());
    }
  }
  return out;
}

// {"policy", "blocked"[]}; records older than the blocked list have "network" as a string.
// Returns the policy's name ("none" when absent); RunFromDoc parses it.
std::string ReadNetwork(const json::object& o, Run& r) {
  const json::object* n = ObjectAt(o, "network");
  if (!n) return GetString(o, "network").value_or("none");
  std::string policy = GetString(*n, "policy").value_or("none");
  if (const json::array* blocked = ArrayAt(*n, "blocked")) {
    for (const auto& e : *blocked) {
      if (!e.is_object()) continue;
      BlockedConnection c;
      c.host = GetString(e.get_object(), "host").value_or("");
      c.port = ReadInt(e.get_object(), "port").value_or(0);
      c.at = ReadTime(e.get_object(), "time").value_or(WallTime{});
      r.network_blocked.push_back(std::move(c));
    }
  }
  return policy;
}

void ReadResources(const json::object& o, Run& r) {
  if (const json::object* rc = ObjectAt(o, "resourceConstraints")) {
    r.resources.max_memory_mb = ReadInt(*rc, "maxMemoryMb");
    r.resources.max_cpu_units = ReadInt(*rc, "maxCpuUnits");
    r.resources.max_disk_gb = ReadInt(*rc, "maxDiskGb");
  }
}

void ReadTags(const json::object& o, Run& r) {
  if (const json::object* tags = ObjectAt(o, "tags")) {
    for (const auto& kv : *tags) {
      if (kv.value().is_string()) r.tags[std::string(kv.key())] = kv.value().get_string();
    }
  }
}

std::optional<Changes> ReadChanges(const json::object& o) {
  const json::object* c = ObjectAt(o, "changes");
  if (!c) return std::nullopt;
  Changes ch;
  ch.kind = GetString(*c, "kind").value_or("none");
  ch.before_sha = GetString(*c, "beforeSha");
  ch.after_sha = GetString(*c, "afterSha");
  ch.files_changed = ReadStrings(*c, "filesChanged");
  if (const json::array* stat = ArrayAt(*c, "diffStat")) {
    for (const auto& v : *stat) {
      if (!v.is_object()) continue;
      const auto& e = v.get_object();
      ch.diff_stat.push_back(
          {GetString(e, "path").value_or(""), GetInt(e, "insertions"), GetInt(e, "deletions")});
    }
  }
  ch.redacted = GetBool(*c, "redacted").value_or(false);
  return ch;
}

std::optional<Usage> ReadUsage(const json::object& o) {
  const json::object* u = ObjectAt(o, "usage");
  if (!u) return std::nullopt;
  Usage us;
  us.input_tokens = GetInt(*u, "inputTokens").value_or(0);
  us.output_tokens = GetInt(*u, "outputTokens").value_or(0);
  if (auto c = u->find("costUsd"); c != u->end() && c->value().is_number()) {
    us.cost_usd = c->value().to_number<double>();
  }
  us.cost_source = GetString(*u, "costSource").value_or("");
  return us;
}

std::vector<ArtifactRef> ReadArtifacts(const json::object& o) {
  std::vector<ArtifactRef> out;
  if (const json::array* arts = ArrayAt(o, "artifacts")) {
    for (const auto& v : *arts) {
      if (!v.is_object()) continue;
      const auto& e = v.get_object();
      out.push_back({GetString(e, "name").value_or(""), GetString(e, "type").value_or(""),
                     GetString(e, "contentType").value_or(""), GetInt(e, "sizeBytes").value_or(0),
                     GetString(e, "sha256").value_or("")});
    }
  }
  return out;
}

Status ReadRequest(const json::object& o, Run& r) {
  r.agent = GetString(o, "agent").value_or("");
  r.model_id = GetString(o, "modelId").value_or("");
  r.task = GetString(o, "task").value_or("");
  r.repo = GetString(o, "repo");
  r.branch = GetString(o, "branch");
  r.context = GetString(o, "context").value_or("standard");
  r.timeout_seconds = ReadInt(o, "timeoutSeconds").value_or(600);
  r.inactivity_timeout_seconds = ReadInt(o, "inactivityTimeoutSeconds");
  if (auto c = o.find("maxCostUsd"); c != o.end() && c->value().is_number()) {
    r.max_cost_usd = c->value().to_number<double>();
  }
  r.workspace_mode = GetString(o, "workspaceMode").value_or("ephemeral");
  std::optional<NetworkPolicy> network = ParseNetworkPolicy(ReadNetwork(o, r));
  if (!network) return Internal("corrupt run record: network");
  r.network = *network;
  ReadResources(o, r);
  r.additional_secrets = ReadStrings(o, "additionalSecrets");
  ReadTags(o, r);
  r.idempotency_key = GetString(o, "idempotencyKey");
  r.group_id = GetString(o, "groupId");
  r.verify = GetString(o, "verify");
  return Status::Ok();
}

std::optional<Promotion> ReadPromotion(const json::object& o) {
  const json::object* p = ObjectAt(o, "promotion");
  if (p == nullptr) return std::nullopt;
  Promotion out;
  out.branch = GetString(*p, "branch").value_or("");
  out.base = GetString(*p, "base").value_or("");
  out.commit = GetString(*p, "commit").value_or("");
  out.pr_url = GetString(*p, "prUrl").value_or("");
  out.pr_number = GetInt(*p, "prNumber").value_or(0);
  out.at = ReadTime(*p, "at").value_or(WallTime{});
  out.by = GetString(*p, "by").value_or("");
  return out;
}

std::optional<Verification> ReadVerification(const json::object& o) {
  const json::object* v = ObjectAt(o, "verification");
  if (v == nullptr) return std::nullopt;
  Verification out;
  out.exit_code = ReadInt(*v, "exitCode");
  out.passed = GetBool(*v, "passed").value_or(false);
  out.tail = GetString(*v, "tail").value_or("");
  out.timed_out = GetBool(*v, "timedOut").value_or(false);
  return out;
}

void ReadOutcome(const json::object& o, Run& r) {
  r.started_at = ReadTime(o, "startedAt");
  r.ended_at = ReadTime(o, "endedAt");
  r.exit_code = ReadInt(o, "exitCode");
  r.error_message = GetString(o, "errorMessage");
  r.final_message = GetString(o, "finalMessage");
  r.cancel_reason = GetString(o, "cancelReason");
  r.cancel_requested_at = ReadTime(o, "cancelRequestedAt");
  r.changes = ReadChanges(o);
  r.usage = ReadUsage(o);
  r.progress = ReadInt(o, "progress").value_or(0);
  r.promotion = ReadPromotion(o);
  r.verification = ReadVerification(o);
  r.artifacts_missing = ReadStrings(o, "artifactsMissing");
  r.artifacts = ReadArtifacts(o);
}

void ReadStoreFields(const json::object& o, Run& r) {
  r.tenant = GetString(o, "tenant").value_or("default");
  r.request_hash = GetString(o, "requestHash").value_or("");
  r.owner = GetString(o, "owner").value_or("");
  r.key_id = GetString(o, "keyId").value_or("");
  r.quota_slot = GetString(o, "quotaSlot").value_or("");
  r.channel_token_sha256 = GetString(o, "channelTokenSha256").value_or("");
  r.channel_attempt = GetInt(o, "channelAttempt").value_or(0);
  r.channel_exit = GetString(o, "channelExit");
  r.channel_bootstrap_sha256 = GetString(o, "channelBootstrapSha256").value_or("");
  r.channel_outputs = GetBool(o, "channelOutputs").value_or(false);
  r.version = GetInt(o, "version").value_or(0);
}

}  // namespace

json::object RunToDoc(const Run& r) {
  json::object o;
  o["runId"] = r.id.str();
  o["dispatchId"] = r.id.str();
  o["status"] = ToString(r.status);
  o["phase"] = ToString(r.phase);
  o["reason"] = Opt(r.reason);
  RequestToDoc(r, o);
  OutcomeToDoc(r, o);
  o["artifacts"] = ArtifactsToDoc(r.artifacts);
  o["tenant"] = r.tenant;
  o["requestHash"] = r.request_hash;
  o["owner"] = r.owner;
  if (!r.key_id.empty()) o["keyId"] = r.key_id;
  if (!r.quota_slot.empty()) o["quotaSlot"] = r.quota_slot;
  if (!r.channel_token_sha256.empty()) o["channelTokenSha256"] = r.channel_token_sha256;
  if (r.channel_attempt > 0) o["channelAttempt"] = r.channel_attempt;
  if (r.channel_exit) o["channelExit"] = *r.channel_exit;
  if (!r.channel_bootstrap_sha256.empty()) {
    o["channelBootstrapSha256"] = r.channel_bootstrap_sha256;
  }
  if (r.channel_outputs) o["channelOutputs"] = true;
  o["version"] = r.version;
  return o;
}

Result<Run> RunFromDoc(const json::object& o) {
  auto id = GetString(o, "runId");
  auto status = GetString(o, "status");
  if (!id || !status || !ParseRunStatus(*status)) return Internal("corrupt run record");
  auto created = ReadTime(o, "createdAt");
  if (!created) return Internal("corrupt run record: createdAt");
  Run r;
  r.id = RunId(*id);
  r.status = *ParseRunStatus(*status);
  std::optional<RunPhase> phase = ParseRunPhase(GetString(o, "phase").value_or("queued"));
  if (!phase) return Internal("corrupt run record: phase");
  r.phase = *phase;
  std::optional<ArtifactsState> artifacts =
      ParseArtifactsState(GetString(o, "artifactsStatus").value_or(""));
  if (!artifacts) return Internal("corrupt run record: artifactsStatus");
  r.artifacts_state = *artifacts;
  r.reason = GetString(o, "reason");
  r.created_at = *created;
  if (Status st = ReadRequest(o, r); !st.ok()) return st;
  ReadOutcome(o, r);
  ReadStoreFields(o, r);
  return r;
}

json::object ReplicaToDoc(const ReplicaInfo& r) {
  json::object o{{"replicaId", r.id},
                 {"host", r.host},
                 {"address", r.address},
                 {"version", r.version},
                 {"startedAt", FormatTime(r.started_at)},
                 {"heartbeatAt", FormatTime(r.heartbeat_at)},
                 {"running", r.running},
                 {"capacity", r.capacity}};
  // Only when set: a serving replica's record is written as before drains existed.
  if (r.draining) o["draining"] = true;
  if (r.left) o["left"] = true;
  return o;
}

Result<ReplicaInfo> ReplicaFromDoc(const json::object& o) {
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
  r.draining = GetBool(o, "draining").value_or(false);  // absent: written before drains existed
  r.left = GetBool(o, "left").value_or(false);
  return r;
}

}  // namespace outpost
