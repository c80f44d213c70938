// What a dispatch's `repo` names, and the URL the shim clones it from.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outpost::workspace {

struct RepoSpec {
  std::string url;   // what git clones: an https/ssh/git URL, scp-like host:path, or a local path
  std::string name;  // the repository's short name (last path component without .git)
  bool local = false;
};

// Parses a dispatch's `repo`:
//   owner/repo                   -> https://github.com/owner/repo.git (the owner is kept)
//   https://, http://, ssh://, git:// URLs and user@host:path (scp-like) as given
//   /absolute/path or file:///path -> a repository on this machine, only when allow_local
// kInvalidArgument (a message fit for the `repo` field error) for anything else.
Result<RepoSpec> ParseRepoSpec(std::string_view repo, bool allow_local);

// The host a clone of `url` may send a token to: the lower-cased host of an https:// URL on
// the default port (":443" or none). nullopt for every other URL — http://, git://, ssh://,
// scp-like, local paths, another port, an IP literal in brackets — which clone anonymously.
std::optional<std::string> CredentialHost(std::string_view url);

// Which token a clone of `url` carries: the origin ("https://<host>") and the name of the
// secret holding it, when CredentialHost(url) is a key of `hosts` (host -> secret name,
// Options::git_hosts); nullopt otherwise.
struct TokenRef {
  std::string url;     // "https://github.com"
  std::string secret;  // "GITHUB_TOKEN"
};
std::optional<TokenRef> TokenFor(std::string_view url,
                                 const std::map<std::string, std::string>& hosts);

// Audit F9: the tokens of the server's tenants. A tenant's clone carries the tenant's own
// token for the host; the operator's ([git.hosts]) only in the operator's own runs (tenant
// "default": open mode) or when the operator shares that host's token with every tenant.
inline constexpr std::string_view kOperatorTenant = "default";
struct GitTokens {
  std::map<std::string, std::string> hosts;  // [git.hosts."HOST"] token_secret
  std::set<std::string> shared;              // hosts with [git.hosts."HOST"] shared = true
  // [git.tenants."TENANT".hosts."HOST"] token_secret: tenant -> host -> secret name.
  std::map<std::string, std::map<std::string, std::string>> tenants;
};

// Which token `tenant`'s clone (or push: promote) of `url` carries, if any: its own for the
// URL's CredentialHost, else the operator's when `tenant` is kOperatorTenant or the host is
// shared; nullopt otherwise (the clone is anonymous).
std::optional<TokenRef> TokenFor(std::string_view url, std::string_view tenant,
                                 const GitTokens& tokens);

// Every secret name that holds a git token (none may be requested through additionalSecrets).
std::set<std::string> GitTokenSecrets(const GitTokens& tokens);

// Audit F9: the mirror cache root of `tenant` under `repos_root` (<data_dir>/repos): one
// directory per tenant, so objects fetched with one tenant's token never serve another's run.
std::string TenantCacheRoot(const std::string& repos_root, std::string_view tenant);

// Audit F9: the real path (realpath: links and `..` resolved) of local repository `path` when
// it lies under one of `roots` (each resolved too) and not under `data_dir` (other tenants'
// mirrors and workspaces); kInvalidArgument otherwise, with one message whatever the cause
// (a tenant learns nothing about which paths exist).
Result<std::string> ResolveLocalRepo(const std::string& path, const std::vector<std::string>& roots,
                                     const std::string& data_dir);

// `url` without user:password@ (what a workspace's origin is set to).
std::string WithoutCredentials(std::string_view url);

}  // namespace outpost::workspace
