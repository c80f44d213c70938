// The audit log of the configured store (store/audit_log.h): the `audit` table of the SQLite
// file, or <prefix>-audit beside the DynamoDB run store (created with the other tables when
// --create-tables is given; retention from [audit] retention_days as the TTL attribute).
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/status.h"
#include "config/options.h"
#include "store/audit_log.h"
#include "store/run_store.h"

namespace outpost::app {

// `store` is the run store opened from the same options; the DynamoDB log borrows its client,
// so it must outlive the log. kInvalidArgument for an unsupported store URL; otherwise the
// backends' errors (a missing table: kFailedPrecondition naming it).
Result<std::unique_ptr<AuditLog>> OpenAuditLog(const Options& opts, RunStore& store,
                                               const Clock& clock);

// `outpost audit export`: every record (of `tenant`, when given) at or after `since`, oldest
// first, one JSON object per line on `out`. Returns the exit code (0; 5 when the store fails;
// 64 for bad options), messages on `err`.
int ExportAudit(const Options& opts, const std::string& since, const std::string& tenant,
                std::ostream& out, std::ostream& err);

}  // namespace outpost::app
