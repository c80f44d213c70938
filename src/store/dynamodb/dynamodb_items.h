// Runs as DynamoDB items (schema in dynamodb_schema.h), page cursors, and id bounds.
#pragma once

#include <string>
#include <string_view>

#include "aws/dynamodb_client.h"
#include "common/clock.h"
#include "common/status.h"
#include "model/run.h"

namespace outpost::dynamodb {

// The item that stores `run` (its version included). expires_at = ended_at + retention when the
// run has ended and retention > 0.
aws::ddb::Item RunToItem(const Run& run, Millis retention);
// kInternal for an item this store did not write.
Result<Run> RunFromItem(const aws::ddb::Item& item);

// "<url-encoded tenant>#<key>": the idempotency table's key (the encoding keeps '#' unique).
std::string IdempotencyKey(std::string_view tenant, std::string_view key);

// The opaque cursor: base64url (no padding) of "d1:" + the last id of the page ("d1": this
// backend, format 1). DecodeCursor: the id, or kInvalidArgument "invalid cursor".
std::string EncodeCursor(std::string_view last_id);
Result<std::string> DecodeCursor(std::string_view cursor);

// The smallest ULID whose time is `t` (its random part all zeros): every run created at or after
// `t` has an id >= it.
std::string MinUlidAt(WallTime t);

}  // namespace outpost::dynamodb
