// RunStore: the durable record of runs. Implementations: sqlite/ (embedded, default) and
// dynamodb/ (scale-out). One conformance suite (run_store_conformance.h) holds them all to this
// contract.
//
// Contract:
//  - Create never overwrites: an existing id is kConflict.
//  - Idempotency: a run created with idempotency_key K (per tenant) is returned again, with
//    created=false, for a later Create with the same K and the same request_hash; the same K with
//    another request_hash is kConflict.
//  - Update is conditional: it succeeds only when the stored version equals run.version; it stores
//    version+1 and returns the stored run. A stored terminal status never changes (an Update that
//    would change it is kConflict, with details.currentStatus). Two racing writers: one wins.
//  - List is newest first (by id, ULIDs are time-ordered) across the whole table, with an opaque
//    cursor; filters combine with AND.
//  - Admission (CreateAll): the runs are created only if they fit the quotas given, checked
//    atomically with their creation, so that a burst of creates (from any number of threads or
//    replicas sharing the store) never overshoots: of N racing creates against room for K, exactly
//    K succeed. "Concurrent" runs are the PENDING and RUNNING ones (queued runs occupy quota);
//    a terminal Update frees their room. "Per day" counts the runs created on the UTC day of the
//    runs' created_at. Idempotent replays (created=false) count for nothing. Several runs (a
//    fan-out) are admitted all together or not at all: kResourceExhausted with
//    details {quota: "concurrent_runs"|"runs_per_day", limit, current} and nothing created.
//  - Errors: kNotFound, kConflict, kInvalidArgument (bad cursor), kResourceExhausted (a quota),
//    kUnavailable (busy/transient), kInternal. Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/list_query.h"
#include "model/run.h"

namespace outpost {

struct RunPage {
  std::vector<Run> runs;
  std::optional<std::string> next_cursor;  // set when more runs match
};

struct CreateResult {
  Run run;
  bool created = true;  // false: an idempotent replay of an earlier Create
};

// A limit on the runs of one scope: the runs of the run's tenant, or those dispatched with its
// API key (Run::key_id).
struct RunQuota {
  enum class Scope { kTenant, kKey };
  Scope scope = Scope::kTenant;
  int max = 0;  // >= 1
};

// What CreateAll must fit (unset: unlimited).
struct Admission {
  std::optional<RunQuota> concurrent;  // PENDING + RUNNING runs of the scope
  std::optional<RunQuota> per_day;     // runs of the scope created on the same UTC day
  bool empty() const { return !concurrent && !per_day; }
};

inline constexpr std::string_view kQuotaConcurrentRuns = "concurrent_runs";
inline constexpr std::string_view kQuotaRunsPerDay = "runs_per_day";

// Per-agent counts and durations for /health/fleet.
struct AgentStats {
  std::map<RunStatus, int> by_status;  // runs created since `since`
  std::int64_t completed_duration_ms_total = 0;
  int completed_count = 0;
};

struct RunStats {
  std::map<std::string, AgentStats> by_agent;
};

// One control-plane replica as it announces itself (several `outpost serve` sharing a store).
// A replica is live while its heartbeat is younger than the lease; its runs are owned through
// Run::owner == id.
struct ReplicaInfo {
  std::string id;       // --replica-id (default: the host name)
  std::string host;     // host name
  std::string address;  // the API's http://host:port
  std::string version;
  WallTime started_at;
  WallTime heartbeat_at;
  int running = 0;   // runs it supervises now
  int capacity = 0;  // its max_concurrent_runs
  // SIGTERM drain (core/supervisor.h BeginDrain): it admits nothing and has released its queue.
  bool draining = false;
  // It exited after draining: its queue is anyone's at once; what it still supervised stays
  // its own until the lease passes (a replica of the same id re-adopts it, else node_lost).
  bool left = false;
  bool operator==(const ReplicaInfo&) const = default;
};

class RunStore {
 public:
  virtual ~RunStore() = default;

  virtual Result<CreateResult> Create(const Run& run) = 0;
  // Creates every run of `runs` (one tenant, one key_id, one created_at day) under `admission`
  // (see the contract above); results in the order of `runs`. kInvalidArgument for an empty
  // list or runs of several tenants/keys/days.
  virtual Result<std::vector<CreateResult>> CreateAll(const std::vector<Run>& runs,
                                                      const Admission& admission) = 0;
  // Frees the admission room held for runs that ended (or never came to exist) without
  // freeing it: a crash between a terminal write and its release. Backends whose room is the
  // runs themselves (SQLite) have nothing to do. Returns how many were freed.
  virtual Result<int> ReleaseStaleQuota() { return 0; }
  virtual Result<Run> Get(const RunId& id) = 0;
  virtual Result<RunPage> List(const ListQuery& query) = 0;
  virtual Result<Run> Update(const Run& run) = 0;
  // PENDING and RUNNING runs, oldest first (the scheduler's FIFO).
  virtual Result<std::vector<Run>> ListActive() = 0;
  // A marker of the runs' changes, for polling ListActive only when something changed (the
  // supervisor's tick): it moves (to another value) whenever a run is created, updated or deleted
  // through any store sharing the data, replicas included. One cheap read. nullopt when this
  // store keeps no marker (callers then list every time). Backends that move it after the write
  // (DynamoDB) may miss a move when a writer dies in between: callers re-list now and then anyway.
  virtual Result<std::optional<std::int64_t>> ChangeMarker() {
    return std::optional<std::int64_t>();
  }
  // Runs created since `since`; only `tenant`'s when set (a tenant's /health/fleet counts).
  virtual Result<RunStats> Stats(WallTime since, const std::optional<std::string>& tenant) = 0;
  // The summed Run::usage cost_usd (USD) of `tenant`'s runs created since `since` (a tenant's
  // daily budget, [quotas] max_cost_usd_per_day): finished runs with their final usage, running
  // ones with the usage the supervisor recorded so far. From the store, so every replica sees
  // the same spend.
  virtual Result<double> CostSince(WallTime /*since*/, const std::string& /*tenant*/) {
    return Status{Code::kInternal, "this run store does not sum costs"};
  }
  // A cheap check that the store answers (for /health/ready).
  virtual Status Ping() = 0;

  // Replica records: Heartbeat inserts or replaces the record of info.id; ListReplicas returns
  // every record (live or not; the caller judges by heartbeat_at), sorted by id.
  virtual Status Heartbeat(const ReplicaInfo& info) = 0;
  virtual Result<std::vector<ReplicaInfo>> ListReplicas() = 0;
};

}  // namespace outpost
