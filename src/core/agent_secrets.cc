#include "core/agent_secrets.h"

#include <algorithm>
#include <array>

#include "secrets/redactor.h"

namespace outpost {
namespace {

constexpr std::array<std::string_view, 12> kProtected = {
    "AWS_ACCESS_KEY_ID",  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
    "AWS_DEFAULT_REGION", "ANTHROPIC_API_KEY",     "OPENAI_API_KEY",    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",     "DEEPSEEK_API_KEY",      "XAI_API_KEY",       "GITHUB_TOKEN"};

void AddRedaction(RunSpec& spec, const std::string& value) {
  if (std::find(spec.redact.begin(), spec.redact.end(), value) == spec.redact.end()) {
    spec.redact.push_back(value);
  }
}

}  // namespace

bool IsProtectedSecretName(std::string_view name) {
  return std::find(kProtected.begin(), kProtected.end(), name) != kProtected.end();
}

std::optional<std::string> MissingSecretReason(const AgentOptions& agent,
                                               const SecretStore* secrets,
                                               const std::string& secrets_dir) {
  for (const auto& name : agent.required_secrets) {
    if (agent.env.count(name)) continue;  // the operator put it in the agent's config
    Result<std::string> v =
        secrets ? secrets->Get(name) : Result<std::string>(NotFound("no secret store"));
    if (v.ok()) continue;
    std::string where = "OUTPOST_SECRET_" + name + " or " +
                        (secrets_dir.empty() ? "<secrets_dir>" : secrets_dir) + "/" + name;
    if (v.status().code() == Code::kNotFound) {
      return "agent " + agent.name + " needs secret " + name + ", which is not configured (" +
             where + ")";
    }
    return "agent " + agent.name + " needs secret " + name +
           ", which cannot be used: " + v.status().message();
  }
  return std::nullopt;
}

std::vector<std::string> InjectSecrets(const AgentOptions* agent, const Run& run,
                                       const SecretStore* secrets, RunSpec& spec) {
  std::vector<std::string> names = run.additional_secrets;
  if (agent) {
    names.insert(names.begin(), agent->required_secrets.begin(), agent->required_secrets.end());
    // A key configured in the agent's env is as secret as one from the store.
    for (const auto& name : agent->required_secrets) {
      if (auto it = agent->env.find(name); it != agent->env.end()) AddRedaction(spec, it->second);
    }
  }
  std::vector<std::string> missing;
  for (const auto& name : names) {
    Result<std::string> v =
        secrets ? secrets->Get(name) : Result<std::string>(NotFound("no secret store"));
    if (v.ok()) {
      spec.env[name] = *v;
      spec.secrets.push_back(name);
      AddRedaction(spec, *v);
    } else if (!(agent && agent->env.count(name))) {
      missing.push_back(name);
    }
  }
  return missing;
}

std::string RedactedTask(const Options& opts, const AgentOptions* agent, const Run& run,
                         const SecretStore* secrets) {
  RunSpec spec;
  InjectSecrets(agent, run, secrets, spec);
  if (run.repo) {
    if (auto cred = GitCredentialFor(opts, secrets, run.tenant, *run.repo)) {
      spec.redact.push_back(cred->token);
    }
  }
  return Redactor::RedactAll(run.task, std::move(spec.redact));
}

workspace::GitTokens GitTokensOf(const Options& opts) {
  return {opts.git_hosts, opts.git_shared_hosts, opts.git_tenant_hosts};
}

std::optional<workspace::GitCredential> GitCredentialFor(const Options& opts,
                                                         const SecretStore* secrets,
                                                         std::string_view tenant,
                                                         std::string_view url) {
  if (secrets == nullptr) return std::nullopt;
  auto ref = workspace::TokenFor(url, tenant, GitTokensOf(opts));
  if (!ref) return std::nullopt;
  auto token = secrets->Get(ref->secret);
  if (!token.ok()) return std::nullopt;
  return workspace::GitCredential{ref->url, *token};
}

}  // namespace outpost
