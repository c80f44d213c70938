// The run record: everything Outpost knows about one dispatch, as stored and as served.
//
// Status vocabulary is the runbook's: PENDING -> RUNNING -> COMPLETED | FAILED | TIMEOUT |
// CANCELLED; PENDING may also go straight to CANCELLED or FAILED. A terminal status is written
// once (the store enforces it) and never changes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "model/runner_kind.h"

namespace outpost {

enum class RunStatus { kPending, kRunning, kCompleted, kFailed, kTimeout, kCancelled };

std::string_view ToString(RunStatus s);
std::optional<RunStatus> ParseRunStatus(std::string_view s);
bool IsTerminal(RunStatus s);

// Phases within a status, for people watching a run: queued (PENDING), preparing (checkout),
// running (agent alive), collecting (output/diff), done (terminal). kHeld: a fan-out run whose
// siblings are still being created, not admitted until all exist. Stored and served as
// "queued", "held", "preparing", "running", "collecting", "done" (ToString / ParseRunPhase).
enum class RunPhase { kQueued, kHeld, kPreparing, kRunning, kCollecting, kDone };
std::string_view ToString(RunPhase p);
std::optional<RunPhase> ParseRunPhase(std::string_view s);

// Typed terminal reasons.
namespace reason {
inline constexpr std::string_view kSucceeded = "succeeded";
inline constexpr std::string_view kExitNonzero = "exit_nonzero";
inline constexpr std::string_view kSignaled = "signaled";
inline constexpr std::string_view kAgentError = "agent_error";
inline constexpr std::string_view kTimeoutTotal = "timeout_total";
inline constexpr std::string_view kTimeoutInactive = "timeout_inactive";
inline constexpr std::string_view kOom = "oom";
inline constexpr std::string_view kDiskQuota = "disk_quota";
// The run's cost crossed its maxCostUsd: stopped like a cancel, ended FAILED.
inline constexpr std::string_view kBudgetExceeded = "budget_exceeded";
inline constexpr std::string_view kCancelled = "cancelled";
inline constexpr std::string_view kInfraError = "infra_error";
inline constexpr std::string_view kRepoError = "repo_error";
inline constexpr std::string_view kSupervisorLost = "supervisor_lost";
inline constexpr std::string_view kNodeLost = "node_lost";
}  // namespace reason

struct ResourceConstraints {
  std::optional<int> max_memory_mb;
  std::optional<int> max_cpu_units;
  std::optional<int> max_disk_gb;
  bool operator==(const ResourceConstraints&) const = default;
};

// One changed file's line counts; nullopt counts: a binary file.
struct FileChangeStat {
  std::string path;
  std::optional<std::int64_t> insertions;
  std::optional<std::int64_t> deletions;
  bool operator==(const FileChangeStat&) const = default;
};

struct Changes {
  std::string kind = "none";  // none | committed | uncommitted
  std::optional<std::string> before_sha;
  std::optional<std::string> after_sha;
  std::vector<std::string> files_changed;
  std::vector<FileChangeStat> diff_stat;
  bool redacted = false;  // a secret in diff.patch (replaced) or the history: no bundle kept
  bool operator==(const Changes&) const = default;
};

// One stored artifact of a finished run (artifacts/): under dispatches/<runId>/<name>.
struct ArtifactRef {
  std::string name;  // output.log, summary.json, diff.patch, changes.bundle, ...
  std::string type;  // output | logs | metadata | patch | bundle
  std::string content_type;
  std::int64_t size_bytes = 0;
  std::string sha256;
  bool operator==(const ArtifactRef&) const = default;
};

// Where a finished run's artifacts stand. kPending until the upload after the terminal status
// is done; kPartial when some could not be stored after every retry (artifacts_missing).
// kNone: not terminal yet, or no uploader. Stored and served as "", "pending", "stored",
// "partial" (ToString / ParseArtifactsState).
enum class ArtifactsState { kNone, kPending, kStored, kPartial };
std::string_view ToString(ArtifactsState s);
std::optional<ArtifactsState> ParseArtifactsState(std::string_view s);

// What the agent may reach. kNone: nothing (a sandbox's loopback only); kAllowlist: only the
// run's allowlist, through a proxy that records what it refused; kHost: the machine's network.
// Stored and served as "none", "allowlist", "host".
enum class NetworkPolicy { kNone, kAllowlist, kHost };
std::string_view ToString(NetworkPolicy policy);
// nullopt for a name other than "none", "allowlist" or "host".
std::optional<NetworkPolicy> ParseNetworkPolicy(std::string_view name);

struct Usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  double cost_usd = 0;
  // Where cost_usd comes from: "agent" (the agent reported its own cost, e.g. claude's
  // total_cost_usd) or "rates" (tokens x the agent's configured rates); "" for older records.
  std::string cost_source;
  bool operator==(const Usage&) const = default;
};

// An egress attempt the run's allowlist proxy refused.
struct BlockedConnection {
  std::string host;
  int port = 0;
  WallTime at;
  bool operator==(const BlockedConnection&) const = default;
};

// Where a run's changes were pushed (promote: core/promoter.h): the branch, its commit, and the
// pull request opened for it (pr_number 0, pr_url "": none yet). `by`: the key id that promoted
// it ("" in open mode).
struct Promotion {
  std::string branch;
  std::string base;    // the branch a pull request targets ("" when none was opened)
  std::string commit;  // the pushed branch's head
  std::string pr_url;
  std::int64_t pr_number = 0;
  WallTime at;
  std::string by;
  bool operator==(const Promotion&) const = default;
};

// The run's check command (the dispatch's `verify`, e.g. "make test"), run by its supervisor
// in the same sandbox after the agent and before the changes are collected: how it ended.
// A fact about the result; it never changes the run's status. exit_code: nullopt when it was
// stopped (timed_out: the run's total deadline; or a cancel) or could not start. tail: the
// last ~4 KiB of its stdout and stderr (together), redacted like the output.
struct Verification {
  std::optional<int> exit_code;
  bool passed = false;  // exited with 0
  std::string tail;
  bool timed_out = false;
  bool operator==(const Verification&) const = default;
};

struct Run {
  RunId id;
  std::string tenant = "default";
  RunStatus status = RunStatus::kPending;
  RunPhase phase = RunPhase::kQueued;
  std::optional<std::string> reason;

  // What was asked (immutable after creation).
  std::string agent;
  std::string model_id;
  std::string task;
  std::optional<std::string> repo;
  std::optional<std::string> branch;
  std::string context = "standard";
  int timeout_seconds = 600;
  std::optional<int> inactivity_timeout_seconds;
  // The cost ceiling (USD): the run is stopped (FAILED budget_exceeded) once its usage so far
  // prices above it. nullopt: none.
  std::optional<double> max_cost_usd;
  std::string workspace_mode = "ephemeral";
  NetworkPolicy network = NetworkPolicy::kNone;
  ResourceConstraints resources;
  std::vector<std::string> additional_secrets;
  std::map<std::string, std::string> tags;
  std::optional<std::string> idempotency_key;
  std::string request_hash;  // fingerprint of the normalized request, for idempotency
  std::optional<std::string> group_id;
  // The check command run after the agent (Verification); nullopt: none.
  std::optional<std::string> verify;

  // What happened.
  WallTime created_at;
  std::optional<WallTime> started_at;
  std::optional<WallTime> ended_at;
  std::optional<int> exit_code;
  std::optional<std::string> error_message;
  std::optional<std::string> cancel_reason;
  std::optional<WallTime> cancel_requested_at;
  std::optional<Changes> changes;
  std::optional<Usage> usage;
  std::optional<std::string> final_message;  // the agent's last message (agents/parsers)
  std::vector<BlockedConnection> network_blocked;
  ArtifactsState artifacts_state = ArtifactsState::kNone;
  std::vector<ArtifactRef> artifacts;          // stored ones
  std::vector<std::string> artifacts_missing;  // names that could not be stored
  int progress = 0;
  std::optional<Promotion> promotion;        // set once its changes were pushed (promote)
  std::optional<Verification> verification;  // once its `verify` ran
  std::string owner;                         // id of the control-plane replica that supervises it
  // The API key that dispatched it ("" when the server runs without keys): quotas set on a key
  // count the key's runs (store/run_store.h, Admission).
  std::string key_id;
  // Store-internal: the concurrency slot this run holds while PENDING or RUNNING, on backends
  // that admit through slot items (DynamoDB; "" elsewhere). Released by its terminal write.
  std::string quota_slot;
  // Store-internal: the run channel (core/run_channel.h). The SHA-256 (hex) of the token of the
  // run's current attempt (the token itself is never stored), which attempt that is (1, 2, …; a
  // new attempt's token replaces the last one's), and the exit record its supervisor reported
  // (ExitRecordToJson, compact) — the lease holder ends the run with it.
  std::string channel_token_sha256;
  std::int64_t channel_attempt = 0;
  std::optional<std::string> channel_exit;
  // The SHA-256 (hex) of the attempt's one-use bootstrap token (ChannelAccess::bootstrap_token),
  // "" once exchanged (POST …/bootstrap) or when none was issued.
  std::string channel_bootstrap_sha256;
  // The run's supervisor delivers its outputs over the run channel (Runner::OutputsOverChannel):
  // they are in the ArtifactStore, not with the runner.
  bool channel_outputs = false;

  // Optimistic-concurrency version: bumped by every successful store update.
  std::int64_t version = 0;

  bool operator==(const Run&) const = default;
};

}  // namespace outpost
