// Promote's git half: a run's stored changes (changes.bundle and/or diff.patch, as any replica
// has them from the artifact store) applied to a fresh fetch of the run's before commit and
// pushed to a new branch of its repository. Never the agent's checkout, config or hooks: the
// repository is a new bare one of ours, every git runs with GitEnv (no system or global
// config, the token only in the environment, for the repository's origin only) and
// core.hooksPath=/dev/null, and the bundle carries objects and one ref, nothing else.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "workspace/git.h"

namespace outpost::workspace {

struct PushRequest {
  std::string url;         // the run's repository (RepoSpec::url, without credentials)
  std::string before_sha;  // Changes::before_sha
  std::string after_sha;   // Changes::after_sha for committed changes; "" otherwise
  std::string bundle;      // path of changes.bundle ("": none)
  std::string patch;       // path of diff.patch ("": none)
  std::string branch;      // the new branch (a valid name: CheckBranchName)
  // The base a pull request will target: checked to exist on the remote. "": the remote's
  // default branch (resolved and returned in Pushed::base) when `need_base`.
  std::string base;
  bool need_base = false;
  // The commit made of uncommitted work (or of what the agent left uncommitted on top of its
  // commits): message, author and committer, and its date ("@<unix seconds> +0000"), fixed by
  // the caller so that every replica makes the same commit of the same run.
  std::string message;
  std::string author_name, author_email, date;
  std::string work_dir;  // absolute, absent or empty; the caller removes it afterwards
  std::optional<GitCredential> credential;
  std::vector<std::string> allow_private_hosts;  // [git] allow_private_hosts
  std::string ssh_known_hosts;                   // [git] ssh_known_hosts
  std::string ca_file;                           // [git] push_ca_file ("": the system store)
};

struct Pushed {
  std::string commit;  // the new branch's head
  std::string base;    // the base checked (or the default branch found); "" unless need_base
};

// kInvalidArgument when `git check-ref-format` refuses refs/heads/<name> (or it starts with
// '-'), with git's reason.
Status CheckBranchName(GitExec& git, const std::string& name);

// Fetches before_sha, applies the bundle and the patch, pushes the result to
// refs/heads/<branch> (never forced: an existing branch at another commit refuses it; at the
// same commit — a replay — it is a no-op). Errors: kInvalidArgument with details.field "base"
// when the base does not exist; kFailedPrecondition with details.remoteRefused = true and git's
// message (the remote's own lines, e.g. a pre-receive hook's) when the remote refuses a fetch or
// the push (no permission, protected branch, non-fast-forward); kFailedPrecondition when the
// stored changes do not apply; kUnavailable when git could not finish; kInternal otherwise.
Result<Pushed> PushChanges(GitExec& git, const PushRequest& req);

}  // namespace outpost::workspace
