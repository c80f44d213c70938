// Preparing a run's checkout, outside the sandbox and before the agent starts: a bare mirror
// per repository under the cache root (cloned once, fetched by later runs), then a private
// copy of it as the workspace.
//
//   <cache_root>/<sha256 of url>/        bare mirror (`git clone --mirror`, then `fetch --prune`)
//   <cache_root>/<sha256 of url>.lock    flock: one run at a time updates or copies the mirror
//   <cache_root>/<sha256 of url>.pins/   one file per pin ("<branch> <sha>"), kept for 7 days
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "workspace/git.h"

namespace outpost::workspace {

struct PrepareRequest {
  std::string url;                    // RepoSpec::url
  std::optional<std::string> branch;  // nullopt: the remote's default branch
  std::string cache_root;             // absolute; created when missing
  std::string workspace;              // absolute; absent or an empty directory
  // The token and its origin (GitEnv): given to git through the environment only, and only
  // for that origin.
  std::optional<GitCredential> credential;
  // A fan-out's group id (letters, digits, '-', '_'): the first Prepare with it records the
  // branch and commit it checked out; later ones check out that same commit, without fetching,
  // however the branch has moved since.
  std::optional<std::string> pin;
  // Audit F10: a network repo's host is resolved before git runs and refused when any address
  // is loopback, link-local or private (common/address_policy.h) unless it is listed here
  // ("host" or "host:port", [git] allow_private_hosts); http(s) clones are pinned to the
  // checked addresses and follow no redirect; git:// and ssh to the first checked address.
  std::vector<std::string> allow_private_hosts;
  // Audit F9: the known_hosts file ssh checks a server's key against ([git] ssh_known_hosts);
  // "" refuses ssh and scp-like URLs. ssh runs with none of root's keys, agent or config
  // (SshCommand), pinned to the checked address.
  std::string ssh_known_hosts;
};

struct Prepared {
  std::string cache_dir;       // the mirror
  std::string branch;          // checked out
  std::string before_sha;      // HEAD of the workspace
  bool cache_created = false;  // false: an existing mirror was fetched
  bool pinned = false;         // true: the commit came from the pin (nothing was fetched)
};

// How git reaches a network repo: `git -c` options and, for ssh, the ssh command line.
struct NetPlan {
  std::vector<std::string> args;
  std::optional<std::string> ssh_command;  // GIT_SSH_COMMAND
};

// Audit F10: the plan for a git of ours that reaches `url` (a clone, a fetch, promote's push)
// after checking every address its host resolves to (loopback, link-local and private ones
// refused unless `allowed` lists the host, as PrepareRequest::allow_private_hosts), pinned to
// the checked addresses; nothing for a local path. kFailedPrecondition naming the host.
Result<NetPlan> CheckedHost(const std::string& url, const std::vector<std::string>& allowed,
                            const std::string& ssh_known_hosts);

// The mirror directory for `url` under `cache_root`.
std::string CacheDirFor(const std::string& cache_root, const std::string& url);

// Blocks while another process prepares from the same mirror. The workspace's origin is `url`
// without credentials, and no credential is written into it. Errors: what `git` reports
// (kFailedPrecondition with git's last stderr lines: a repo_error), a status of `git`'s
// (a stopped shim), or kInternal (the cache directory or lock cannot be made).
Result<Prepared> Prepare(GitExec& git, const PrepareRequest& req);

}  // namespace outpost::workspace
