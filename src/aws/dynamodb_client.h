// DynamoDbClient: the DynamoDB calls Outpost needs, over the JSON protocol (POST / with
// `X-Amz-Target: DynamoDB_20120810.<Op>`, `Content-Type: application/x-amz-json-1.0`), SigV4
// signed for service "dynamodb", with retries.
//
// Requests and items are DynamoDB's own JSON (attribute values as {"S": "..."}, {"N": "12"}):
// the client adds no model of its own beyond a few helpers (ddb::S, ddb::N, ddb::GetS, ...) and
// typed wrappers for the operations the stores use. Only operations dynalite also implements are
// wrapped (no transactions, no TTL API, no ReturnValuesOnConditionCheckFailure).
//
// Errors (the `__type` suffix of DynamoDB's error document is translated here and never leaks;
// the table is MapDynamoDbError's):
//   ConditionalCheckFailedException, TransactionConflictException -> kConflict;
//   ResourceNotFoundException (no such table or index) -> kFailedPrecondition (DescribeTable:
//     kNotFound); ResourceInUseException (the table exists or is busy) -> kConflict;
//   ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded,
//     LimitExceededException, InternalServerError, ServiceUnavailable, 429, 5xx and network
//     failures -> retried with jittered backoff, then kUnavailable (SERVICE_UNAVAILABLE);
//   UnrecognizedClientException, AccessDeniedException, InvalidSignatureException, expired or
//     missing tokens -> kPermissionDenied; ValidationException -> kInvalidArgument, except an
//     item over 400 KB -> kPayloadTooLarge; ItemCollectionSizeLimitExceededException ->
//     kResourceExhausted; any other 4xx -> kInvalidArgument; anything else -> kInternal.
// Messages name the operation, the table, DynamoDB's error type and its message.
//
// Thread-safety: every method is const and may be called concurrently (the sender must be
// thread-safe, as MakeHttpSender's is).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/retry.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http_transport.h"
#include "net/url.h"

namespace outpost::aws {

// Attribute values and items in DynamoDB JSON.
namespace ddb {
using Item = boost::json::object;  // attribute name -> attribute value
boost::json::object S(std::string_view s);
boost::json::object N(std::int64_t n);
// nullopt when absent or of another type (a malformed N is nullopt too).
std::optional<std::string> GetS(const Item& item, std::string_view name);
std::optional<std::int64_t> GetN(const Item& item, std::string_view name);
}  // namespace ddb

// A ConditionExpression / FilterExpression / KeyConditionExpression and its placeholders.
struct Expression {
  std::string text;            // "" = none
  boost::json::object names;   // "#s" -> "status"
  boost::json::object values;  // ":v" -> {"N": "3"}
};

struct QueryRequest {
  std::string table;
  std::string index;  // "" = the table itself
  Expression key_condition;
  bool forward = true;                 // ScanIndexForward: false = descending sort key
  int limit = 0;                       // items evaluated per page; 0 = DynamoDB's 1 MB page
  std::optional<ddb::Item> start_key;  // ExclusiveStartKey
  std::string projection;              // ProjectionExpression; "" = every attribute
  bool consistent = false;             // only on the table, not on a GSI
};

struct ScanRequest {
  std::string table;
  Expression filter;
  int limit = 0;
  std::optional<ddb::Item> start_key;
  std::string projection;
};

struct ItemPage {
  std::vector<ddb::Item> items;
  std::optional<ddb::Item> last_key;  // LastEvaluatedKey: set when there may be more
};

struct TableInfo {
  std::string status;                    // CREATING | ACTIVE | UPDATING | DELETING
  std::vector<std::string> index_names;  // its GSIs
  std::vector<std::string> index_statuses;
};

struct DynamoDbClientOptions {
  std::string region = "us-east-1";
  // "scheme://host[:port]" of a DynamoDB-compatible server (dynalite, DynamoDB Local); "" means
  // AWS (https://dynamodb.<region>.amazonaws.com).
  std::string endpoint;
  Credentials credentials;
  RetryPolicy retry;
};

class DynamoDbClient {
 public:
  // `clock` signs requests, bounds retries and is slept on between them. kInvalidArgument for
  // an unusable region or endpoint.
  static Result<std::unique_ptr<DynamoDbClient>> Create(DynamoDbClientOptions options,
                                                        net::HttpSender sender, const Clock& clock);

  // One call of `op` ("PutItem") with `request` as its body; DynamoDB's answer. `table` only
  // names the table in messages.
  Result<boost::json::object> Call(std::string_view op, const boost::json::object& request,
                                   std::string_view table) const;

  // kNotFound when the table does not exist.
  Result<TableInfo> DescribeTable(std::string_view table) const;
  // `request` is CreateTable's body. kConflict when the table already exists.
  Status CreateTable(const boost::json::object& request) const;
  Status DeleteTable(std::string_view table) const;

  // kConflict when `condition` does not hold.
  Status PutItem(std::string_view table, const ddb::Item& item,
                 const Expression& condition = {}) const;
  // nullopt when there is no such item. Strongly consistent when `consistent`.
  Result<std::optional<ddb::Item>> GetItem(std::string_view table, const ddb::Item& key,
                                           bool consistent = true) const;
  // kConflict when `condition` does not hold; Ok when the item is absent and no condition.
  Status DeleteItem(std::string_view table, const ddb::Item& key,
                    const Expression& condition = {}) const;
  // One page.
  Result<ItemPage> Query(const QueryRequest& request) const;
  Result<ItemPage> Scan(const ScanRequest& request) const;

  const DynamoDbClientOptions& options() const { return options_; }

  // How many calls of each operation ("PutItem" -> 12) this client has made since it was
  // created: one per Call, however many attempts its retries took (`attempts` counts those).
  // For the benchmarks' "DynamoDB calls per run" and the tests of what an operation costs.
  struct CallCounts {
    std::map<std::string, std::int64_t> calls;  // by operation
    std::int64_t attempts = 0;                  // HTTP requests sent, retries included
    std::int64_t total() const;
  };
  CallCounts Counts() const;

 private:
  DynamoDbClient(DynamoDbClientOptions options, net::Url origin, net::HttpSender sender,
                 const Clock& clock);

  DynamoDbClientOptions options_;
  net::Url origin_;
  net::HttpSender sender_;
  const Clock& clock_;
  Retrier retrier_;
  mutable std::mutex counts_mu_;
  mutable CallCounts counts_;  // guarded by counts_mu_
};

// The Status for a non-2xx answer: "<what>: <Type>: <message>" (or "HTTP <status>" when the body
// names no type), with the code listed above.
Status MapDynamoDbError(std::string_view what, const net::HttpResponse& response);

}  // namespace outpost::aws
