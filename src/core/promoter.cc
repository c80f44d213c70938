#include "core/promoter.h"

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>

#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time_util.h"
#include "core/agent_secrets.h"
#include "core/auditor.h"
#include "core/dispatch_request.h"
#include "workspace/github.h"
#include "workspace/promote.h"
#include "workspace/repo_spec.h"

namespace outpost {
namespace json = boost::json;
namespace {

namespace fs = std::filesystem;

// The first line of `text`, at most `max` characters (code points), "…" when cut.
std::string FirstLine(std::string_view text, std::size_t max) {
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80 && n++ == max) return out + "…";
    out += text[i];
  }
  return out;
}

std::string DefaultTitle(const Run& run) {
  std::string line = FirstLine(run.task, 200);
  return "outpost: " + (line.empty() ? run.agent + " run " + run.id.str() : line);
}

std::string DefaultBody(const Run& run) {
  constexpr std::size_t kMaxTask = 20000;  // bytes: far below GitHub's 65 536 characters
  std::string task = run.task;
  if (task.size() > kMaxTask) {
    std::size_t cut = kMaxTask;  // at a character boundary (never before a continuation byte)
    while (cut > 0 && (static_cast<unsigned char>(task[cut]) & 0xC0) == 0x80) --cut;
    task = task.substr(0, cut) + "\n…";
  }
  return "Changes of Outpost run `" + run.id.str() + "` by agent `" + run.agent + "`" +
         (run.model_id.empty() ? "" : " (" + run.model_id + ")") + ".\n\nTask:\n\n" + task + "\n";
}

std::string CommitMessage(const Run& run) {
  std::string line = FirstLine(run.task, 72);
  return (line.empty() ? "Changes of run " + run.id.str() : line) + "\n\nOutpost run " +
         run.id.str() + ", agent " + run.agent +
         (run.model_id.empty() ? "" : " (" + run.model_id + ")") + ".\n";
}

json::object PromotionDetail(const Promotion& p) {
  json::object o{{"branch", p.branch}, {"commit", p.commit}};
  if (p.pr_number > 0) {
    o["prNumber"] = p.pr_number;
    o["prUrl"] = p.pr_url;
  }
  return o;
}

// Field checks that need neither the run nor the network.
Status CheckRequest(workspace::GitExec& git, const PromoteRequest& r) {
  std::vector<FieldError> errors;
  if (r.mode != "branch" && r.mode != "pr") {
    errors.push_back({"mode", "must be \"branch\" or \"pr\""});
  }
  if (r.branch) {
    Status st = workspace::CheckBranchName(git, *r.branch);
    if (st.code() == Code::kInvalidArgument) {
      errors.push_back({"branch", "'" + *r.branch + "' is not a branch name git accepts"});
    } else if (!st.ok()) {
      return st;
    }
  }
  if (r.base) {
    Status st = workspace::CheckBranchName(git, *r.base);
    if (st.code() == Code::kInvalidArgument) {
      errors.push_back({"base", "'" + *r.base + "' is not a branch name git accepts"});
    } else if (!st.ok()) {
      return st;
    }
  }
  if (r.title && Utf8Length(*r.title) > workspace::kMaxPullTitle) {
    errors.push_back({"title", "must be at most " + std::to_string(workspace::kMaxPullTitle) +
                                   " characters (GitHub's limit)"});
  }
  if (r.title && r.title->find_first_not_of(" \t\r\n") == std::string::npos) {
    errors.push_back({"title", "must not be empty"});
  }
  if (r.body && Utf8Length(*r.body) > workspace::kMaxPullBody) {
    errors.push_back({"body", "must be at most " + std::to_string(workspace::kMaxPullBody) +
                                  " characters (GitHub's limit)"});
  }
  if (r.mode == "branch" && (r.title || r.body || r.base || r.draft)) {
    for (const char* f : {"title", "body", "base", "draft"}) {
      const bool given = std::string_view(f) == "title"  ? r.title.has_value()
                         : std::string_view(f) == "body" ? r.body.has_value()
                         : std::string_view(f) == "base" ? r.base.has_value()
                                                         : r.draft;
      if (given) errors.push_back({f, "only with mode \"pr\""});
    }
  }
  if (!errors.empty()) return Status::Invalid(errors);
  return Status::Ok();
}

// The earlier promotion answers this request again (replay), or the request needs only the
// pull request that the earlier one did not open (open_pr), or it asks for something else.
enum class Earlier { kReplay, kOpenPr, kOther };
Earlier Compare(const Promotion& p, const PromoteRequest& r) {
  if (r.branch && *r.branch != p.branch) return Earlier::kOther;
  if (r.mode == "branch") return Earlier::kReplay;
  if (p.pr_number > 0) return !r.base || *r.base == p.base ? Earlier::kReplay : Earlier::kOther;
  return Earlier::kOpenPr;
}

// A scratch directory under the data dir, removed with the object.
class ScratchDir {
 public:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Promoter::Promoter(RunService& runs, RunStore& store, artifacts::ArtifactStore& artifacts,
                   const Clock& clock, const Options& opts, const SecretStore* secrets,
                   Auditor* auditor)
    : runs_(runs),
      writer_(store, auditor),
      artifacts_(artifacts),
      clock_(clock),
      opts_(opts),
      secrets_(secrets),
      auditor_(auditor) {}

Result<PromoteOutcome> Promoter::Promote(std::string_view run_id, const PromoteRequest& request,
                                         const RequestContext& ctx) {
  Result<PromoteOutcome> out = PromoteUnaudited(run_id, request, ctx);
  if (auditor_ != nullptr) {
    json::object details{{"mode", request.mode}};
    if (out.ok() && out->run.promotion) {
      for (auto& [k, v] : PromotionDetail(*out->run.promotion)) details[k] = v;
      details["replayed"] = out->replayed;
    }
    auditor_->Call(ctx, audit_action::kPromote,
                   "run:" + (IsUlid(run_id) ? CanonicalUlid(run_id) : std::string("-")),
                   out.status(), std::move(details));
  }
  return out;
}

Result<PromoteOutcome> Promoter::PromoteUnaudited(std::string_view run_id,
                                                  const PromoteRequest& request,
                                                  const RequestContext& ctx) {
  workspace::SpawnGitExec git(std::chrono::seconds(600));
  OUTPOST_RETURN_IF_ERROR(CheckRequest(git, request));
  Result<Run> loaded = runs_.Get(run_id, ctx);
  if (!loaded.ok()) return loaded.status();
  const Run run = std::move(*loaded);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!in_flight_.insert(run.id.str()).second) {
      return Conflict("a promote of run " + run.id.str() + " is in progress");
    }
  }
  struct Release {
    Promoter* self;
    std::string id;
    ~Release() {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->in_flight_.erase(id);
    }
  } release{this, run.id.str()};

  Earlier earlier = Earlier::kOther;
  if (run.promotion) {
    earlier = Compare(*run.promotion, request);
    if (earlier == Earlier::kReplay) return PromoteOutcome{run, true};
    if (earlier == Earlier::kOther) {
      Status st = Conflict("run " + run.id.str() + " was already promoted to branch " +
                           run.promotion->branch + "; promote returns that result again");
      st.WithDetail("promotion", PromotionDetail(*run.promotion));
      return st;
    }
  }
  if (!run.repo) {
    return Status::Invalid({{"repo", "run " + run.id.str() + " has no repository to push to"}},
                           "the run has no repository");
  }
  if (run.status != RunStatus::kCompleted) {
    Status st = Conflict("run " + run.id.str() + " did not complete (" +
                         std::string(ToString(run.status)) + "): only completed runs are promoted");
    st.WithDetail("currentStatus", json::value(ToString(run.status)));
    return st;
  }
  if (!run.changes || run.changes->kind == "none" ||
      (run.changes->kind != "committed" && run.changes->kind != "uncommitted")) {
    return Conflict("run " + run.id.str() + " changed nothing: there is nothing to promote");
  }
  if (run.changes->redacted) {
    Status st = Conflict("run " + run.id.str() +
                         "'s changes held a secret (changes.redacted): they are not pushed");
    st.WithDetail("redacted", true);
    return st;
  }
  if (run.artifacts_state != ArtifactsState::kStored &&
      run.artifacts_state != ArtifactsState::kPartial) {
    Status st = Conflict("run " + run.id.str() + "'s artifacts are not stored yet");
    st.WithDetail("artifactsStatus", json::value(ToString(run.artifacts_state)));
    return st;
  }
  Result<workspace::RepoSpec> spec = workspace::ParseRepoSpec(*run.repo, opts_.allow_local_repos);
  if (!spec.ok()) return Status::Invalid({{"repo", spec.status().message()}});
  std::string url = workspace::WithoutCredentials(spec->url);
  if (spec->local) {
    Result<std::string> real = workspace::ResolveLocalRepo(spec->url, opts_.local_repo_roots,
                                                           fs::absolute(opts_.data_dir).string());
    if (!real.ok()) return Status::Invalid({{"repo", real.status().message()}});
    url = *real;
  }
  std::optional<workspace::RepoPath> gh;
  if (request.mode == "pr") {
    gh = workspace::GitHubRepoOf(url);
    if (!gh) {
      return Status::Invalid(
          {{"repo", "a pull request needs an https://HOST/OWNER/REPO repository, not " + url}});
    }
  }
  std::optional<workspace::GitCredential> credential =
      GitCredentialFor(opts_, secrets_, run.tenant, url);
  if (request.mode == "pr" && !credential) {
    Status st = FailedPrecondition("no git token of this tenant for " + url +
                                   ": a pull request needs one ([git.tenants] / [git.hosts])");
    st.WithDetail("remoteRefused", true);
    return st;
  }

  const std::string branch = request.branch.value_or(
      run.promotion ? run.promotion->branch : "outpost/" + run.agent + "/" + run.id.str());
  Promotion promotion = run.promotion.value_or(Promotion{});
  {  // kOpenPr pushes again too: the same commit, so a no-op that also checks the base
    const std::string scratch_root = fs::absolute(opts_.data_dir).string() + "/promote";
    OUTPOST_RETURN_IF_ERROR(MakeDirs(scratch_root, 0700));
    ScratchDir scratch(scratch_root + "/" + run.id.str() + "-" + NewUlid(clock_.Now()));
    OUTPOST_RETURN_IF_ERROR(MakeDirs(scratch.path(), 0700));
    workspace::PushRequest push;
    const std::string prefix = "dispatches/" + run.id.str() + "/";
    for (const char* name : {"changes.bundle", "diff.patch"}) {
      Result<std::string> bytes = artifacts_.Get(prefix + name);
      if (!bytes.ok() && bytes.status().code() == Code::kNotFound) continue;
      if (!bytes.ok()) return bytes.status();
      const std::string path = scratch.path() + "/" + name;
      OUTPOST_RETURN_IF_ERROR(WriteFileAtomic(path, *bytes, 0600));
      (std::string_view(name) == "diff.patch" ? push.patch : push.bundle) = path;
    }
    if (push.patch.empty() && push.bundle.empty()) {
      Status st = Conflict("run " + run.id.str() + " has no stored diff.patch or changes.bundle");
      st.WithDetail("artifactsStatus", json::value(ToString(run.artifacts_state)));
      return st;
    }
    push.url = url;
    push.before_sha = run.changes->before_sha.value_or("");
    if (run.changes->kind == "committed") push.after_sha = run.changes->after_sha.value_or("");
    push.branch = branch;
    push.base = request.base.value_or(run.branch.value_or(""));
    push.need_base = request.mode == "pr";
    push.message = CommitMessage(run);
    push.author_name = "Outpost " + run.agent;
    push.author_email = "outpost-" + run.agent + "@users.noreply.outpost.invalid";
    const WallTime when = run.ended_at.value_or(run.created_at);
    push.date = "@" + std::to_string(ToMillis(when) / 1000) + " +0000";
    push.work_dir = scratch.path() + "/git";
    push.credential = credential;
    push.allow_private_hosts = opts_.git_allow_private_hosts;
    push.ssh_known_hosts = opts_.git_ssh_known_hosts;
    push.ca_file = opts_.git_push_ca_file;
    Result<workspace::Pushed> pushed = workspace::PushChanges(git, push);
    if (!pushed.ok()) return pushed.status();
    promotion.branch = branch;
    promotion.commit = pushed->commit;
    promotion.base = pushed->base;
    promotion.at = clock_.Now();
    promotion.by = ctx.key_id;
  }
  // Record the branch first: a pull request GitHub refuses leaves it pushed, and a retry then
  // opens only the pull request.
  Status pr_error = Status::Ok();
  if (request.mode == "pr") {
    workspace::PullRequestSpec pr;
    pr.api_url = opts_.github_api_url;
    pr.owner = gh->owner;
    pr.repo = gh->repo;
    pr.token = credential->token;
    pr.title = request.title.value_or(DefaultTitle(run));
    pr.body = request.body.value_or(DefaultBody(run));
    pr.head = branch;
    pr.base = promotion.base;
    pr.draft = request.draft;
    if (pr.base.empty()) return FailedPrecondition("no base branch for the pull request");
    Result<workspace::PullRequest> opened = workspace::OpenPullRequest(pr);
    if (opened.ok()) {
      promotion.pr_number = opened->number;
      promotion.pr_url = opened->url;
      promotion.base = pr.base;
      promotion.at = clock_.Now();
      promotion.by = ctx.key_id;
    } else {
      pr_error = opened.status();
    }
  }
  Result<Run> stored = writer_.Update(
      run.id,
      [&promotion](Run& r) {
        r.promotion = promotion;
        return Status::Ok();
      },
      &ctx);
  if (!stored.ok()) {
    spdlog::error("promote {}: pushed {} to {} but cannot record it: {}", run.id.str(),
                  promotion.commit, promotion.branch, stored.status().ToString());
    return stored.status();
  }
  if (!pr_error.ok()) return pr_error;
  return PromoteOutcome{std::move(*stored), false};
}

}  // namespace outpost
