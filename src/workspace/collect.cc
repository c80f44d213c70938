#include "workspace/collect.h"

#include <boost/json.hpp>
#include <charconv>
#include <filesystem>

#include "common/files.h"
#include "common/json_util.h"
#include "secrets/redactor.h"
#include "workspace/agent_repo.h"

// The workspace's .git belongs to the agent: its config may name an fsmonitor, hooks, clean
// filters or textconv drivers, and `git add`/`git diff` would run them as root; its layout may
// point anywhere on the host (a .git symlink or gitdir: file, objects/info/alternates,
// commondir, symlinked refs), which git would follow into another tenant's mirror (security
// audit F2). So no git ever runs in the agent's repository: the working tree is read with
// GIT_DIR pointing at a scratch repository of ours, whose objects are the run's own mirror (by
// alternates) plus the agent's object files, linked in one by one (agent_repo.h); HEAD is read
// as a file. The agent's objects are data; its configuration and links are never followed.
namespace outpost::workspace {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const std::vector<std::string> kHardened{
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
    "-c", "safe.directory=*",     "-c", "protocol.allow=never",
    "-c", "diff.external="};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class Scratch {
 public:
  Scratch(GitExec& git, const CollectRequest& req) : git_(git), req_(req) {
    dir_ = req.run_dir + "/.collect";
    home_ = dir_ + "/home";
    shadow_ = dir_ + "/shadow.git";
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Status Init() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    OUTPOST_RETURN_IF_ERROR(MakeDirs(home_, 0700));
    OUTPOST_RETURN_IF_ERROR(
        Git({"init", "--quiet", "--bare", "--template=", shadow_}, false).status());
    OUTPOST_RETURN_IF_ERROR(MakeDirs(shadow_ + "/objects/info", 0700));
    if (!req_.cache_dir.empty()) {
      OUTPOST_RETURN_IF_ERROR(WriteFileAtomic(shadow_ + "/objects/info/alternates",
                                              req_.cache_dir + "/objects\n", 0600));
    }
    return ImportAgentObjects(req_.workspace, shadow_ + "/objects");
  }

  // In our scratch repository, without a work tree; stdout read up to `max` bytes (nullopt:
  // there was more, git was stopped).
  Result<std::optional<std::string>> ReadBounded(std::vector<std::string> args, std::size_t max) {
    std::vector<std::string> full = kHardened;
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.begin(), "git");
    std::vector<std::string> env = GitEnv(home_, std::nullopt);
    env.push_back("GIT_DIR=" + shadow_);
    GitCommand cmd{std::move(full), std::move(env), req_.workspace, max};
    Result<GitOutput> out = git_.Run(cmd);
    if (!out.ok()) return out.status();
    if (out->truncated) return std::optional<std::string>();
    if (out->exit_code != 0) return FailedPrecondition(Describe(cmd, *out));
    return std::optional<std::string>(std::move(out->out));
  }

  // In our scratch repository, against the workspace as work tree, with our own index.
  Result<std::string> Git(std::vector<std::string> args, bool with_tree = true) {
    std::vector<std::string> full = kHardened;
    full.insert(full.end(), args.begin(), args.end());
    std::vector<std::string> extra{"GIT_DIR=" + shadow_, "GIT_INDEX_FILE=" + dir_ + "/index"};
    if (with_tree) extra.push_back("GIT_WORK_TREE=" + req_.workspace);
    return Run(std::move(full), extra);
  }

 private:
  Result<std::string> Run(std::vector<std::string> args, const std::vector<std::string>& extra) {
    args.insert(args.begin(), "git");
    std::vector<std::string> env = GitEnv(home_, std::nullopt);
    env.insert(env.end(), extra.begin(), extra.end());
    GitCommand cmd{std::move(args), std::move(env), req_.workspace};
    Result<GitOutput> out = git_.Run(cmd);
    if (!out.ok()) return out.status();
    if (out->exit_code != 0) return FailedPrecondition(Describe(cmd, *out));
    return std::move(out->out);
  }

  GitExec& git_;
  const CollectRequest& req_;
  std::string dir_, home_, shadow_;
};

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The working tree as a tree object: the base commit's index, then `add -A` (so files that
// are tracked but match .gitignore stay, new untracked files come in).
Result<std::string> WorkTree(Scratch& s, const std::string& base) {
  OUTPOST_RETURN_IF_ERROR(s.Git({"read-tree", base}).status());
  OUTPOST_RETURN_IF_ERROR(s.Git({"add", "-A", "--", "."}).status());
  auto tree = s.Git({"write-tree"});
  if (!tree.ok()) return tree.status();
  return Trim(*tree);
}

// `git diff --numstat -z` without renames: "ADDED\tDELETED\tPATH\0" per file, "-" for binary.
std::vector<FileStat> ParseNumstat(const std::string& out) {
  std::vector<FileStat> stats;
  for (const std::string& rec : SplitNul(out)) {
    std::size_t t1 = rec.find('\t');
    std::size_t t2 = t1 == std::string::npos ? t1 : rec.find('\t', t1 + 1);
    if (t2 == std::string::npos) continue;
    auto count = [](std::string_view v) -> std::optional<std::int64_t> {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
      return n;
    };
    std::string_view r(rec);
    stats.push_back(
        {rec.substr(t2 + 1), count(r.substr(0, t1)), count(r.substr(t1 + 1, t2 - t1 - 1))});
  }
  return stats;
}

// What changes.bundle carries that diff.patch does not show (security audit F7), scanned with
// the redactor: every commit of before..after with its raw headers (authors, committers, any
// extra header) and message, verbatim (--encoding=none), and its full patch against each
// parent (a merge: against each; a root commit: against nothing), binary files as text and
// renames as delete + add: every content an intermediate commit added or removed, and every
// path it touched. A path no patch shows is unchanged from a parent, and so already in before's
// history, which the receiver has. The bundle's one ref is our HEAD: the agent's tags and
// branches (their names, annotated tags' messages) are not in it. "" when clean; otherwise why
// the bundle is withheld. Reads at most req.max_history_scan bytes: a longer history is
// withheld unread.
std::string HistoryLeak(Scratch& s, const CollectRequest& req, const std::string& after) {
  auto text =
      s.ReadBounded({"log", "--format=raw", "--encoding=none", "-p", "--text", "--root",
                     "--diff-merges=separate", "--no-renames", "--no-ext-diff", "--no-textconv",
                     "--no-color", "--full-index", req.before_sha + ".." + after},
                    req.max_history_scan);
  if (!text.ok()) return "the history could not be scanned for secrets: " + text.status().message();
  if (!*text) {
    return "the history is larger than " + std::to_string(req.max_history_scan) +
           " bytes, more than is scanned for secrets";
  }
  if (Redactor::RedactAll(**text, req.redact) != **text) {
    return "a secret in the history (a commit's content, message, author or file name)";
  }
  return "";
}

}  // namespace

Status RedactPatch(const std::string& run_dir, const std::vector<std::string>& secrets,
                   ChangeSet& c) {
  if (!c.patch) return Status::Ok();
  const std::string path = run_dir + "/diff.patch";
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::string clean = Redactor::RedactAll(*text, secrets);
  if (clean == *text) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(WriteFileAtomic(path, clean, 0600));
  c.redacted = true;
  if (c.redaction.empty()) c.redaction = "a secret in diff.patch";
  if (c.bundle) {
    std::error_code ec;
    std::filesystem::remove(run_dir + "/changes.bundle", ec);
    c.bundle = false;
  }
  return Status::Ok();
}

Result<ChangeSet> Collect(GitExec& git, const CollectRequest& req) {
  ChangeSet c;
  c.before_sha = req.before_sha;
  Scratch s(git, req);
  OUTPOST_RETURN_IF_ERROR(s.Init());
  c.after_sha = ReadAgentHead(req.workspace);
  // The agent's HEAD may name something we cannot read (a broken .git, a link): diff from
  // `before`. A HEAD naming a commit that is neither the agent's nor the mirror's fails below.
  const std::string after = c.after_sha.value_or(req.before_sha);
  if (after != req.before_sha && !s.Git({"cat-file", "-e", after + "^{commit}"}).ok()) {
    return FailedPrecondition("the workspace's HEAD " + after + " cannot be read");
  }
  Result<std::string> tree = WorkTree(s, after);
  if (!tree.ok()) return tree.status();
  auto before_tree = s.Git({"rev-parse", req.before_sha + "^{tree}"});
  if (!before_tree.ok()) return before_tree.status();
  if (after != req.before_sha) {
    c.kind = change_kind::kCommitted;
  } else if (*tree != Trim(*before_tree)) {
    c.kind = change_kind::kUncommitted;
  } else {
    return c;
  }
  auto names = s.Git({"diff", "--name-only", "-z", "--no-renames", req.before_sha, *tree});
  if (!names.ok()) return names.status();
  c.files_changed = SplitNul(*names);
  auto numstat = s.Git({"diff", "--numstat", "-z", "--no-renames", req.before_sha, *tree});
  if (!numstat.ok()) return numstat.status();
  c.diff_stat = ParseNumstat(*numstat);
  const std::string patch = req.run_dir + "/diff.patch";
  OUTPOST_RETURN_IF_ERROR(s.Git({"diff", "--binary", "--full-index", "--no-ext-diff",
                                 "--no-textconv", "--output=" + patch, req.before_sha, *tree})
                              .status());
  c.patch = true;
  if (c.kind == change_kind::kCommitted) {
    auto count = s.Git({"rev-list", "--count", req.before_sha + ".." + after});
    if (count.ok() && Trim(*count) != "0") {
      c.redaction = HistoryLeak(s, req, after);
      if (!c.redaction.empty()) {
        c.redacted = true;
        return c;
      }
      OUTPOST_RETURN_IF_ERROR(s.Git({"update-ref", "--no-deref", "HEAD", after}, false).status());
      OUTPOST_RETURN_IF_ERROR(s.Git({"bundle", "create", "--quiet", req.run_dir + "/changes.bundle",
                                     req.before_sha + "..HEAD"},
                                    false)
                                  .status());
      c.bundle = true;
    }
  }
  return c;
}

Status WriteChanges(const std::string& path, const ChangeSet& c) {
  json::array files;
  for (const auto& f : c.files_changed) files.emplace_back(f);
  json::object o{{"kind", c.kind},
                 {"before_sha", c.before_sha ? json::value(*c.before_sha) : nullptr},
                 {"after_sha", c.after_sha ? json::value(*c.after_sha) : nullptr},
                 {"files_changed", std::move(files)},
                 {"patch", c.patch},
                 {"bundle", c.bundle},
                 {"redacted", c.redacted}};
  if (!c.redaction.empty()) o["redaction"] = c.redaction;
  if (!c.failure.empty()) {
    o["failure"] = c.failure;
    o["failure_message"] = c.failure_message;
  }
  json::array stats;
  for (const FileStat& f : c.diff_stat) {
    stats.push_back(
        json::object{{"path", f.path},
                     {"insertions", f.insertions ? json::value(*f.insertions) : nullptr},
                     {"deletions", f.deletions ? json::value(*f.deletions) : nullptr}});
  }
  o["stats"] = std::move(stats);
  return WriteFileAtomic(path, ToJson(o) + "\n", 0600);
}

Result<ChangeSet> ReadChanges(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Result<json::value> v = ParseJson(*text);
  if (!v.ok() || !v->is_object()) return Internal(path + ": not a JSON object");
  return ChangeSetFromJson(v->as_object(), path);
}

Result<ChangeSet> ChangeSetFromJson(const json::object& o, const std::string& where) {
  ChangeSet c;
  std::optional<std::string> kind = GetString(o, "kind");
  if (!kind) return Internal(where + ": missing \"kind\"");
  c.kind = *kind;
  c.before_sha = GetString(o, "before_sha");
  c.after_sha = GetString(o, "after_sha");
  if (const json::value* f = o.if_contains("files_changed"); f != nullptr && f->is_array()) {
    for (const auto& e : f->as_array()) {
      if (e.is_string()) c.files_changed.emplace_back(e.as_string());
    }
  }
  c.patch = GetBool(o, "patch").value_or(false);
  c.bundle = GetBool(o, "bundle").value_or(false);
  c.redacted = GetBool(o, "redacted").value_or(false);
  c.redaction = GetString(o, "redaction").value_or("");
  c.failure = GetString(o, "failure").value_or("");
  c.failure_message = GetString(o, "failure_message").value_or("");
  if (const json::value* st = o.if_contains("stats"); st != nullptr && st->is_array()) {
    for (const auto& e : st->as_array()) {
      if (!e.is_object()) continue;
      const json::object& f = e.as_object();
      FileStat fs;
      fs.path = GetString(f, "path").value_or("");
      if (const json::value* n = f.if_contains("insertions"); n && n->is_int64()) {
        fs.insertions = n->as_int64();
      }
      if (const json::value* n = f.if_contains("deletions"); n && n->is_int64()) {
        fs.deletions = n->as_int64();
      }
      c.diff_stat.push_back(std::move(fs));
    }
  }
  return c;
}

}  // namespace outpost::workspace
