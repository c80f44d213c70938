#include "core/dispatch_request.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <regex>
#include <set>

#include "agents/outcome.h"
#include "common/crypto.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "config/agent_network.h"
#include "core/agent_secrets.h"
#include "workspace/repo_spec.h"

namespace outpost {
namespace json = boost::json;
namespace {

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

using F = DispatchField;

// Collects value errors so that one response lists them all, with the decoder's: each error is
// placed by its field (and element), the order details.errors[] has always had.
class Checker {
 public:
  explicit Checker(const DispatchRequest& req) : req_(req) {}

  // Where the next errors belong.
  void At(F field, int element = 0) {
    field_ = field;
    element_ = element;
  }
  void Fail(std::string path, std::string message) {
    errors_.push_back({field_, element_, {std::move(path), std::move(message)}});
  }
  // The decoder's error at the current place is not listed (one error said it all).
  void Supersede() { superseded_.emplace_back(field_, element_); }
  // No error of its own, nor of the decoder's (of `only`, when given).
  bool ok(std::optional<F> only = std::nullopt) const {
    return errors_.empty() &&
           std::none_of(req_.errors.begin(), req_.errors.end(),
                        [&](const auto& e) { return !only || e.field == *only; });
  }

  // A string of [min, max] code points; nullopt when absent or invalid.
  std::optional<std::string> String(F field, std::string_view key,
                                    const std::optional<std::string>& value, std::size_t min,
                                    std::size_t max, bool required = false) {
    At(field);
    if (!value) {  // a value of another type is the decoder's error
      if (required && !req_.HasError(field)) {
        Fail(std::string(key), std::string(key) + " is required");
      }
      return std::nullopt;
    }
    std::size_t n = Utf8Length(*value);
    if (n < min || n > max) {
      Fail(std::string(key), std::string(key) + " must be " + std::to_string(min) + " to " +
                                 std::to_string(max) + " characters (got " + std::to_string(n) +
                                 ")");
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::string> Enum(F field, std::string_view key,
                                  const std::optional<std::string>& value,
                                  const std::vector<std::string>& values) {
    auto s = String(field, key, value, 1, 64);
    if (!s) return std::nullopt;
    for (const auto& v : values) {
      if (v == *s) return s;
    }
    std::string list;
    for (const auto& v : values) list += (list.empty() ? "" : ", ") + v;
    Fail(std::string(key), std::string(key) + " must be one of: " + list);
    return std::nullopt;
  }

  std::optional<int> Int(F field, int element, const std::string& path, std::optional<int> value,
                         int min, int max) {
    At(field, element);
    if (!value) return std::nullopt;
    if (*value < min || *value > max) {
      Fail(path, path + " must be from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return value;
  }

  // Every error, the decoder's (only those of `only`, when given) with these, in field order.
  Status Done(std::optional<F> only = std::nullopt) const {
    std::vector<DispatchFieldError> all = errors_;
    for (const auto& e : req_.errors) {
      const bool superseded = std::find(superseded_.begin(), superseded_.end(),
                                        std::pair(e.field, e.element)) != superseded_.end();
      if ((!only || e.field == *only) && !superseded) all.push_back(e);
    }
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return std::pair(a.field, a.element) < std::pair(b.field, b.element);
    });
    std::vector<FieldError> out;
    for (auto& e : all) out.push_back(std::move(e.error));
    return Status::Invalid(out);
  }

 private:
  const DispatchRequest& req_;
  std::vector<DispatchFieldError> errors_;
  std::vector<std::pair<F, int>> superseded_;
  F field_ = F::kUnknown;
  int element_ = 0;
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

void CheckTags(const DispatchRequest& req, Checker& c, Run& run) {
  if (!req.tags) return;
  c.At(F::kTags);
  if (req.tags->size() > 50) c.Fail("tags", "at most 50 tags");
  int i = 0;
  for (const auto& [key, value] : *req.tags) {
    c.At(F::kTags, ++i);
    std::string path = "tags." + key;
    if (key.empty() || key.size() > 128 || !ValidKeyChars(key, "_.-/")) {
      c.Fail(path, "tag keys are 1 to 128 characters of letters, digits, _ . - /");
      c.Supersede();  // a bad key is the tag's one error, whatever its value
    } else if (!value) {
      continue;  // not a string: the decoder's error
    } else if (Utf8Length(*value) > 256) {
      c.Fail(path, "tag values are at most 256 characters");
    } else {
      run.tags[key] = *value;
    }
  }
}

// Audit F6: a run always has memory, CPU and disk limits — the dispatch's, else its agent's
// defaults, else [limits] default_* — and none above the operator's [limits] ceiling_*.
void CheckResources(const DispatchRequest& req, Checker& c, const AgentOptions* agent,
                    const RunLimitOptions& limits, Run& run) {
  constexpr F kRc = F::kResourceConstraints;
  struct Row {
    int element;
    const char* path;
    std::optional<int> requested;
    int min, max;
    int ceiling;
    const char* ceiling_key;
    std::optional<int> agent_default;
    int default_value;
    std::optional<int>& out;
  };
  auto& rc = run.resources;
  Row rows[] = {
      {1, "resourceConstraints.maxMemoryMb", req.max_memory_mb, 32, 262144,
       limits.ceiling_memory_mb, "ceiling_memory_mb", agent ? agent->max_memory_mb : std::nullopt,
       limits.default_memory_mb, rc.max_memory_mb},
      {2, "resourceConstraints.maxCpuUnits", req.max_cpu_units, 64, 65536, limits.ceiling_cpu_units,
       "ceiling_cpu_units", agent ? agent->max_cpu_units : std::nullopt, limits.default_cpu_units,
       rc.max_cpu_units},
      {3, "resourceConstraints.maxDiskGb", req.max_disk_gb, 1, 2048, limits.ceiling_disk_gb,
       "ceiling_disk_gb", agent ? agent->max_disk_gb : std::nullopt, limits.default_disk_gb,
       rc.max_disk_gb},
  };
  for (Row& r : rows) {
    std::optional<int> v = c.Int(kRc, r.element, r.path, r.requested, r.min, r.max);
    if (v && *v > r.ceiling) {
      c.Fail(r.path, std::string(r.path) + " " + std::to_string(*v) +
                         " is above this server's ceiling of " + std::to_string(r.ceiling) +
                         " ([limits] " + r.ceiling_key + ")");
      v.reset();
    }
    // The config loader keeps agent defaults within the ceilings; min() holds for options
    // built in code.
    r.out = v ? v : std::min(r.agent_default.value_or(r.default_value), r.ceiling);
  }
}

void CheckSecrets(const DispatchRequest& req, Checker& c, Run& run, const SecretStore* secrets,
                  const std::set<std::string>& git_tokens) {
  if (!req.additional_secrets) return;
  static const std::regex kName(R"(^[A-Z][A-Z0-9_]{0,127}$)");
  const auto& names = *req.additional_secrets;
  c.At(F::kAdditionalSecrets);
  if (names.size() > 50) c.Fail("additionalSecrets", "at most 50 secrets");
  for (std::size_t i = 0; i < names.size(); ++i) {
    c.At(F::kAdditionalSecrets, static_cast<int>(i) + 1);
    if (!names[i]) continue;  // not a string: the decoder's error
    std::string path = "additionalSecrets[" + std::to_string(i) + "]";
    const std::string& name = *names[i];
    if (!std::regex_match(name, kName)) {
      c.Fail(path, "secret names match ^[A-Z][A-Z0-9_]*$ (at most 128 characters)");
      continue;
    }
    // A git host's token ([git.hosts], any tenant's [git.tenants]) is as protected as
    // GITHUB_TOKEN: it leaves this machine only for its own host, never into a sandbox.
    const bool git_token = git_tokens.contains(name);
    if (IsProtectedSecretName(name) || git_token) {
      c.Fail(path, "secret " + name +
                       " is protected: cloud credentials, agent API keys and git host tokens "
                       "are not delivered through additionalSecrets");
    } else if (!secrets || !secrets->Has(name)) {
      c.Fail(path, "secret " + name + " is not configured on this server");
    } else if (std::find(run.additional_secrets.begin(), run.additional_secrets.end(), name) ==
               run.additional_secrets.end()) {
      run.additional_secrets.push_back(name);
    }
  }
}

// The original's request fields that old clients still send: accepted where the meaning
// carries over, otherwise refused saying what to use instead.
void LegacyFields(const DispatchRequest& req, Checker& c, const Run& run) {
  // full: a clone (what every run with a repo gets); none: an empty workspace (a run without a
  // repo); minimal: a sparse checkout, which Outpost does not make.
  if (auto mode = c.Enum(F::kWorkspaceInitMode, "workspaceInitMode", req.workspace_init_mode,
                         {"full", "minimal", "none"})) {
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
  if (req.user_id_given) {
    c.At(F::kUserId);
    c.Fail("userId",
           "userId is not accepted: a run belongs to the tenant of the API key that dispatches "
           "it; leave userId out (to label runs by user, use tags, e.g. tags.userId)");
  }
}

// The request's model and its repo, branch and network (checked against the server's policy).
void CheckModel(const DispatchRequest& req, Checker& c, const AgentOptions* agent,
                const AgentRegistry& agents, Run& run) {
  auto model = c.String(F::kModelId, "modelId", req.model_id, 1, 100);
  if (agent && model) model = TierModel(*agent, *model).value_or(*model);
  // Given but not valid: its error is listed already. Absent: the agent's default.
  if (!agent || (!model && (req.model_id || req.HasError(F::kModelId)))) return;
  auto resolved = agents.ResolveModel(*agent, model);
  if (resolved.ok()) {
    run.model_id = *resolved;
    return;
  }
  std::string valid;
  for (const auto& m : agent->models) valid += (valid.empty() ? "" : ", ") + m;
  c.Fail("modelId", resolved.status().message() + " (valid: " + valid + ")");
}

void CheckRepo(const DispatchRequest& req, Checker& c, const Options& opts, Run& run) {
  if (auto repo = c.String(F::kRepo, "repo", req.repo, 1, 500)) {
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
  if (auto branch = c.String(F::kBranch, "branch", req.branch, 1, 255)) {
    if (ValidBranch(*branch)) {
      run.branch = branch;
    } else {
      c.Fail("branch", "branch is not a valid git branch name");
    }
  }
}

void CheckNetwork(const DispatchRequest& req, Checker& c, const AgentOptions* agent,
                  const Options& opts, Run& run) {
  if (auto net = c.Enum(F::kNetwork, "network", req.network, {"none", "allowlist", "host"})) {
    // An isolating runner (the sandbox, or a container) can restrict the network.
    const RunnerKind kind = agent ? opts.RunnerFor(agent->name) : opts.runner;
    const bool sandbox = kind != RunnerKind::kProcess;
    const std::optional<NetworkPolicy> policy = ParseNetworkPolicy(*net);  // one of Enum's
    if (policy == NetworkPolicy::kAllowlist && !sandbox) {
      c.Fail("network", "network policy 'allowlist' needs the sandbox or docker runner");
    } else if (policy == NetworkPolicy::kHost && !(sandbox && opts.sandbox.allow_host_network)) {
      c.Fail("network",
             "network policy 'host' is not enabled on this server "
             "(sandbox.allow_host_network)");
    } else if (policy) {
      run.network = *policy;
    }
  } else if (agent && opts.RunnerFor(agent->name) != RunnerKind::kProcess) {
    // The agent's own policy (its model API); its config was validated.
    run.network = ParseNetworkPolicy(config::DefaultNetwork(*agent)).value_or(NetworkPolicy::kNone);
  }
}

// maxCostUsd: a positive number of USD, at most the operator's [limits] max_cost_usd; absent,
// the operator's default_max_cost_usd (or none).
void CheckMaxCost(const DispatchRequest& req, Checker& c, const Options& opts, Run& run) {
  c.At(F::kMaxCostUsd);
  if (!req.max_cost_usd) {
    run.max_cost_usd = opts.default_max_cost_usd;
    return;
  }
  const double usd = *req.max_cost_usd;
  if (!(usd > 0) || !std::isfinite(usd)) {
    c.Fail("maxCostUsd", "maxCostUsd must be a positive number of USD");
  } else if (opts.max_cost_usd && usd > *opts.max_cost_usd) {
    c.Fail("maxCostUsd", "maxCostUsd must be at most " + FormatUsd(*opts.max_cost_usd) +
                             " (the server's [limits] max_cost_usd)");
  } else {
    run.max_cost_usd = usd;
  }
}

// verify: a shell command line run after the agent, in its workspace (a check of the repository
// the agent changed: a run without a repo has nothing to check).
void CheckVerify(const DispatchRequest& req, Checker& c, Run& run) {
  auto cmd = c.String(F::kVerify, "verify", req.verify, 1, kMaxVerifyChars);
  if (!cmd) return;
  if (cmd->find('\0') != std::string::npos) {
    c.Fail("verify", "verify must not contain NUL characters");
  } else if (!run.repo && !req.repo) {
    c.Fail("verify", "verify needs a repo: the check runs in the run's checkout after the agent");
  } else {
    run.verify = cmd;
  }
}

void CheckIdempotency(const DispatchRequest& req, Checker& c, Run& run) {
  auto key = c.String(F::kIdempotencyKey, "idempotencyKey", req.idempotency_key, 1, 128);
  if (const auto& header = req.idempotency_header) {
    c.At(F::kIdempotencyKey, 1);
    if (header->empty() || header->size() > 128) {
      c.Fail("Idempotency-Key", "the Idempotency-Key header must be 1 to 128 characters");
    } else if (key && *key != *header) {
      c.Fail("idempotencyKey", "differs from the Idempotency-Key header");
    } else {
      key = header;
    }
  }
  run.idempotency_key = key;
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
  o["network"] = ToString(r.network);
  json::object tags;
  for (const auto& [k, v] : r.tags) tags[k] = v;  // std::map: sorted
  o["tags"] = std::move(tags);
  o["mem"] = r.resources.max_memory_mb.value_or(-1);
  o["cpu"] = r.resources.max_cpu_units.value_or(-1);
  o["disk"] = r.resources.max_disk_gb.value_or(-1);
  o["secrets"] = json::value_from(r.additional_secrets);
  // Only when set: the hash of a request without a ceiling stays what it was.
  if (r.max_cost_usd) o["maxCostUsd"] = *r.max_cost_usd;
  if (r.verify) o["verify"] = *r.verify;
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

Result<Run> ValidateDispatchRequest(const DispatchRequest& req, const AgentRegistry& agents,
                                    const Options& opts, const SecretStore* secrets) {
  Checker c(req);
  if (!c.ok(F::kBody)) return c.Done(F::kBody);
  Run run;
  const AgentOptions* agent = nullptr;
  if (auto name = c.String(F::kAgent, "agent", req.agent, 1, 64, true)) {
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
  if (auto task = c.String(F::kTask, "task", req.task, 1, kMaxTaskChars, true)) run.task = *task;
  CheckModel(req, c, agent, agents, run);
  CheckRepo(req, c, opts, run);
  if (auto ctx = c.Enum(F::kContext, "context", req.context, {"minimal", "standard", "full"})) {
    run.context = *ctx;
  }
  run.timeout_seconds =
      c.Int(F::kTimeoutSeconds, 0, "timeoutSeconds", req.timeout_seconds, 1, 86400)
          .value_or(opts.default_timeout_seconds);
  run.inactivity_timeout_seconds =
      c.Int(F::kInactivityTimeoutSeconds, 0, "inactivityTimeoutSeconds",
            req.inactivity_timeout_seconds, 1, 86400);
  if (auto mode = c.Enum(F::kWorkspaceMode, "workspaceMode", req.workspace_mode,
                         {"ephemeral", "persistent"});
      mode == "persistent") {
    c.Fail("workspaceMode", "persistent workspaces are not available on this server");
  }
  CheckMaxCost(req, c, opts, run);
  CheckNetwork(req, c, agent, opts, run);
  LegacyFields(req, c, run);
  CheckIdempotency(req, c, run);
  CheckTags(req, c, run);
  CheckResources(req, c, agent, opts.run_limits, run);
  CheckSecrets(req, c, run, secrets, workspace::GitTokenSecrets(GitTokensOf(opts)));
  CheckVerify(req, c, run);
  if (agent && !run.agent.empty()) {  // an installed agent may still lack its API key
    c.At(F::kAgentSecrets);
    if (auto why = MissingSecretReason(*agent, secrets, opts.secrets_dir)) c.Fail("agent", *why);
  }
  if (!c.ok()) return c.Done();
  run.request_hash = RequestHash(run);
  return run;
}
namespace {

constexpr std::size_t kMaxFanOut = 16;

// The agents of a fan-out ("all" or a list); nullopt when `agent` names a single agent.
std::optional<std::vector<std::string>> FanOutAgents(const DispatchRequest& req,
                                                     const AgentRegistry& agents,
                                                     const Options& opts,
                                                     const SecretStore* secrets, Checker& c) {
  c.At(F::kAgent);
  if (req.agent == "all") {
    // Installed and with their secrets: "all" means the agents that can run here.
    std::vector<std::string> names;
    for (auto& n : agents.AvailableCodingAgents()) {
      if (!MissingSecretReason(*agents.Find(n), secrets, opts.secrets_dir)) {
        names.push_back(std::move(n));
      }
    }
    if (names.empty()) c.Fail("agent", "no coding agent is available on this server");
    return names;
  }
  if (!req.agent_list) return std::nullopt;
  std::vector<std::string> names;
  const auto& list = *req.agent_list;
  if (list.empty() || list.size() > kMaxFanOut) {
    c.Fail("agent", "a list of agents has 1 to " + std::to_string(kMaxFanOut) + " names");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    c.At(F::kAgent, static_cast<int>(i) + 1);
    if (!list[i]) continue;  // not a string: the decoder's error
    std::string path = "agent[" + std::to_string(i) + "]";
    const std::string& name = *list[i];
    const AgentOptions* a = agents.Find(name);
    if (!a) {
      c.Fail(path, "unknown agent '" + name + "'");
    } else if (AgentAvailability av = agents.Availability(*a); !av.available) {
      c.Fail(path, "agent '" + name + "' is not available on this server: " + av.reason);
    } else if (std::find(names.begin(), names.end(), name) != names.end()) {
      c.Fail(path, "agent '" + name + "' is listed twice");
    } else {
      names.push_back(name);
    }
  }
  return names;
}

}  // namespace

Result<ParsedDispatch> ValidateDispatchRequests(const DispatchRequest& req,
                                                const AgentRegistry& agents, const Options& opts,
                                                const SecretStore* secrets) {
  Checker c(req);
  std::optional<std::vector<std::string>> names;
  if (!req.HasError(F::kBody)) names = FanOutAgents(req, agents, opts, secrets, c);
  if (!names) {
    auto run = ValidateDispatchRequest(req, agents, opts, secrets);
    if (!run.ok()) return run.status();
    return ParsedDispatch{{std::move(*run)}, false};
  }
  // A tier alias (flagship, balanced, fast) means each agent's own model of that tier.
  if (req.model_id && names->size() > 1 && !IsTierAlias(*req.model_id)) {
    const std::string& model = *req.model_id;
    std::string lacking;
    for (const auto& n : *names) {
      const auto& models = agents.Find(n)->models;
      if (std::find(models.begin(), models.end(), model) == models.end()) {
        lacking += (lacking.empty() ? "" : ", ") + n;
      }
    }
    if (!lacking.empty()) {
      c.At(F::kModelId);
      c.Fail("modelId", "modelId '" + model + "' is ambiguous with several agents: " + lacking +
                            " do(es) not have it; leave it out to use each agent's default");
    }
  }
  // Only the agents' errors (and the model's) so far: the rest is judged per agent below.
  if (!c.ok(F::kAgent)) return c.Done(F::kAgent);
  ParsedDispatch out{{}, true};
  for (const auto& name : *names) {
    DispatchRequest one = req;
    one.agent = name;
    one.agent_list.reset();
    auto run = ValidateDispatchRequest(one, agents, opts, secrets);
    if (!run.ok()) return run.status();
    // One idempotency key covers the group: each run's own key is derived from it.
    if (run->idempotency_key) *run->idempotency_key += "#" + name;
    out.runs.push_back(std::move(*run));
  }
  return out;
}

}  // namespace outpost
