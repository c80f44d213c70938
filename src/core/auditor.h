// Auditor: what RunService and the Supervisor write to the audit log (store/audit_log.h), and
// what GET /audit and the admin commands read back.
//
// Written: every mutating call (run.dispatch — rejected ones too —, run.cancel, and whatever
// an adapter passes to Call, e.g. the admin commands' key.create / tenant.suspend) and every
// run status transition (run.status_changed, from the one place each transition is written).
// Never written: task bodies, secret values (secret names at most), free-form error messages
// (they may echo input: only the error code and, for a validation error, the field paths).
//
// A failed write never fails or blocks the operation it records: the record is dropped, logged
// with its action and resource, and counted (write_failures()). /health's audit check warns
// while the latest write failed: a later one that succeeds (the disk has room again) clears it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "model/request_context.h"
#include "model/run.h"
#include "store/audit_log.h"

namespace outpost {

namespace audit_action {
inline constexpr std::string_view kDispatch = "run.dispatch";
inline constexpr std::string_view kCancel = "run.cancel";
inline constexpr std::string_view kStatusChanged = "run.status_changed";
}  // namespace audit_action

// success for OK; denied for kUnauthenticated, kPermissionDenied, kResourceExhausted; else error.
std::string_view AuditOutcomeOf(const Status& status);

class Auditor {
 public:
  // `log` and `clock` must outlive the auditor.
  Auditor(AuditLog& log, const Clock& clock) : log_(log), clock_(clock) {}

  // A call by `ctx` on `resource` ("run:<id>", "key:<id>", ...) that ended with `outcome`.
  // `details` must hold nothing secret; for a failure, the error code is added here, and a
  // validation error's field paths (details.fields) or a quota refusal's details.
  void Call(const RequestContext& ctx, std::string_view action, std::string resource,
            const Status& outcome, boost::json::object details = {});
  // A run's status changed from before.status to after.status; `ctx` is the request that made
  // it (a cancel), or null for the system's own transitions (the supervisor).
  void Transition(const Run& before, const Run& after, const RequestContext* ctx = nullptr);

  // GET /audit: the caller's tenant's records, newest first. Parameters: limit (1-100, default
  // 50), cursor, since (RFC 3339), action, resource; unknown ones are rejected. kInvalidArgument
  // with details.errors[] naming each bad parameter.
  Result<AuditPage> List(const std::multimap<std::string, std::string>& params,
                         const RequestContext& ctx);

  AuditLog& log() { return log_; }
  std::int64_t write_failures() const { return failures_.load(); }
  // The latest write failed.
  bool failing() const { return failing_.load(); }

 private:
  void Append(AuditRecord record);
  // A ULID above every one this auditor minted before, so records of one millisecond keep
  // their order (a cancel's transition before the cancel itself).
  std::string NextId(WallTime at);

  AuditLog& log_;
  const Clock& clock_;
  std::atomic<std::int64_t> failures_{0};
  std::atomic<bool> failing_{false};
  std::mutex id_mu_;
  std::string last_id_;  // guarded by id_mu_
};

}  // namespace outpost
