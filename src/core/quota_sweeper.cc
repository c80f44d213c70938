#include "core/quota_sweeper.h"

#include <spdlog/spdlog.h>

namespace outpost {

QuotaSweeper::QuotaSweeper(RunStore& store, AuditLog* audit, const Clock& clock,
                           std::chrono::hours audit_retention, Millis interval)
    : store_(store),
      audit_(audit),
      clock_(clock),
      retention_(audit_retention),
      task_("quota-sweeper", clock, interval, [this] { SweepOnce(); }) {}

QuotaSweeper::~QuotaSweeper() { Stop(); }

void QuotaSweeper::Start() { task_.Start(); }

void QuotaSweeper::Stop() { task_.Stop(); }

QuotaSweeperStats QuotaSweeper::SweepOnce() {
  QuotaSweeperStats stats;
  if (auto freed = store_.ReleaseStaleQuota(); freed.ok()) {
    stats.quota_freed = *freed;
  } else {
    spdlog::warn("quota sweeper: {}", freed.status().ToString());
  }
  const MonoTime now = clock_.Mono();
  if (audit_ && retention_.count() > 0 &&
      (!last_prune_ || now - *last_prune_ >= std::chrono::hours(1))) {
    last_prune_ = now;
    if (auto pruned = audit_->Prune(clock_.Now() - retention_); pruned.ok()) {
      stats.audit_pruned = *pruned;
      if (*pruned > 0) spdlog::info("audit: {} record(s) past retention deleted", *pruned);
    } else {
      spdlog::warn("audit prune: {}", pruned.status().ToString());
    }
  }
  return stats;
}

}  // namespace outpost
