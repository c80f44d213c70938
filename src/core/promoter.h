// Promoter: a finished run's changes become a branch of its repository and, on request, a
// GitHub pull request (README "Promote"). POST /runs/{id}/promote, POST /promote, the MCP
// `promote` tool and `outpost promote` all call Promote.
//
// The push is made here, in the control plane and outside any sandbox, from the run's STORED
// artifacts (changes.bundle and/or diff.patch in the ArtifactStore — what every replica has,
// whichever ran the run and wherever it ran) applied to a fresh fetch of the run's beforeSha
// (workspace/promote.h), with the tenant's own token for the repository's host
// (GitCredentialFor: the credential the clone uses). Recorded on the run (Run::promotion) and
// in the audit log (run.promote).
//
// Thread-safety: Promote may be called from any thread; one promote of a run at a time per
// process (a second concurrent one is kConflict). Two replicas promoting the same run at once
// make the same commit (fixed author and date), so the later push is a no-op.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "artifacts/artifact_store.h"
#include "common/clock.h"
#include "common/status.h"
#include "config/options.h"
#include "core/run_service.h"
#include "core/run_writer.h"
#include "model/request_context.h"
#include "model/run.h"
#include "secrets/secret_store.h"
#include "store/run_store.h"

namespace outpost {

class Auditor;

namespace audit_action {
inline constexpr std::string_view kPromote = "run.promote";
}  // namespace audit_action

struct PromoteRequest {
  std::string mode = "branch";        // "branch" | "pr"
  std::optional<std::string> branch;  // default outpost/<agent>/<runId>
  std::optional<std::string> title;   // pr: default from the task (<= 256 characters)
  std::optional<std::string> body;    // pr: default names the run, agent and task
  std::optional<std::string> base;    // pr: default the run's branch, else the default branch
  bool draft = false;
};

struct PromoteOutcome {
  Run run;                // as stored, with run.promotion set
  bool replayed = false;  // true: the run was promoted so before; nothing was pushed now
};

class Promoter {
 public:
  // Everything must outlive the promoter; `secrets` and `auditor` may be null.
  Promoter(RunService& runs, RunStore& store, artifacts::ArtifactStore& artifacts,
           const Clock& clock, const Options& opts, const SecretStore* secrets, Auditor* auditor);

  // Errors (nothing is pushed unless said):
  //  - kInvalidArgument, details.errors[] naming each bad field: mode, branch (git refuses the
  //    name), title (over 256 characters), body (over 65 536), base (not a branch name, or no
  //    such branch on the remote), repo (the run has none; pull requests need an
  //    https://HOST/OWNER/REPO one).
  //  - kNotFound: no such run, or another tenant's.
  //  - kConflict: the run did not complete (details.currentStatus), changed nothing, its
  //    changes were redacted (details.redacted: what would be pushed held a secret), its
  //    artifacts are not stored (details.artifactsStatus), it was promoted otherwise before
  //    (details.promotion), or a promote of it is in progress here.
  //  - kFailedPrecondition with details.remoteRefused: the remote refused the push (hook,
  //    permission, protected branch, an existing branch elsewhere) or GitHub the pull request
  //    (details.httpStatus); the message is git's or GitHub's. When the push succeeded and the
  //    pull request did not, the branch is recorded: a retry opens only the pull request.
  //  - kUnavailable: git or GitHub could not be reached; kInternal otherwise.
  Result<PromoteOutcome> Promote(std::string_view run_id, const PromoteRequest& request,
                                 const RequestContext& ctx);

 private:
  Result<PromoteOutcome> PromoteUnaudited(std::string_view run_id, const PromoteRequest& request,
                                          const RequestContext& ctx);

  RunService& runs_;
  RunWriter writer_;
  artifacts::ArtifactStore& artifacts_;
  const Clock& clock_;
  const Options& opts_;
  const SecretStore* secrets_;
  Auditor* auditor_;
  std::mutex mu_;
  std::set<std::string> in_flight_;  // run ids being promoted here; guarded by mu_
};

}  // namespace outpost
