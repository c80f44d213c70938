// What the agent changed, computed after it ended (also after a timeout or cancel, so that
// partial work is kept), and written beside the run's other files:
//
//   <run-dir>/changes.json    ChangeSet
//   <run-dir>/diff.patch      `git diff --binary` from the before commit to the working tree
//                             (commits and uncommitted work, new files included); absent: none
//   <run-dir>/changes.bundle  the new commits (before..HEAD) when there are any and nothing in
//                             them is a secret (Collect scans the history, RedactPatch the diff)
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/run.h"
#include "workspace/git.h"

namespace outpost::workspace {

namespace change_kind {
inline constexpr std::string_view kNone = "none";
inline constexpr std::string_view kCommitted = "committed";      // HEAD moved
inline constexpr std::string_view kUncommitted = "uncommitted";  // only the working tree differs
}  // namespace change_kind

// One file's line counts (`git diff --numstat`); nullopt counts: a binary file.
using FileStat = FileChangeStat;

// The run's Changes (model/run.h: kind, SHAs, files_changed relative to the repository root,
// diff_stat per file in the same order; after_sha nullopt: the agent left no readable HEAD)
// plus what only the run's files need to know.
struct ChangeSet : Changes {
  bool patch = false;   // diff.patch written
  bool bundle = false;  // changes.bundle written
  // (Changes::redacted: secret values or credential shapes were replaced in diff.patch
  // ([REDACTED]: the patch no longer applies as is), or only the history held them: the bundle
  // is withheld either way.)
  // Why, when the bundle was withheld for what only the history shows (security audit F7):
  // "a secret in the history (commits, messages, file names)" or "history larger than …".
  // "" otherwise. In changes.json as "redaction" when set.
  std::string redaction;
  // Audit F14: why the collection fell short of its budget — "timeout" (its whole time),
  // "too_large" (a file or git output over its size), "oom" (git killed at the run's memory
  // limit), "error" — with the detail; "" when it did not. Kind "uncollected" when nothing
  // could be collected; otherwise what was (the file list) without diff.patch and bundle. In
  // changes.json as "failure" / "failure_message".
  std::string failure;
  std::string failure_message;
};

// Redacts diff.patch in `run_dir` in place (secrets/redactor.h) and, when anything was
// replaced, deletes changes.bundle. Updates `c` (redacted, bundle).
Status RedactPatch(const std::string& run_dir, const std::vector<std::string>& secrets,
                   ChangeSet& c);

struct CollectRequest {
  std::string workspace;   // the agent's checkout
  std::string before_sha;  // Prepared::before_sha
  std::string run_dir;     // where the files go; a scratch dir is made and removed in it
  std::string cache_dir;  // the mirror (objects of `before` if the agent broke its .git); may be ""
  // The run's secret values (secrets/redactor.h also applies its credential patterns).
  std::vector<std::string> redact;
  // Bytes of history text (every commit's message, authors and full patch) read to scan it.
  std::size_t max_history_scan = 64u << 20;
};

// Never executes anything the agent wrote: the working tree is read through a private git
// directory of ours (objects borrowed from the workspace by alternates, no config, hooks or
// attributes drivers of the agent's), and every git runs with GitEnv and protocol.allow=never.
// New commits are bundled only when their history (every commit's headers, message and full
// patch, read up to req.max_history_scan bytes) holds nothing Redactor would replace given
// req.redact; otherwise redacted is set, redaction says why and there is no bundle (F7).
// Errors: kFailedPrecondition with git's message, or a status of `git`.
Result<ChangeSet> Collect(GitExec& git, const CollectRequest& req);

Status WriteChanges(const std::string& path, const ChangeSet& c);
// kNotFound when the file is absent, kInternal when it is malformed.
Result<ChangeSet> ReadChanges(const std::string& path);
// The same from the file's JSON (ExitRecord::changes); kInternal naming `where` when malformed.
Result<ChangeSet> ChangeSetFromJson(const boost::json::object& o, const std::string& where);

}  // namespace outpost::workspace
