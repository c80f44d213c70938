// DynamoDbRunStore: the scale-out RunStore on Amazon DynamoDB (tested against dynalite); the
// contract is store/run_store.h, the tables are described in dynamodb_schema.h and the URL in
// dynamodb_url.h. Only single-item operations are used (no transactions: dynalite has none).
//
//  - Create: PutItem conditioned on attribute_not_exists(id).
//  - Update: PutItem of the whole item conditioned on `version = expected AND (status is PENDING
//    or RUNNING, or unchanged)`, so "a terminal status is written once" is part of the write.
//  - Idempotency: the key is claimed first (a conditional put on <prefix>-idempotency naming the
//    new run), then the run is put. A crash between the two leaves a claim without its run. A
//    later request with the key then answers kUnavailable ("retry") while the claim is younger
//    than `idempotency_grace` (its first request may still be completing), and after that takes
//    the claim over with a conditional write and creates its own run. A request that itself took
//    longer than half the grace re-reads the claim before answering and withdraws its run if it
//    was taken over. This assumes replicas' clocks agree to well within the grace.
//  - List: newest first by id, through the GSI that narrows most (status when PENDING/RUNNING,
//    else group, tenant, status, else all-newest), paged with Query (ScanIndexForward=false,
//    ExclusiveStartKey); the other filters are applied here, reading on until limit+1 runs match
//    or the index is exhausted. `since` also bounds the id range (ids are minted from created_at:
//    a run's id time is taken to be within kIdClockSlack of it). Cursors are opaque, "d1:"+id.
//  - ListActive: the status index, PENDING and RUNNING, oldest first.
//  - ChangeMarker: a consistent GetItem of the runs table's "~changes" item, whose `seq` every
//    successful create, update and delete of a run raises (UpdateItem ADD) right after the write
//    (one more write call per run write; a writer dying in between leaves the move out).
//  - Stats(since, tenant): a Query of all-newest (tenant-newest for one tenant) from since (not
//    a Scan): cost grows with the runs
//    created since then, not with the table.
//  - Ping: DescribeTable of the runs table.
//  - Replicas: one item each in <prefix>-replicas, replaced by every heartbeat; listed by Scan.
//  - CreateAll (admission): each keyed run first claims its idempotency key (a run already
//    created under it is a replay and counts for nothing; a racing identical request sees the
//    claim); then the new runs claim concurrency slots and raise the day's counter in
//    <prefix>-quotas (dynamodb_quota.h) — a refusal releases their keys — and are put one by
//    one; a failure midway
//    deletes the runs this call created (with their keys' claims) and gives their room back, so
//    a fan-out is created whole or not at all — except for a crash midway, which leaves runs
//    the caller holds back (RunService's "held" phase) and cancels later. A terminal Update
//    frees the run's slot (the item stops naming it first); ReleaseStaleQuota frees slots that a
//    crash left held.
// GSIs are eventually consistent on AWS (not on dynalite): a run may show in List/ListActive a
// moment after Create returns, and with its previous status a moment after Update. Get is
// strongly consistent, and every write is conditional on the table itself, so no decision taken
// on a stale listing can overwrite newer state.
//
// Errors: as the contract; throttling and 5xx are retried (aws/retry.h) and then kUnavailable;
// a missing table at Open is kFailedPrecondition naming it; an item over DynamoDB's 400 KB is
// kPayloadTooLarge. Thread-safe (no mutable state besides the thread-safe client).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/retry.h"
#include "common/clock.h"
#include "net/http_transport.h"
#include "store/dynamodb/dynamodb_quota.h"
#include "store/dynamodb/dynamodb_schema.h"
#include "store/dynamodb/dynamodb_url.h"
#include "store/run_store.h"

namespace outpost::dynamodb {

// Run ids and created_at come from one clock reading (core::RunService); the slack only widens
// the id range a `since` query reads, the exact created_at filter is applied on every run.
inline constexpr Millis kIdClockSlack{60'000};

struct DynamoDbRunStoreOptions {
  bool create_tables = false;  // create missing tables (also the URL's createTables=true)
  Millis retention{30LL * 24 * 3600 * 1000};  // expires_at = ended_at + retention; 0: none
  Millis idempotency_grace{120'000};
  EnsureOptions tables;  // waiting for tables to become ACTIVE
  aws::RetryPolicy retry;
  net::HttpSender sender;  // null: the real transport (proxies from the environment)
};

class DynamoDbRunStore final : public RunStore {
 public:
  // Parses the URL, resolves credentials from `env` (the standard chain), checks (or creates)
  // the tables. kInvalidArgument for a bad URL; kFailedPrecondition for missing credentials or a
  // missing table; kUnavailable when DynamoDB does not answer. `clock` must outlive the store.
  static Result<std::unique_ptr<DynamoDbRunStore>> Open(std::string_view url,
                                                        const aws::EnvMap& env, const Clock& clock,
                                                        DynamoDbRunStoreOptions options = {});

  Result<CreateResult> Create(const Run& run) override;
  Result<std::vector<CreateResult>> CreateAll(const std::vector<Run>& runs,
                                              const Admission& admission) override;
  Result<int> ReleaseStaleQuota() override;
  Result<Run> Get(const RunId& id) override;
  Result<RunPage> List(const ListQuery& query) override;
  Result<Run> Update(const Run& run) override;
  Result<std::vector<Run>> ListActive() override;
  Result<std::optional<std::int64_t>> ChangeMarker() override;
  Result<RunStats> Stats(WallTime since, const std::optional<std::string>& tenant) override;
  Result<double> CostSince(WallTime since, const std::string& tenant) override;
  Status Ping() override;
  // Replicas: PutItem of the record; ListReplicas scans the (small) replicas table.
  Status Heartbeat(const ReplicaInfo& info) override;
  Result<std::vector<ReplicaInfo>> ListReplicas() override;

  const DynamoDbLocation& location() const { return location_; }
  const TableNames& tables() const { return tables_; }
  // The store's client, for other records kept beside the runs (replicas, leases).
  const aws::DynamoDbClient& client() const { return *client_; }

 private:
  DynamoDbRunStore(DynamoDbLocation location, std::unique_ptr<aws::DynamoDbClient> client,
                   const Clock& clock, DynamoDbRunStoreOptions options);

  Result<std::optional<Run>> Load(const std::string& id) const;
  Result<Run> PutNewRun(const Run& run) const;
  // Moves the change marker (after a write of a run; a failure is logged, not returned).
  void NoteChange() const;
  Result<CreateResult> CreateIdempotent(const Run& run) const;
  // Claims run's idempotency key for run (the first step of a keyed create): `replay` when an
  // earlier request's run holds it, else the claim is ours, made at reserved_ms.
  struct KeyClaim {
    std::optional<Run> replay;
    std::int64_t reserved_ms = 0;
  };
  Result<KeyClaim> ClaimIdempotencyKey(const Run& run) const;
  // Deletes run's claim of its key, if it still names run.
  void ReleaseKeyClaim(const Run& run) const;
  // Claims the room of `runs` (setting their quota_slot); kResourceExhausted when it is not there.
  Status Admit(std::vector<Run>& runs, const Admission& admission) const;
  // Gives back the room Admit took for `run`.
  void Unadmit(const Run& run, const Admission& admission) const;
  // Deletes a run this call created (and its key's claim) when a later one of its batch failed.
  void Withdraw(const Run& run, const Admission& admission) const;
  // Withdraw, or Unadmit and release its key, a run whose create failed, by whether it exists
  // after all.
  void GiveBack(const Run& run, const Admission& admission) const;
  Result<CreateResult> FinishClaimedCreate(const Run& run, const std::string& key,
                                           std::int64_t reserved_ms) const;
  Status ExplainFailedUpdate(const Run& attempted, const Run& stored) const;
  // Every run of `index` whose partition is `hash`, in id order (ascending when `forward`).
  Result<std::vector<Run>> QueryAll(std::string_view index, std::string_view hash_attr,
                                    const std::string& hash, bool forward) const;

  const DynamoDbLocation location_;
  const TableNames tables_;
  const std::unique_ptr<aws::DynamoDbClient> client_;
  const Clock& clock_;
  const DynamoDbRunStoreOptions options_;
  const QuotaTable quotas_;
};

}  // namespace outpost::dynamodb
