// RunService: every operation on runs, independent of protocol. The HTTP handlers, the MCP tools
// and the CLI's embedded mode parse their input, call one method here, and format the result.
//
// Thread-safe: methods may be called concurrently from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "common/clock.h"
#include "common/status.h"
#include "config/options.h"
#include "core/log_lines.h"
#include "core/run_writer.h"
#include "model/dispatch_request.h"
#include "model/health.h"
#include "model/list_query.h"
#include "model/request_context.h"
#include "runner/runner.h"
#include "store/run_store.h"

namespace outpost {

class Auditor;
class DiskGuard;
class RunObserver;

class Supervisor;
class SecretStore;
class EventFollower;
class EventHub;

struct DispatchOutcome {
  Run run;
  bool created = true;  // false: the idempotency key matched an earlier dispatch
  // A fan-out ("agent" a list or "all"): the group's id and every run, in agent order (`run`
  // is the first).
  std::optional<std::string> group_id;
  std::vector<Run> group;
};

struct CancelOutcome {
  Run run;
  // true: the run is RUNNING and its processes are being stopped; it becomes CANCELLED once
  // none is left. false: the run is already CANCELLED.
  bool in_progress = false;
};

// The longest cancel reason, in characters (code points).
inline constexpr std::size_t kMaxCancelReason = 500;

class RunService {
 public:
  // `secrets` (may be null: none configured) decides which secrets dispatches may name and
  // whether an agent's required secrets exist.
  RunService(RunStore& store, const AgentRegistry& agents, Clock& clock, const Options& opts,
             Supervisor* supervisor, const SecretStore* secrets = nullptr);
  ~RunService();

  // Validates a dispatch (decoded by wire/dispatch_request_json.h: every field; unknown fields
  // rejected; all errors listed) and records a PENDING run.
  // Quotas of the caller (ctx.tenant, ctx.key_id; quota/quota_policy.h): a timeoutSeconds above
  // max_timeout_seconds is a validation error (an absent one defaults to at most the maximum);
  // concurrent runs and runs per day are enforced by the store with the run's creation.
  // Errors: kInvalidArgument (details.errors[]), kConflict (idempotency key reused with another
  // body), kResourceExhausted (a quota: details {quota, limit, current, retryAfterSeconds}),
  // kUnavailable (store). Every call, refused or not, is audited (SetAuditor).
  Result<DispatchOutcome> Dispatch(const DispatchRequest& request, const RequestContext& ctx);

  // kInvalidArgument for a malformed id, kNotFound when absent or another tenant's.
  // Every run this class returns (Get, List, Dispatch, Cancel) has its task as it may be shown:
  // redacted like its output (RedactedTask, core/agent_secrets.h).
  Result<Run> Get(std::string_view id, const RequestContext& ctx);

  // The caller's tenant's runs that match `query` (wire/list_query.h builds it; its tenant is
  // replaced by the caller's).
  Result<RunPage> List(ListQuery query, const RequestContext& ctx);

  // Cancels a run (idempotent). A PENDING run is CANCELLED at once; a RUNNING one is stopped
  // by its supervisor. kConflict (details.currentStatus) when it already ended otherwise;
  // kInvalidArgument (details.errors[] "reason") for a reason over kMaxCancelReason characters
  // (code points, however it came: REST and MCP alike).
  Result<CancelOutcome> Cancel(std::string_view id, const std::optional<std::string>& reason,
                               const RequestContext& ctx);

  // A page of the run's output lines (core/log_lines.h): offset >= 0, limit 1-1000;
  // kInvalidArgument naming the field otherwise, kNotFound as Get. (run_service_events.cc)
  Result<LogPage> Logs(std::string_view id, std::int64_t offset, int limit,
                       const RequestContext& ctx);
  // Follows the run's events after seq `after` (core/event_follower.h); kNotFound as Get.
  Result<std::unique_ptr<EventFollower>> Follow(std::string_view id, std::int64_t after,
                                                const RequestContext& ctx);

  // The reports of GET /health, /health/ready and /health/fleet (model/health.h; the adapters
  // format them with wire/health_json.h).
  HealthReport Health();
  ReadyReport Ready();
  // Capacity is the whole fleet's; the per-run counts (dispatches, success rates, durations) are
  // the caller's tenant's only, and are left out for an anonymous caller (ctx.tenant "").
  FleetReport Fleet(const RequestContext& ctx);

  // Adds a check to every /health report. Set before serving.
  void AddHealthSource(HealthSource source) { health_sources_.push_back(std::move(source)); }

  // Free-space guard of the data dir (core/retention.h): while it is low, Dispatch answers
  // kUnavailable and /health is degraded. Optional; set before serving.
  void SetDiskGuard(DiskGuard* guard) { disk_ = guard; }
  // Told of every dispatch's outcome (metrics). Optional; set before serving.
  void SetRunObserver(RunObserver* observer) { observer_ = observer; }
  // Where dispatches, cancels and the transitions made here are recorded (core/auditor.h).
  // Optional; set before serving.
  void SetAuditor(Auditor* auditor) {
    auditor_ = auditor;
    writer_.SetAuditor(auditor);
  }
  // Where runs' events are (the shared event log, store/event_log.h) and what wakes their
  // followers on this replica (core/event_hub.h; may be null: followers poll). Without a log,
  // runs have no events yet. Set before serving.
  void SetEventLog(EventLog* log, EventHub* hub) {
    events_ = log;
    hub_ = hub;
  }
  // For the writers of runs' events besides the supervisor's pump (the run channel): the log
  // (an empty stand-in that stores nothing when none was set) and the hub to Notify after an
  // Append (null when none was set).
  EventLog& Events();
  EventHub* Hub() const { return hub_; }
  // Copies what this replica's runner still holds of a run's events into the log (the pump's
  // Flush). Called once per finished run whose log does not end, before its logs or events are
  // read: a run that ended before the shared event log existed (an upgrade) has its whole story
  // — status and end included — only in its journal, and must not get a bare status + end in
  // an empty log instead. Optional; set before serving.
  void SetJournalImport(std::function<Status(const RunId&)> import) { import_ = std::move(import); }

  const AgentRegistry& agents() const { return agents_; }
  const Options& options() const { return opts_; }

 private:
  // `run` as a client may see it: its task redacted (RedactedTask), reading `secrets` (null: the
  // service's own store).
  void Shown(Run& run, const SecretStore* secrets = nullptr) const;
  Result<Run> Load(std::string_view id, const RequestContext& ctx);
  Result<DispatchOutcome> DispatchUnaudited(const DispatchRequest& request,
                                            const RequestContext& ctx);
  Result<DispatchOutcome> DispatchGroup(std::vector<Run> runs, const Admission& admission,
                                        const RequestContext& ctx);
  Result<CancelOutcome> CancelUnaudited(std::string_view id,
                                        const std::optional<std::string>& reason,
                                        const RequestContext& ctx);
  void AuditDispatch(const Result<DispatchOutcome>& out, const RequestContext& ctx);
  void ObserveDispatch(const DispatchRequest& request, const Result<DispatchOutcome>& out);

  RunStore& store_;
  const AgentRegistry& agents_;
  Clock& clock_;
  const Options& opts_;
  Supervisor* supervisor_;
  const SecretStore* secrets_;
  DiskGuard* disk_ = nullptr;
  RunObserver* observer_ = nullptr;
  std::vector<HealthSource> health_sources_;
  Auditor* auditor_ = nullptr;
  RunWriter writer_{store_};  // every write of a run (core/run_writer.h)
  WallTime started_at_;

  // Events and logs (run_service_events.cc).
  EventLog* events_ = nullptr;
  EventHub* hub_ = nullptr;
  std::mutex events_mu_;
  // The reader of the page a client will likely ask for next, per run (LogLines keeps its
  // position). Guarded by events_mu_; a reader in use is taken out of the map.
  std::map<std::string, std::unique_ptr<LogLines>> log_readers_;
  // SetJournalImport's function, and the finished runs it was asked about (guarded by
  // events_mu_; cleared when large: asking again is harmless).
  std::function<Status(const RunId&)> import_;
  std::set<std::string> imported_;
  void ImportJournal(const Run& run);
};

}  // namespace outpost
