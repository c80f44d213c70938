#include "runner/runner.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <climits>
#include <cstdint>

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
  if (rec.changes) o["changes"] = *rec.changes;
  if (rec.verification) {
    const Verification& v = *rec.verification;
    json::object vo{{"passed", v.passed}, {"tail", v.tail}, {"timed_out", v.timed_out}};
    if (v.exit_code) vo["exit_code"] = *v.exit_code;
    o["verification"] = std::move(vo);
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
  if (const json::value* c = o.if_contains("changes"); c != nullptr && c->is_object()) {
    rec.changes = c->as_object();
  }
  // Optional (a record of an older supervisor, or a run without verify, has none).
  if (const json::value* v = o.if_contains("verification"); v != nullptr && v->is_object()) {
    const json::object& vo = v->as_object();
    Verification out;
    out.exit_code = GetInt32(vo, "exit_code");
    out.passed = GetBool(vo, "passed").value_or(false);
    out.tail = GetString(vo, "tail").value_or("");
    out.timed_out = GetBool(vo, "timed_out").value_or(false);
    rec.verification = std::move(out);
  }
  return rec;
}

}  // namespace outpost

namespace outpost {
namespace {

json::array StringArray(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}

json::object StringMap(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

template <typename T>
json::value OrNull(const std::optional<T>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

// Reads one JSON object of a run spec: every key of `keys` must be there (nullable ones may be
// null), no other key may be; the first problem is kept, named by its dotted path.
class SpecReader {
 public:
  SpecReader(const json::object& o, std::string prefix,
             std::initializer_list<std::string_view> keys, std::optional<Status>& error)
      : o_(o), prefix_(std::move(prefix)), error_(error) {
    for (const auto& kv : o_) {
      if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) {
        Fail(kv.key(), "unknown field");
        return;
      }
    }
    for (std::string_view k : keys) {
      if (!o_.contains(k)) {
        Fail(k, "missing");
        return;
      }
    }
  }

  void Fail(std::string_view key, std::string_view what) {
    if (!error_) {
      error_ = InvalidArgument("run spec: " + Path(key) + ": " + std::string(what));
    }
  }
  std::string Path(std::string_view key) const { return prefix_ + std::string(key); }
  bool ok() const { return !error_.has_value(); }

  const json::value* At(std::string_view key) {
    if (!ok()) return nullptr;
    return o_.if_contains(key);
  }
  bool IsNull(std::string_view key) {
    const json::value* v = At(key);
    return v != nullptr && v->is_null();
  }
  std::string Str(std::string_view key) {
    const json::value* v = At(key);
    if (v == nullptr) return "";
    if (!v->is_string()) {
      Fail(key, "must be a string");
      return "";
    }
    return std::string(v->as_string());
  }
  std::optional<std::string> OptStr(std::string_view key) {
    if (IsNull(key)) return std::nullopt;
    const json::value* v = At(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Fail(key, "must be a string or null");
      return std::nullopt;
    }
    return std::string(v->as_string());
  }
  std::optional<std::int64_t> OptInt(std::string_view key, bool nullable = true) {
    const json::value* v = At(key);
    if (v == nullptr) return std::nullopt;
    if (nullable && v->is_null()) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
      return static_cast<std::int64_t>(v->as_uint64());
    }
    Fail(key, nullable ? "must be an integer or null" : "must be an integer");
    return std::nullopt;
  }
  std::int64_t Int(std::string_view key) { return OptInt(key, /*nullable=*/false).value_or(0); }
  std::optional<int> OptInt32(std::string_view key, bool nullable = true) {
    std::optional<std::int64_t> v = OptInt(key, nullable);
    if (!v) return std::nullopt;
    if (*v < INT32_MIN || *v > INT32_MAX) {
      Fail(key, "out of range");
      return std::nullopt;
    }
    return static_cast<int>(*v);
  }
  int Int32(std::string_view key) { return OptInt32(key, /*nullable=*/false).value_or(0); }
  std::vector<std::string> StrList(std::string_view key) {
    std::vector<std::string> out;
    const json::value* v = At(key);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      Fail(key, "must be an array of strings");
      return out;
    }
    for (const json::value& e : v->as_array()) {
      if (!e.is_string()) {
        Fail(key, "must be an array of strings");
        return {};
      }
      out.emplace_back(e.as_string());
    }
    return out;
  }
  std::map<std::string, std::string> StrMap(std::string_view key) {
    std::map<std::string, std::string> out;
    const json::value* v = At(key);
    if (v == nullptr) return out;
    if (!v->is_object()) {
      Fail(key, "must be an object of strings");
      return out;
    }
    for (const auto& kv : v->as_object()) {
      if (!kv.value().is_string()) {
        Fail(std::string(key) + "." + std::string(kv.key()), "must be a string");
        return {};
      }
      out[std::string(kv.key())] = std::string(kv.value().as_string());
    }
    return out;
  }
  // nullptr for null (when nullable) or on error.
  const json::object* Obj(std::string_view key, bool nullable) {
    const json::value* v = At(key);
    if (v == nullptr) return nullptr;
    if (nullable && v->is_null()) return nullptr;
    if (!v->is_object()) {
      Fail(key, nullable ? "must be an object or null" : "must be an object");
      return nullptr;
    }
    return &v->as_object();
  }

 private:
  const json::object& o_;
  std::string prefix_;
  std::optional<Status>& error_;
};

}  // namespace

json::object RunSpecToJson(const RunSpec& spec) {
  const RunLimits& l = spec.limits;
  json::object limits{{"timeout_seconds", l.timeout_seconds},
                      {"inactivity_timeout_seconds", OrNull(l.inactivity_timeout_seconds)},
                      {"grace_seconds", l.grace_seconds},
                      {"memory_bytes", OrNull(l.memory_bytes)},
                      {"cpu_millicores", OrNull(l.cpu_millicores)},
                      {"disk_bytes", OrNull(l.disk_bytes)},
                      {"pids_max", l.pids_max},
                      {"max_output_bytes", l.max_output_bytes}};
  json::value repo = nullptr;
  if (spec.repo) {
    const RepoCheckout& r = *spec.repo;
    repo = json::object{{"url", r.url},
                        {"branch", OrNull(r.branch)},
                        {"pin", OrNull(r.pin)},
                        {"cache_dir", r.cache_dir},
                        {"git_token", OrNull(r.git_token)},
                        {"git_token_url", OrNull(r.git_token_url)},
                        {"allow_private_hosts", StringArray(r.allow_private_hosts)},
                        {"ssh_known_hosts", r.ssh_known_hosts},
                        {"local_repo_roots", StringArray(r.local_repo_roots)},
                        {"data_dir", r.data_dir},
                        {"context_level", r.context_level},
                        {"task_arg_index", OrNull(r.task_arg_index)}};
  }
  json::value channel = nullptr;
  if (spec.channel)
    channel = json::object{{"url", spec.channel->url}, {"token", spec.channel->token}};
  return json::object{{"id", spec.id.str()},
                      {"argv", StringArray(spec.argv)},
                      {"env", StringMap(spec.env)},
                      {"secrets", StringArray(spec.secrets)},
                      {"redact", StringArray(spec.redact)},
                      {"agent_dirs", StringArray(spec.agent_dirs)},
                      {"home_files", StringMap(spec.home_files)},
                      {"parser", spec.parser},
                      {"limits", std::move(limits)},
                      {"network", ToString(spec.network)},
                      {"allow", StringArray(spec.allow)},
                      {"repo", std::move(repo)},
                      {"channel", std::move(channel)},
                      {"verify", OrNull(spec.verify)}};
}

Result<RunSpec> RunSpecFromJson(const json::object& o) {
  std::optional<Status> error;
  RunSpec spec;
  SpecReader r(o, "",
               {"id", "argv", "env", "secrets", "redact", "agent_dirs", "home_files", "parser",
                "limits", "network", "allow", "repo", "channel", "verify"},
               error);
  spec.id = RunId(r.Str("id"));
  if (r.ok() && spec.id.empty()) r.Fail("id", "must not be empty");
  spec.argv = r.StrList("argv");
  if (r.ok() && spec.argv.empty()) r.Fail("argv", "must not be empty");
  spec.env = r.StrMap("env");
  spec.secrets = r.StrList("secrets");
  spec.redact = r.StrList("redact");
  spec.agent_dirs = r.StrList("agent_dirs");
  spec.home_files = r.StrMap("home_files");
  spec.parser = r.Str("parser");
  if (const json::object* lo = r.Obj("limits", /*nullable=*/false)) {
    SpecReader l(*lo, "limits.",
                 {"timeout_seconds", "inactivity_timeout_seconds", "grace_seconds", "memory_bytes",
                  "cpu_millicores", "disk_bytes", "pids_max", "max_output_bytes"},
                 error);
    RunLimits& lim = spec.limits;
    lim.timeout_seconds = l.Int32("timeout_seconds");
    lim.inactivity_timeout_seconds = l.OptInt32("inactivity_timeout_seconds");
    lim.grace_seconds = l.Int32("grace_seconds");
    lim.memory_bytes = l.OptInt("memory_bytes");
    lim.cpu_millicores = l.OptInt32("cpu_millicores");
    lim.disk_bytes = l.OptInt("disk_bytes");
    lim.pids_max = l.Int32("pids_max");
    lim.max_output_bytes = l.Int("max_output_bytes");
  }
  const std::string network = r.Str("network");
  if (r.ok()) {
    std::optional<NetworkPolicy> policy = ParseNetworkPolicy(network);
    if (!policy) {
      r.Fail("network", "must be none, allowlist or host");
    } else {
      spec.network = *policy;
    }
  }
  spec.allow = r.StrList("allow");
  if (const json::object* ro = r.Obj("repo", /*nullable=*/true)) {
    SpecReader g(
        *ro, "repo.",
        {"url", "branch", "pin", "cache_dir", "git_token", "git_token_url", "allow_private_hosts",
         "ssh_known_hosts", "local_repo_roots", "data_dir", "context_level", "task_arg_index"},
        error);
    RepoCheckout& co = spec.repo.emplace();
    co.url = g.Str("url");
    co.branch = g.OptStr("branch");
    co.pin = g.OptStr("pin");
    co.cache_dir = g.Str("cache_dir");
    co.git_token = g.OptStr("git_token");
    co.git_token_url = g.OptStr("git_token_url");
    co.allow_private_hosts = g.StrList("allow_private_hosts");
    co.ssh_known_hosts = g.Str("ssh_known_hosts");
    co.local_repo_roots = g.StrList("local_repo_roots");
    co.data_dir = g.Str("data_dir");
    co.context_level = g.Str("context_level");
    co.task_arg_index = g.OptInt32("task_arg_index");
  }
  if (const json::object* co = r.Obj("channel", /*nullable=*/true)) {
    SpecReader c(*co, "channel.", {"url", "token"}, error);
    spec.channel = ChannelAccess{c.Str("url"), c.Str("token")};
  }
  spec.verify = r.OptStr("verify");
  if (error) return *error;
  return spec;
}

}  // namespace outpost
