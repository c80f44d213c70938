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
//  - Errors: kNotFound, kConflict, kInvalidArgument (bad cursor), kUnavailable (busy/transient),
//    kInternal. Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/run.h"

namespace outpost {

struct ListQuery {
  int limit = 20;
  std::optional<std::string> cursor;
  std::optional<std::string> tenant;  // nullopt: every tenant
  std::optional<RunStatus> status;
  std::optional<std::string> agent;
  std::optional<std::string> repo;
  std::optional<std::string> group_id;
  std::optional<WallTime> since;                          // created_at >= since
  std::vector<std::pair<std::string, std::string>> tags;  // all must match
  std::optional<std::string> artifacts_state;             // Run::artifacts_state (e.g. "pending")
};

struct RunPage {
  std::vector<Run> runs;
  std::optional<std::string> next_cursor;  // set when more runs match
};

struct CreateResult {
  Run run;
  bool created = true;  // false: an idempotent replay of an earlier Create
};

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
  bool operator==(const ReplicaInfo&) const = default;
};

class RunStore {
 public:
  virtual ~RunStore() = default;

  virtual Result<CreateResult> Create(const Run& run) = 0;
  virtual Result<Run> Get(const RunId& id) = 0;
  virtual Result<RunPage> List(const ListQuery& query) = 0;
  virtual Result<Run> Update(const Run& run) = 0;
  // PENDING and RUNNING runs, oldest first (the scheduler's FIFO).
  virtual Result<std::vector<Run>> ListActive() = 0;
  // Runs created since `since`; only `tenant`'s when set (a tenant's /health/fleet counts).
  virtual Result<RunStats> Stats(WallTime since, const std::optional<std::string>& tenant) = 0;
  // A cheap check that the store answers (for /health/ready).
  virtual Status Ping() = 0;

  // Replica records: Heartbeat inserts or replaces the record of info.id; ListReplicas returns
  // every record (live or not; the caller judges by heartbeat_at), sorted by id.
  virtual Status Heartbeat(const ReplicaInfo& info) = 0;
  virtual Result<std::vector<ReplicaInfo>> ListReplicas() = 0;
};

}  // namespace outpost
