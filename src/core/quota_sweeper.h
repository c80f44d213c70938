// QuotaSweeper: the periodic repair and tidying of quotas and the audit log, on its own thread:
//
//  - RunStore::ReleaseStaleQuota every `interval` (default a minute): admission room a crash
//    left held (DynamoDB's slots of runs that ended, or never came to be) is freed;
//  - AuditLog::Prune of records older than the retention, every hour (SQLite; DynamoDB's TTL
//    does this itself).
//
// Failures are logged and retried at the next pass. Thread-safety: Start/Stop from one thread;
// SweepOnce (tests) while not started.
#pragma once

#include <chrono>
#include <optional>

#include "common/clock.h"
#include "common/periodic_task.h"
#include "store/audit_log.h"
#include "store/run_store.h"

namespace outpost {

struct QuotaSweeperStats {
  int quota_freed = 0;
  int audit_pruned = 0;
};

class QuotaSweeper {
 public:
  // `audit` may be null; `audit_retention` 0 keeps audit records forever.
  QuotaSweeper(RunStore& store, AuditLog* audit, const Clock& clock,
               std::chrono::hours audit_retention, Millis interval = std::chrono::minutes(1));
  ~QuotaSweeper();

  void Start();
  void Stop();
  // One pass; the audit log is pruned on the first pass and then at most hourly.
  QuotaSweeperStats SweepOnce();

 private:
  RunStore& store_;
  AuditLog* audit_;
  const Clock& clock_;
  const std::chrono::hours retention_;
  std::optional<MonoTime> last_prune_;  // sweeping thread only
  PeriodicTask task_;                   // last: stopped before the members it uses go
};

}  // namespace outpost
