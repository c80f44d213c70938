// The DynamoDB tables of the dynamodb:// RunStore, and creating / checking them at start.
//
// <prefix>-runs — one item per run (on-demand billing):
//   id (S, partition key)  the run id (a ULID: sorting by id is sorting by creation time)
//   doc (S)                the whole run as JSON (RunToDoc, store/run_doc.h)
//   version (N)            optimistic-concurrency version; authoritative over doc's copy
//   kind (S)               always "run": the partition of the all-newest index
//   tenant, status, agent (S), created_ms (N)        always present
//   repo, group_id, owner, artifacts_state, idempotency_key (S), started_ms, ended_ms (N):
//                          present only when set (sparse)
//   expires_at (N)         epoch seconds: ended_at + retention, for a DynamoDB TTL on the table
//                          (set even where TTL is not enabled, e.g. dynalite); absent while the
//                          run is active or when retention is 0
//   GSIs (projection ALL, sort key id, queried descending for newest first):
//     all-newest    (kind, id)      every run: unfiltered listing, since-bounded stats
//     tenant-newest (tenant, id)    one tenant's runs
//     status-newest (status, id)    ListActive (PENDING, RUNNING ascending) and status filters
//     group-newest  (group_id, id)  the runs of one dispatch group (sparse)
//
// <prefix>-idempotency — one item per (tenant, idempotency key):
//   key (S, partition key) "<url-encoded tenant>#<key>";  run_id, request_hash (S);
//   reserved_ms (N) when the key was claimed;  expires_at (N) reserved + retention + 1 day.
//
// <prefix>-replicas — one item per control-plane replica:
//   id (S, partition key);  doc (S) ReplicaToDoc;  heartbeat_ms (N).
//
// <prefix>-quotas — admission (dynamodb_quota.h); pk (S, partition key), sk (S, sort key):
//   concurrency slots:  pk "slots#<scope>", sk the slot number "000000".."max-1";
//                       run_id (S) the run holding it, claimed_ms (N)
//   day counters:       pk "day#<scope>", sk "YYYY-MM-DD" (UTC); count (N), expires_at (N)
//   <scope> is "tenant#<url-encoded tenant>" or "key#<url-encoded key id>".
//
// <prefix>-audit — the audit log (dynamodb_audit_log.h): tenant (S, partition key), id (S, sort
//   key, a ULID: time-ordered); doc (S) the record as JSON; kind (S) "audit", action, resource
//   (S), at_ms (N), expires_at (N) at + retention (a TTL attribute). GSI all-newest (kind, id).
//
// <prefix>-events — the event log (dynamodb_event_log.h), one item per bounded batch of a run's
//   events: run_id (S, partition key), first_seq (N, sort key); last_seq (N), ended (N, 1 when
//   the item's last event is `end`), bytes (N, the events' json); and either body (S, or B when
//   not UTF-8: "<type>\t<json>\n" lines) or chunk (S, the key of the chunk object holding those
//   lines), chunk_sha256 (S), chunk_size (N); expires_at (N) write time + retention + 1 day (a
//   TTL attribute).
//
// Thread-safety: pure functions over a thread-safe client.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "aws/dynamodb_client.h"
#include "aws/retry.h"
#include "common/clock.h"
#include "common/status.h"

namespace outpost::dynamodb {

namespace attr {
inline constexpr std::string_view kId = "id";
inline constexpr std::string_view kDoc = "doc";
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kKind = "kind";
inline constexpr std::string_view kTenant = "tenant";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kAgent = "agent";
inline constexpr std::string_view kCreatedMs = "created_ms";
inline constexpr std::string_view kRepo = "repo";
inline constexpr std::string_view kGroupId = "group_id";
inline constexpr std::string_view kOwner = "owner";
inline constexpr std::string_view kArtifactsState = "artifacts_state";
inline constexpr std::string_view kIdempotencyKey = "idempotency_key";
inline constexpr std::string_view kStartedMs = "started_ms";
inline constexpr std::string_view kEndedMs = "ended_ms";
inline constexpr std::string_view kExpiresAt = "expires_at";
// idempotency table
inline constexpr std::string_view kKey = "key";
inline constexpr std::string_view kRunId = "run_id";
inline constexpr std::string_view kRequestHash = "request_hash";
inline constexpr std::string_view kReservedMs = "reserved_ms";
// replicas table
inline constexpr std::string_view kHeartbeatMs = "heartbeat_ms";
// quotas table
inline constexpr std::string_view kPk = "pk";
inline constexpr std::string_view kSk = "sk";
inline constexpr std::string_view kClaimedMs = "claimed_ms";
inline constexpr std::string_view kCount = "count";
// audit table
inline constexpr std::string_view kAction = "action";
inline constexpr std::string_view kResource = "resource";
inline constexpr std::string_view kAtMs = "at_ms";
// events table (and kRunId, kExpiresAt)
inline constexpr std::string_view kFirstSeq = "first_seq";
inline constexpr std::string_view kLastSeq = "last_seq";
inline constexpr std::string_view kEnded = "ended";
inline constexpr std::string_view kBytes = "bytes";
inline constexpr std::string_view kBody = "body";
inline constexpr std::string_view kChunk = "chunk";
inline constexpr std::string_view kChunkSha256 = "chunk_sha256";
inline constexpr std::string_view kChunkSize = "chunk_size";
}  // namespace attr

inline constexpr std::string_view kRunKind = "run";
inline constexpr std::string_view kIndexAll = "all-newest";
inline constexpr std::string_view kIndexTenant = "tenant-newest";
inline constexpr std::string_view kIndexStatus = "status-newest";
inline constexpr std::string_view kIndexGroup = "group-newest";
inline constexpr std::string_view kAuditKind = "audit";

struct TableNames {
  std::string runs;
  std::string idempotency;
  std::string replicas;
  std::string quotas;
  std::string audit;
  std::string events;
  static TableNames For(std::string_view prefix);
};

// CreateTable bodies.
boost::json::object RunsTableSpec(const std::string& name);
boost::json::object IdempotencyTableSpec(const std::string& name);
boost::json::object ReplicasTableSpec(const std::string& name);
boost::json::object QuotasTableSpec(const std::string& name);
boost::json::object AuditTableSpec(const std::string& name);
boost::json::object EventsTableSpec(const std::string& name);

struct EnsureOptions {
  bool create = false;         // create the table (and its GSIs) when missing
  Millis wait{5 * 60 * 1000};  // for CREATING tables/indexes to become ACTIVE
  Millis poll{250};
};

// Checks that the table of `spec` exists with every GSI of `spec` and waits until the table and
// its indexes are ACTIVE; with options.create, creates it first when missing (a concurrent
// creation by another replica is fine). kFailedPrecondition naming the table (and the flag that
// would create it) when missing, or naming a missing index; kUnavailable when it does not become
// ACTIVE in time. Polls every options.poll, sleeping on `clock`, for up to options.wait.
Status EnsureTable(const aws::DynamoDbClient& client, const boost::json::object& spec,
                   const EnsureOptions& options, const Clock& clock);

}  // namespace outpost::dynamodb
