#include "workspace/promote.h"

#include "common/files.h"
#include "workspace/prepare.h"
#include "workspace/repo_spec.h"

// Why a bare repository and a temporary index: nothing is checked out, so nothing of the run's
// (a .gitattributes filter, a hook, a config file) can take effect — there is no work tree to
// run it in, hooks point at /dev/null, and git reads no config but ours. The commit of
// uncommitted work is written with commit-tree from the index the patch was applied to, with
// the caller's fixed author and date: two replicas promoting the same run make the same
// commit, so the second push finds the branch already there and is a no-op.
namespace outpost::workspace {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The lines a remote sent ("remote: ...") and git's "! [rejected]" lines, joined by "; " —
// what a person needs to see of a refused push (a pre-receive hook's message is in the
// former) — or git's last lines when there are none.
std::string RemoteMessage(const GitOutput& out) {
  std::string msg;
  std::string_view text = out.err;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    const bool remote = line.starts_with("remote:") && line.size() > 7;
    if (remote || line.starts_with(" ! ") || line.starts_with("error:") ||
        line.starts_with("fatal:")) {
      if (!msg.empty()) msg += "; ";
      std::string_view shown = line;
      if (remote) {
        shown.remove_prefix(7);
        if (shown.starts_with(' ')) shown.remove_prefix(1);
      }
      msg += shown;
    }
  }
  return msg.empty() ? LastLines(out.err) : msg;
}

class Repo {
 public:
  Repo(GitExec& git, const std::string& work_dir, std::vector<std::string> env)
      : git_(git), env_(std::move(env)), dir_(work_dir + "/repo.git") {}

  void SetEnv(const std::string& name, const std::string& value) {
    std::erase_if(env_, [&](const std::string& v) { return v.starts_with(name + "="); });
    env_.push_back(name + "=" + value);
  }

  // Runs git in the repository (`in_repo`) or anywhere; the output whatever git's exit code.
  Result<GitOutput> Raw(std::vector<std::string> args, bool in_repo = true) {
    std::vector<std::string> argv{"git"};
    if (in_repo) argv.insert(argv.end(), {"-C", dir_});
    argv.insert(argv.end(), args.begin(), args.end());
    cmd_ = GitCommand{std::move(argv), env_, ""};
    return git_.Run(cmd_);
  }
  // Local steps: a failure is kFailedPrecondition with git's message.
  Result<std::string> Git(std::vector<std::string> args, bool in_repo = true) {
    Result<GitOutput> out = Raw(std::move(args), in_repo);
    if (!out.ok()) return out.status();
    if (out->exit_code != 0) return FailedPrecondition(Describe(cmd_, *out));
    return Trim(std::move(out->out));
  }
  // Steps that reach the remote: its refusal is kFailedPrecondition + remoteRefused.
  Result<std::string> Remote(const std::string& what, std::vector<std::string> args) {
    args.insert(args.begin(), net_.begin(), net_.end());
    Result<GitOutput> out = Raw(std::move(args));
    if (!out.ok()) return out.status();
    if (out->exit_code != 0) {
      Status st = FailedPrecondition(what + " was refused: " + RemoteMessage(*out));
      st.WithDetail("remoteRefused", true);
      return st;
    }
    return Trim(std::move(out->out));
  }
  void SetNet(std::vector<std::string> args) { net_ = std::move(args); }
  const std::string& dir() const { return dir_; }

 private:
  GitExec& git_;
  std::vector<std::string> env_;
  std::string dir_;
  std::vector<std::string> net_;
  GitCommand cmd_;
};

bool IsSha(const std::string& s) {
  return s.size() >= 40 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The before commit alone (depth 1: the remote has its history, and the push sends only what
// is new), fetched by id (protocol v2 serves any object); servers that refuse a want by id get
// a fetch of every branch instead, which must then hold it.
Status FetchBefore(Repo& repo, const PushRequest& req) {
  Result<std::string> one = repo.Remote("the fetch of " + req.before_sha,
                                        {"fetch", "--quiet", "--no-tags", "--depth=1", "--",
                                         req.url, req.before_sha + ":refs/outpost/before"});
  if (one.ok()) return Status::Ok();
  Result<std::string> all = repo.Remote(
      "the fetch of " + WithoutCredentials(req.url),
      {"fetch", "--quiet", "--no-tags", "--", req.url, "+refs/heads/*:refs/remotes/origin/*"});
  if (!all.ok()) return all.status();
  if (!repo.Git({"cat-file", "-e", req.before_sha + "^{commit}"}).ok()) {
    return FailedPrecondition("the run's before commit " + req.before_sha +
                              " is no longer in the repository");
  }
  return repo.Git({"update-ref", "refs/outpost/before", req.before_sha}).status();
}

// The base a pull request targets: req.base when the remote has it, else the default branch.
Result<std::string> CheckBase(Repo& repo, const PushRequest& req) {
  if (!req.base.empty()) {
    Result<std::string> refs =
        repo.Remote("listing the repository's branches",
                    {"ls-remote", "--heads", "--", req.url, "refs/heads/" + req.base});
    if (!refs.ok()) return refs.status();
    if (refs->find("refs/heads/" + req.base) == std::string::npos) {
      return Status::Invalid({{"base", "the repository has no branch '" + req.base + "'"}},
                             "the base branch does not exist");
    }
    return req.base;
  }
  Result<std::string> head = repo.Remote("listing the repository's default branch",
                                         {"ls-remote", "--symref", "--", req.url, "HEAD"});
  if (!head.ok()) return head.status();
  constexpr std::string_view kPrefix = "ref: refs/heads/";
  std::size_t at = head->find(kPrefix);
  if (at == std::string::npos) return FailedPrecondition("the repository has no default branch");
  std::size_t start = at + kPrefix.size();
  return head->substr(start, head->find_first_of("\t\n", start) - start);
}

// The commit to push: the bundle's head, plus (when the patch's tree differs from it, or there
// is no bundle) one commit of the patch's tree.
Result<std::string> BuildCommit(Repo& repo, const PushRequest& req) {
  std::string parent = req.before_sha;
  if (!req.bundle.empty()) {
    OUTPOST_RETURN_IF_ERROR(
        repo.Git({"fetch", "--quiet", "--no-tags", "--", req.bundle, "HEAD:refs/outpost/after"})
            .status());
    Result<std::string> after = repo.Git({"rev-parse", "refs/outpost/after"});
    if (!after.ok()) return after.status();
    if (!req.after_sha.empty() && *after != req.after_sha) {
      return FailedPrecondition("changes.bundle holds " + *after + ", not the run's after commit " +
                                req.after_sha);
    }
    parent = *after;
  }
  if (req.patch.empty()) return parent;
  repo.SetEnv("GIT_INDEX_FILE", req.work_dir + "/index");
  OUTPOST_RETURN_IF_ERROR(repo.Git({"read-tree", req.before_sha}).status());
  Result<std::string> applied =
      repo.Git({"apply", "--cached", "--binary", "--whitespace=nowarn", req.patch});
  if (!applied.ok()) {
    return FailedPrecondition("diff.patch does not apply to " + req.before_sha + ": " +
                              applied.status().message());
  }
  Result<std::string> tree = repo.Git({"write-tree"});
  if (!tree.ok()) return tree.status();
  Result<std::string> parent_tree = repo.Git({"rev-parse", parent + "^{tree}"});
  if (!parent_tree.ok()) return parent_tree.status();
  if (*tree == *parent_tree) return parent;  // the commits hold it all
  for (const auto& [k, v] :
       {std::pair<std::string, std::string>{"GIT_AUTHOR_NAME", req.author_name},
        {"GIT_AUTHOR_EMAIL", req.author_email},
        {"GIT_AUTHOR_DATE", req.date},
        {"GIT_COMMITTER_NAME", req.author_name},
        {"GIT_COMMITTER_EMAIL", req.author_email},
        {"GIT_COMMITTER_DATE", req.date}}) {
    repo.SetEnv(k, v);
  }
  return repo.Git({"commit-tree", *tree, "-p", parent, "-m", req.message});
}

}  // namespace

Status CheckBranchName(GitExec& git, const std::string& name) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid({{"branch", "'" + name + "' is not a valid branch name" + why}},
                           "invalid branch name");
  };
  if (name.empty() || name.starts_with('-') || name.size() > 255) return bad("");
  GitCommand cmd{{"git", "check-ref-format", "refs/heads/" + name}, GitEnv("/nonexistent", {}), ""};
  Result<GitOutput> out = git.Run(cmd);
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) return bad(" (git check-ref-format refuses it)");
  return Status::Ok();
}

Result<Pushed> PushChanges(GitExec& git, const PushRequest& req) {
  if (!IsSha(req.before_sha)) return FailedPrecondition("the run has no before commit");
  OUTPOST_RETURN_IF_ERROR(MakeDirs(req.work_dir + "/home", 0700));
  std::vector<std::string> config{"core.hooksPath=/dev/null", "safe.directory=*",
                                  "init.defaultBranch=outpost", "advice.detachedHead=false"};
  if (!req.ca_file.empty()) config.push_back("http.sslCAInfo=" + req.ca_file);
  Repo repo(git, req.work_dir, GitEnv(req.work_dir + "/home", req.credential, config));
  Result<NetPlan> plan = CheckedHost(req.url, req.allow_private_hosts, req.ssh_known_hosts);
  if (!plan.ok()) return plan.status();
  if (plan->ssh_command) repo.SetEnv("GIT_SSH_COMMAND", *plan->ssh_command);
  repo.SetNet(plan->args);
  OUTPOST_RETURN_IF_ERROR(repo.Git({"init", "--quiet", "--bare", repo.dir()}, false).status());
  Pushed pushed;
  if (req.need_base) {
    Result<std::string> base = CheckBase(repo, req);
    if (!base.ok()) return base.status();
    pushed.base = *base;
  }
  OUTPOST_RETURN_IF_ERROR(FetchBefore(repo, req));
  Result<std::string> commit = BuildCommit(repo, req);
  if (!commit.ok()) return commit.status();
  if (*commit == req.before_sha) return FailedPrecondition("the run's changes are empty");
  pushed.commit = *commit;
  Result<std::string> push = repo.Remote("the push of branch " + req.branch,
                                         {"push", "--quiet", "--no-verify", "--", req.url,
                                          pushed.commit + ":refs/heads/" + req.branch});
  if (!push.ok()) return push.status();
  return pushed;
}

}  // namespace outpost::workspace
