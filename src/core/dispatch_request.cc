#include "core/dispatch_request.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <regex>
#include <set>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "config/agent_network.h"
#include "core/agent_secrets.h"
#include "store/run_store.h"
#include "workspace/repo_spec.h"

namespace outpost {
namespace json = boost::json;
namespace {

const std::set<std::string> kKnownFields = {"agent", "task", "modelId", "repo", "branch", "context",
                                            "timeoutSeconds", "inactivityTimeoutSeconds",
                                            "workspaceMode", "idempotencyKey", "tags",
                                            "resourceConstraints", "network", "additionalSecrets",
                                            // The original's fields, mapped or refused with
                                            // what to use instead (LegacyFields below).
                                            "workspaceInitMode", "userId"};

// The original's model tiers (outpost-original-spec §3.1): the agent's configured models in
// order stand for them — flagship the first (the default), balanced the second, fast the last.
std::optional<std::string> TierModel(const AgentOptions& agent, const std::string& model) {
  const auto& m = agent.models;
  if (m.empty() || std::find(m.begin(), m.end(), model) != m.end()) return std::nullopt;
  if (model == "flagship") return m.front();
  if (model == "balanced") return m[std::min<std::size_t>(1, m.size() - 1)];
  if (model == "fast") return m.back();
  return std::nullopt;
}

bool IsTierAlias(std::string_view model) {
  return model == "flagship" || model == "balanced" || model == "fast";
}

// A double that is a whole number within int64 ("60.0", "1e2"). Checked before any cast: casting
// one outside the range (1e300, found by fuzz/dispatch_request_fuzzer) is undefined behaviour.
bool IsWholeInt64(double d) {
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d;
}

// Collects field errors so that one response lists them all.
class Checker {
 public:
  explicit Checker(const json::object& body) : body_(body) {}
  std::vector<FieldError>& errors() { return errors_; }
  void Fail(std::string path, std::string message) {
    errors_.push_back({std::move(path), std::move(message)});
  }

  // A string field of [min, max] code points; nullopt when absent or invalid.
  std::optional<std::string> String(std::string_view key, std::size_t min, std::size_t max,
                                    bool required = false) {
    auto it = body_.find(key);
    if (it == body_.end() || it->value().is_null()) {
      if (required) Fail(std::string(key), std::string(key) + " is required");
      return std::nullopt;
    }
    if (!it->value().is_string()) {
      Fail(std::string(key), std::string(key) + " must be a string");
      return std::nullopt;
    }
    std::string s(it->value().get_string());
    std::size_t n = Utf8Length(s);
    if (n < min || n > max) {
      Fail(std::string(key), std::string(key) + " must be " + std::to_string(min) + " to " +
                                 std::to_string(max) + " characters (got " + std::to_string(n) +
                                 ")");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> Enum(std::string_view key, const std::vector<std::string>& values) {
    auto s = String(key, 1, 64);
    if (!s) return std::nullopt;
    for (const auto& v : values) {
      if (v == *s) return s;
    }
    std::string list;
    for (const auto& v : values) list += (list.empty() ? "" : ", ") + v;
    Fail(std::string(key), std::string(key) + " must be one of: " + list);
    return std::nullopt;
  }

  std::optional<int> Int(const json::object& obj, std::string_view key, std::string path, int min,
                         int max) {
    auto it = obj.find(key);
    if (it == obj.end() || it->value().is_null()) return std::nullopt;
    const json::value& v = it->value();
    std::int64_t n = 0;
    if (v.is_int64()) {
      n = v.get_int64();
    } else if (v.is_uint64()) {
      n = v.get_uint64() > INT64_MAX ? INT64_MAX : static_cast<std::int64_t>(v.get_uint64());
    } else if (v.is_double() && IsWholeInt64(v.get_double())) {
      n = static_cast<std::int64_t>(v.get_double());
    } else {
      Fail(path, path + " must be an integer");
      return std::nullopt;
    }
    if (n < min || n > max) {
      Fail(path, path + " must be from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<int>(n);
  }

 private:
  const json::object& body_;
  std::vector<FieldError> errors_;
};

bool ValidBranch(const std::string& b) {
  // git check-ref-format, in brief.
  static const std::regex kRef(R"(^[A-Za-z0-9._/-]+$)");
  return std::regex_match(b, kRef) && b.front() != '-' && b.front() != '/' && b.back() != '/' &&
         b.back() != '.' && b.find("..") == std::string::npos &&
         b.find("//") == std::string::npos && !b.ends_with(".lock");
}

bool ValidKeyChars(const std::string& s, std::string_view extra) {
  for (unsigned char c : s) {
    if (!std::isalnum(c) && extra.find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void CheckTags(const json::object& body, Checker& c, Run& run) {
  auto it = body.find("tags");
  if (it == body.end() || it->value().is_null()) return;
  if (!it->value().is_object()) {
    c.Fail("tags", "tags must be an object of string values");
    return;
  }
  const auto& tags = it->value().get_object();
  if (tags.size() > 50) c.Fail("tags", "at most 50 tags");
  for (const auto& kv : tags) {
    std::string key(kv.key());
    std::string path = "tags." + key;
    if (key.empty() || key.size() > 128 || !ValidKeyChars(key, "_.-/")) {
      c.Fail(path, "tag keys are 1 to 128 characters of letters, digits, _ . - /");
    } else if (!kv.value().is_string()) {
      c.Fail(path, "tag values must be strings");
    } else if (Utf8Length(kv.value().get_string()) > 256) {
      c.Fail(path, "tag values are at most 256 characters");
    } else {
      run.tags[key] = std::string(kv.value().get_string());
    }
  }
}

void CheckResources(const json::object& body, Checker& c, Run& run) {
  auto it = body.find("resourceConstraints");
  if (it == body.end() || it->value().is_null()) return;
  if (!it->value().is_object()) {
    c.Fail("resourceConstraints", "resourceConstraints must be an object");
    return;
  }
  const auto& rc = it->value().get_object();
  for (const auto& kv : rc) {
    std::string k(kv.key());
    if (k != "maxMemoryMb" && k != "maxCpuUnits" && k != "maxDiskGb") {
      c.Fail("resourceConstraints." + k, "unknown field");
    }
  }
  run.resources.max_memory_mb =
      c.Int(rc, "maxMemoryMb", "resourceConstraints.maxMemoryMb", 32, 262144);
  run.resources.max_cpu_units =
      c.Int(rc, "maxCpuUnits", "resourceConstraints.maxCpuUnits", 64, 65536);
  run.resources.max_disk_gb = c.Int(rc, "maxDiskGb", "resourceConstraints.maxDiskGb", 1, 2048);
}

void CheckSecrets(const json::object& body, Checker& c, Run& run, const SecretStore* secrets,
                  const std::map<std::string, std::string>& git_hosts) {
  auto it = body.find("additionalSecrets");
  if (it == body.end() || it->value().is_null()) return;
  if (!it->value().is_array()) {
    c.Fail("additionalSecrets", "additionalSecrets must be an array of secret names");
    return;
  }
  static const std::regex kName(R"(^[A-Z][A-Z0-9_]{0,127}$)");
  const auto& arr = it->value().get_array();
  if (arr.size() > 50) c.Fail("additionalSecrets", "at most 50 secrets");
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string path = "additionalSecrets[" + std::to_string(i) + "]";
    if (!arr[i].is_string() || !std::regex_match(std::string(arr[i].get_string()), kName)) {
      c.Fail(path, "secret names match ^[A-Z][A-Z0-9_]*$ (at most 128 characters)");
      continue;
    }
    std::string name(arr[i].get_string());
    // A git host's token ([git.hosts]) is as protected as GITHUB_TOKEN: it leaves this machine
    // only for its own host, never into a sandbox.
    const bool git_token = std::any_of(git_hosts.begin(), git_hosts.end(),
                                       [&](const auto& host) { return host.second == name; });
    if (IsProtectedSecretName(name) || git_token) {
      c.Fail(path, "secret " + name +
                       " is protected: cloud credentials, agent API keys and git host tokens "
                       "are not delivered through additionalSecrets");
    } else if (!secrets || !secrets->Has(name)) {
      c.Fail(path, "secret " + name + " is not configured on this server");
    } else if (std::find(run.additional_secrets.begin(), run.additional_secrets.end(), name) ==
               run.additional_secrets.end()) {
      run.additional_secrets.push_back(std::move(name));
    }
  }
}

// The original's request fields that old clients still send: accepted where the meaning
// carries over, otherwise refused saying what to use instead.
void LegacyFields(const json::object& body, Checker& c, const Run& run) {
  // full: a clone (what every run with a repo gets); none: an empty workspace (a run without a
  // repo); minimal: a sparse checkout, which Outpost does not make.
  if (auto mode = c.Enum("workspaceInitMode", {"full", "minimal", "none"})) {
    if (*mode == "minimal") {
      c.Fail("workspaceInitMode",
             "workspaceInitMode 'minimal' (a sparse checkout) is not supported: leave "
             "workspaceInitMode out for a full checkout of repo");
    } else if (*mode == "none" && run.repo) {
      c.Fail("workspaceInitMode",
             "workspaceInitMode 'none' is an empty workspace: leave out repo (and "
             "workspaceInitMode) instead");
    }
  }
  // The original ignored it too: the caller is whoever the API key belongs to.
  if (body.contains("userId")) {
    c.Fail("userId",
           "userId is not accepted: a run belongs to the tenant of the API key that dispatches "
           "it; leave userId out (to label runs by user, use tags, e.g. tags.userId)");
  }
}

// The normalized request: every accepted field in a fixed order, defaults applied.
std::string RequestHash(const Run& r) {
  json::object o;
  o["agent"] = r.agent;
  o["task"] = r.task;
  o["modelId"] = r.model_id;
  o["repo"] = r.repo ? json::value(*r.repo) : nullptr;
  o["branch"] = r.branch ? json::value(*r.branch) : nullptr;
  o["context"] = r.context;
  o["timeoutSeconds"] = r.timeout_seconds;
  o["inactivityTimeoutSeconds"] =
      r.inactivity_timeout_seconds ? json::value(*r.inactivity_timeout_seconds) : nullptr;
  o["workspaceMode"] = r.workspace_mode;
  o["network"] = r.network;
  json::object tags;
  for (const auto& [k, v] : r.tags) tags[k] = v;  // std::map: sorted
  o["tags"] = std::move(tags);
  o["mem"] = r.resources.max_memory_mb.value_or(-1);
  o["cpu"] = r.resources.max_cpu_units.value_or(-1);
  o["disk"] = r.resources.max_disk_gb.value_or(-1);
  o["secrets"] = json::value_from(r.additional_secrets);
  return Sha256Hex(json::serialize(o));
}

}  // namespace

std::size_t Utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

Result<Run> ParseDispatchRequest(const json::value& body,
                                 const std::optional<std::string>& idempotency_header,
                                 const AgentRegistry& agents, const Options& opts,
                                 const SecretStore* secrets) {
  if (!body.is_object()) {
    return Status::Invalid({{"", "the request body must be a JSON object"}});
  }
  const auto& o = body.get_object();
  Checker c(o);
  for (const auto& kv : o) {
    if (!kKnownFields.count(std::string(kv.key()))) {
      c.Fail(std::string(kv.key()), "unknown field");
    }
  }
  Run run;
  const AgentOptions* agent = nullptr;
  if (auto name = c.String("agent", 1, 64, true)) {
    agent = agents.Find(*name);
    if (!agent) {
      std::string list;
      for (const auto& a : agents.Available()) list += (list.empty() ? "" : ", ") + a;
      c.Fail("agent", "unknown agent '" + *name + "'; available agents: " + list);
    } else if (AgentAvailability av = agents.Availability(*agent); !av.available) {
      c.Fail("agent", "agent '" + *name + "' is not available on this server: " + av.reason);
    } else {
      run.agent = *name;
    }
  }
  if (auto task = c.String("task", 1, kMaxTaskChars, true)) run.task = *task;
  auto model = c.String("modelId", 1, 100);
  if (agent && model) model = TierModel(*agent, *model).value_or(*model);
  if (agent && (model || !o.contains("modelId") || o.at("modelId").is_null())) {
    auto resolved = agents.ResolveModel(*agent, model);
    if (resolved.ok()) {
      run.model_id = *resolved;
    } else {
      c.Fail(
          "modelId", resolved.status().message() + " (valid: " + [&] {
            std::string l;
            for (const auto& m : agent->models) l += (l.empty() ? "" : ", ") + m;
            return l;
          }() + ")");
    }
  }
  if (auto repo = c.String("repo", 1, 500)) {
    if (auto spec = workspace::ParseRepoSpec(*repo, opts.allow_local_repos); spec.ok()) {
      // Audit F9: a local path only under an operator's root, never in the data dir (checked
      // again, and the real path cloned, when the run starts).
      if (auto local = spec->local ? workspace::ResolveLocalRepo(spec->url, opts.local_repo_roots,
                                                                 opts.data_dir)
                                   : Result<std::string>(spec->url);
          local.ok()) {
        run.repo = repo;
      } else {
        c.Fail("repo", local.status().message());
      }
    } else {
      c.Fail("repo", spec.status().message());
    }
  }
  if (auto branch = c.String("branch", 1, 255)) {
    if (ValidBranch(*branch)) {
      run.branch = branch;
    } else {
      c.Fail("branch", "branch is not a valid git branch name");
    }
  }
  if (auto ctx = c.Enum("context", {"minimal", "standard", "full"})) run.context = *ctx;
  run.timeout_seconds =
      c.Int(o, "timeoutSeconds", "timeoutSeconds", 1, 86400).value_or(opts.default_timeout_seconds);
  run.inactivity_timeout_seconds =
      c.Int(o, "inactivityTimeoutSeconds", "inactivityTimeoutSeconds", 1, 86400);
  if (auto mode = c.Enum("workspaceMode", {"ephemeral", "persistent"})) {
    if (*mode == "persistent") {
      c.Fail("workspaceMode", "persistent workspaces are not available on this server");
    }
  }
  if (auto net = c.Enum("network", {"none", "allowlist", "host"})) {
    if (*net == "allowlist" && opts.runner != "sandbox") {
      c.Fail("network", "network policy 'allowlist' needs the sandbox runner");
    } else if (*net == "host" && !(opts.runner == "sandbox" && opts.sandbox.allow_host_network)) {
      c.Fail("network",
             "network policy 'host' is not enabled on this server "
             "(sandbox.allow_host_network)");
    } else {
      run.network = *net;
    }
  } else if (agent && opts.runner == "sandbox") {
    run.network = config::DefaultNetwork(*agent);  // the agent's own policy (its model API)
  }
  LegacyFields(o, c, run);
  auto key = c.String("idempotencyKey", 1, 128);
  if (idempotency_header) {
    if (idempotency_header->empty() || idempotency_header->size() > 128) {
      c.Fail("Idempotency-Key", "the Idempotency-Key header must be 1 to 128 characters");
    } else if (key && *key != *idempotency_header) {
      c.Fail("idempotencyKey", "differs from the Idempotency-Key header");
    } else {
      key = idempotency_header;
    }
  }
  run.idempotency_key = key;
  CheckTags(o, c, run);
  CheckResources(o, c, run);
  if (agent) {  // the agent's configured defaults fill what the dispatch left out
    auto& rc = run.resources;
    if (!rc.max_memory_mb) rc.max_memory_mb = agent->max_memory_mb;
    if (!rc.max_cpu_units) rc.max_cpu_units = agent->max_cpu_units;
    if (!rc.max_disk_gb) rc.max_disk_gb = agent->max_disk_gb;
  }
  CheckSecrets(o, c, run, secrets, opts.git_hosts);
  if (agent && !run.agent.empty()) {  // an installed agent may still lack its API key
    if (auto why = MissingSecretReason(*agent, secrets, opts.secrets_dir)) c.Fail("agent", *why);
  }
  if (!c.errors().empty()) return Status::Invalid(c.errors());
  run.request_hash = RequestHash(run);
  return run;
}

namespace {

constexpr std::size_t kMaxFanOut = 16;

// The agents of a fan-out ("all" or a list); nullopt when `agent` names a single agent.
std::optional<std::vector<std::string>> FanOutAgents(const json::object& o,
                                                     const AgentRegistry& agents,
                                                     const Options& opts,
                                                     const SecretStore* secrets,
                                                     std::vector<FieldError>& errors) {
  auto it = o.find("agent");
  if (it == o.end()) return std::nullopt;
  const json::value& v = it->value();
  if (v.is_string() && v.get_string() == "all") {
    // Installed and with their secrets: "all" means the agents that can run here.
    std::vector<std::string> names;
    for (auto& n : agents.AvailableCodingAgents()) {
      if (!MissingSecretReason(*agents.Find(n), secrets, opts.secrets_dir)) {
        names.push_back(std::move(n));
      }
    }
    if (names.empty()) errors.push_back({"agent", "no coding agent is available on this server"});
    return names;
  }
  if (!v.is_array()) return std::nullopt;
  std::vector<std::string> names;
  const auto& arr = v.get_array();
  if (arr.empty() || arr.size() > kMaxFanOut) {
    errors.push_back(
        {"agent", "a list of agents has 1 to " + std::to_string(kMaxFanOut) + " names"});
  }
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string path = "agent[" + std::to_string(i) + "]";
    if (!arr[i].is_string()) {
      errors.push_back({path, "agent names are strings"});
      continue;
    }
    std::string name(arr[i].get_string());
    const AgentOptions* a = agents.Find(name);
    if (!a) {
      errors.push_back({path, "unknown agent '" + name + "'"});
    } else if (AgentAvailability av = agents.Availability(*a); !av.available) {
      errors.push_back(
          {path, "agent '" + name + "' is not available on this server: " + av.reason});
    } else if (std::find(names.begin(), names.end(), name) != names.end()) {
      errors.push_back({path, "agent '" + name + "' is listed twice"});
    } else {
      names.push_back(std::move(name));
    }
  }
  return names;
}

}  // namespace

Result<ParsedDispatch> ParseDispatchRequests(const json::value& body,
                                             const std::optional<std::string>& idempotency_header,
                                             const AgentRegistry& agents, const Options& opts,
                                             const SecretStore* secrets) {
  std::vector<FieldError> errors;
  std::optional<std::vector<std::string>> names;
  if (body.is_object()) names = FanOutAgents(body.get_object(), agents, opts, secrets, errors);
  if (!names) {
    auto run = ParseDispatchRequest(body, idempotency_header, agents, opts, secrets);
    if (!run.ok()) return run.status();
    return ParsedDispatch{{std::move(*run)}, false};
  }
  const auto& o = body.get_object();
  // A tier alias (flagship, balanced, fast) means each agent's own model of that tier.
  if (auto m = o.find("modelId"); m != o.end() && m->value().is_string() && names->size() > 1 &&
                                  !IsTierAlias(m->value().get_string())) {
    std::string model(m->value().get_string()), lacking;
    for (const auto& n : *names) {
      const auto& models = agents.Find(n)->models;
      if (std::find(models.begin(), models.end(), model) == models.end()) {
        lacking += (lacking.empty() ? "" : ", ") + n;
      }
    }
    if (!lacking.empty()) {
      errors.push_back({"modelId", "modelId '" + model +
                                       "' is ambiguous with several agents: " + lacking +
                                       " do(es) not have it; leave it out to use each "
                                       "agent's default"});
    }
  }
  if (!errors.empty()) return Status::Invalid(errors);
  ParsedDispatch out{{}, true};
  for (const auto& name : *names) {
    json::object one = o;
    one["agent"] = name;
    auto run = ParseDispatchRequest(one, idempotency_header, agents, opts, secrets);
    if (!run.ok()) return run.status();
    // One idempotency key covers the group: each run's own key is derived from it.
    if (run->idempotency_key) *run->idempotency_key += "#" + name;
    out.runs.push_back(std::move(*run));
  }
  return out;
}

Result<ListQuery> ParseListParams(const std::multimap<std::string, std::string>& params) {
  ListQuery q;
  std::vector<FieldError> errors;
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      int n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || n < 1 || n > 100) {
        errors.push_back({"limit", "limit must be an integer from 1 to 100"});
      } else {
        q.limit = n;
      }
    } else if (key == "cursor") {
      if (value.empty() || value.size() > 512) {
        errors.push_back({"cursor", "invalid cursor"});
      } else {
        q.cursor = value;
      }
    } else if (key == "status") {
      std::string up = value;
      for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (auto st = ParseRunStatus(up)) {
        q.status = st;
      } else {
        errors.push_back(
            {"status",
             "status must be one of PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED"});
      }
    } else if (key == "agent" || key == "repo" || key == "group") {
      if (value.empty() || value.size() > 500) {
        errors.push_back({key, key + " must be 1 to 500 characters"});
      } else {
        // A group id is a ULID: any case names the same group.
        (key == "agent"  ? q.agent
         : key == "repo" ? q.repo
                         : q.group_id) = key == "group" ? CanonicalUlid(value) : value;
      }
    } else if (key == "since") {
      if (auto t = ParseTime(value)) {
        q.since = t;
      } else {
        errors.push_back({"since", "since must be an ISO 8601 time, e.g. 2026-01-13T00:00:00Z"});
      }
    } else if (key == "tag") {
      auto colon = value.find(':');
      if (colon == std::string::npos || colon == 0 || q.tags.size() >= 20) {
        errors.push_back({"tag", "tag must be key:value (at most 20)"});
      } else {
        q.tags.emplace_back(value.substr(0, colon), value.substr(colon + 1));
      }
    } else {
      errors.push_back({key, "unknown parameter"});
    }
  }
  if (!errors.empty()) return Status::Invalid(errors);
  return q;
}

}  // namespace outpost
