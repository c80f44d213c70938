// DynamoDbAuditLog: the audit log (store/audit_log.h) in <prefix>-audit, beside the dynamodb://
// run store (table layout in dynamodb_schema.h).
//
//  - Append: PutItem conditioned on attribute_not_exists(id), partition = tenant, sort = id (a
//    ULID, so one tenant's records are in time order); expires_at = at + retention (epoch
//    seconds) for a DynamoDB TTL on the table (enable it on AWS: `aws dynamodb
//    update-time-to-live --time-to-live-specification Enabled=true,AttributeName=expires_at`).
//  - List: a Query of the tenant's partition (or, for every tenant, of the all-newest GSI),
//    descending unless oldest_first, bounded by the cursor and by `since` (ids are minted from
//    `at`); action/resource/since are then filtered here, reading on until limit+1 match.
//  - Prune: nothing to do (the TTL expires records).
//
// Thread-safety: const state over the thread-safe client of the run store it was opened from.
#pragma once

#include <memory>

#include "store/audit_log.h"
#include "store/dynamodb/dynamodb_run_store.h"

namespace outpost::dynamodb {

struct DynamoDbAuditOptions {
  bool create_table = false;                   // create <prefix>-audit when missing
  Millis retention{365LL * 24 * 3600 * 1000};  // expires_at = at + retention; 0: none
  EnsureOptions ensure;
};

class DynamoDbAuditLog final : public AuditLog {
 public:
  // Checks (or creates) <prefix>-audit of `store`'s location. `store` and `clock` must outlive
  // the log. kFailedPrecondition when the table is missing (naming it), kUnavailable.
  static Result<std::unique_ptr<DynamoDbAuditLog>> Open(const DynamoDbRunStore& store,
                                                        const Clock& clock,
                                                        DynamoDbAuditOptions options = {});

  Status Append(const AuditRecord& record) override;
  Result<AuditPage> List(const AuditQuery& query) override;
  Result<int> Prune(WallTime) override { return 0; }

 private:
  DynamoDbAuditLog(const aws::DynamoDbClient& client, std::string table, Millis retention)
      : client_(client), table_(std::move(table)), retention_(retention) {}

  const aws::DynamoDbClient& client_;
  const std::string table_;
  const Millis retention_;
};

}  // namespace outpost::dynamodb
