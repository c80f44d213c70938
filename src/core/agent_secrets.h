// Which secrets a run gets, and whether an agent can run for want of one. The server-side half
// of secret handling: values are read from the SecretStore only when a run is launched, put in
// the agent's environment and in RunSpec::redact (so the shim redacts them from the logs),
// and never logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "model/run.h"
#include "runner/runner.h"
#include "secrets/secret_store.h"
#include "workspace/git.h"
#include "workspace/repo_spec.h"

namespace outpost {

// Names a dispatch may not request in additionalSecrets: cloud credentials and the agents' own
// API keys (outpost-original-spec §5.3), which only an agent's required_secrets deliver.
bool IsProtectedSecretName(std::string_view name);

// Why `agent` cannot run for want of a secret ("agent claude needs secret ANTHROPIC_API_KEY,
// which is not configured (...)"), or nullopt when every required secret is in `secrets` (or
// set in the agent's configured env). A null store has no secrets.
std::optional<std::string> MissingSecretReason(const AgentOptions& agent,
                                               const SecretStore* secrets,
                                               const std::string& secrets_dir);

// Adds the agent's required secrets and the run's additional secrets to spec.env, their names
// to spec.secrets and their values to spec.redact. Returns the names it could not read (the caller
// logs names only).
std::vector<std::string> InjectSecrets(const AgentOptions* agent, const Run& run,
                                       const SecretStore* secrets, RunSpec& spec);

// The run's task as it may be shown — the REST and MCP answers, summary.json, a pull request's
// title, body and commit message — redacted as the run's output is: the values of the secrets
// the run is given (its agent's required secrets, its additionalSecrets, its tenant's git token
// for its repository) and every credential pattern (secrets/redactor.h). Reads those secrets.
std::string RedactedTask(const Options& opts, const AgentOptions* agent, const Run& run,
                         const SecretStore* secrets);

// Audit F9: the git tokens of Options ([git.hosts], shared, [git.tenants]).
workspace::GitTokens GitTokensOf(const Options& opts);

// The credential `tenant`'s git of `url` carries — a clone now, a push (promote) later — with
// its value read from `secrets`: the tenant's own token for the URL's host, the operator's only
// for tenant "default" or a shared host (workspace::TokenFor). nullopt: git runs anonymously
// (no token for this tenant and host, no store, or the secret is not set).
std::optional<workspace::GitCredential> GitCredentialFor(const Options& opts,
                                                         const SecretStore* secrets,
                                                         std::string_view tenant,
                                                         std::string_view url);

}  // namespace outpost
