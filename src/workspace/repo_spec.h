// What a dispatch's `repo` names, and the URL the shim clones it from.
#pragma once

#include <map>
#include <optional>
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

// Audit F9: the real path (realpath: links and `..` resolved) of local repository `path` when
// it lies under one of `roots` (each resolved too) and not under `data_dir` (other tenants'
// mirrors and workspaces); kInvalidArgument otherwise, with one message whatever the cause
// (a tenant learns nothing about which paths exist).
Result<std::string> ResolveLocalRepo(const std::string& path, const std::vector<std::string>& roots,
                                     const std::string& data_dir);

// `url` without user:password@ (what a workspace's origin is set to).
std::string WithoutCredentials(std::string_view url);

}  // namespace outpost::workspace
