// AuditLog: the append-only record of who did what — every mutating API call (dispatch, cancel;
// the admin commands' key/tenant changes) and every run status transition. Implementations sit
// beside the run store on the same backend: sqlite/sqlite_audit_log.h (a table in the same
// file) and dynamodb/dynamodb_audit_log.h (<prefix>-audit); one conformance suite
// (audit_log_conformance.h) holds both to this contract.
//
// Contract:
//  - Append never overwrites: an existing id is kConflict. Records are never changed; they
//    go only by retention (SQLite: Prune; DynamoDB: the expires_at TTL).
//  - List is newest first by id (ULIDs: time order), or oldest first with `oldest_first`;
//    `tenant` nullopt lists every tenant (operators' export only — the API always passes the
//    caller's). Filters combine with AND; an opaque cursor pages on.
//  - What goes in is the writer's responsibility (core/auditor.h): never a task body or a
//    secret value — secret names at most.
//  - Errors: kInvalidArgument (bad cursor or limit), kConflict, kUnavailable, kInternal.
//    Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace outpost {

namespace audit_outcome {
inline constexpr std::string_view kSuccess = "success";
inline constexpr std::string_view kDenied = "denied";  // refused by policy: auth, quota
inline constexpr std::string_view kError = "error";    // invalid, not found, conflict, failure
}  // namespace audit_outcome

struct AuditRecord {
  std::string id;  // ULID
  WallTime at;
  std::string tenant = "default";
  std::string key_id;          // "" when none (open mode, or the system itself)
  std::string action;          // run.dispatch, run.cancel, run.status_changed, key.create, ...
  std::string resource;        // "run:<id>", "key:<id>", "tenant:<name>", "runs"
  std::string request_id;      // "" for the system's own transitions
  std::string client_address;  // "" likewise
  std::string outcome = std::string(audit_outcome::kSuccess);
  std::string error_code;       // the API's error code when not a success (RATE_LIMIT_EXCEEDED…)
  boost::json::object details;  // small; no task bodies, no secret values
  bool operator==(const AuditRecord&) const = default;
};

// {"id","at","tenant","keyId","action","resource","requestId","clientAddress","outcome",
//  "errorCode","details"}; empty strings are null.
boost::json::object AuditRecordToJson(const AuditRecord& r);
// kInternal for a document this code did not write.
Result<AuditRecord> AuditRecordFromJson(const boost::json::object& o);

// The opaque page cursor of both backends: base64url (no padding) of "a1:" + the last id of the
// page. Decode: the id, or kInvalidArgument naming `cursor`.
std::string EncodeAuditCursor(std::string_view last_id);
Result<std::string> DecodeAuditCursor(std::string_view cursor);

struct AuditQuery {
  int limit = 50;  // 1..1000
  std::optional<std::string> cursor;
  std::optional<std::string> tenant;  // nullopt: every tenant
  std::optional<WallTime> since;      // at >= since
  std::optional<std::string> action;
  std::optional<std::string> resource;
  bool oldest_first = false;
};

struct AuditPage {
  std::vector<AuditRecord> records;
  std::optional<std::string> next_cursor;  // set when more records match
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual Status Append(const AuditRecord& record) = 0;
  virtual Result<AuditPage> List(const AuditQuery& query) = 0;
  // Deletes records older than `before`; how many. Backends with a TTL do nothing (0).
  virtual Result<int> Prune(WallTime before) = 0;
};

}  // namespace outpost
