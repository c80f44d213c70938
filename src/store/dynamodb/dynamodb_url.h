// Parsing of dynamodb:// store URLs:
//
//   dynamodb://TABLE_PREFIX[?region=us-east-1][&endpoint=http://127.0.0.1:8000][&createTables=true]
//
//  - TABLE_PREFIX: the tables are TABLE_PREFIX-runs, TABLE_PREFIX-idempotency (and, with
//    replicas, TABLE_PREFIX-replicas); letters, digits, '_', '-', '.', 1..200 characters.
//  - region: else AWS_REGION / AWS_DEFAULT_REGION / the profile's region; with a custom
//    endpoint and none of these, us-east-1.
//  - endpoint: a DynamoDB-compatible server (http[s]://host[:port]); default AWS.
//  - createTables: "true"/"false" (default false): create missing tables, as --create-tables.
// Strict on purpose: a misspelt parameter would otherwise silently talk to AWS. Credentials come
// from the standard chain, never from the URL.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "common/clock.h"
#include "common/status.h"

namespace outpost::dynamodb {

struct DynamoDbLocation {
  std::string table_prefix;
  std::string region;
  std::string endpoint;  // "" = AWS
  bool create_tables = false;

  // Canonical form, for logs and /health.
  std::string ToUrl() const;
};

// kInvalidArgument naming the problem (scheme, prefix, unknown/repeated/empty parameter, bad
// endpoint or createTables, credentials in the URL); kFailedPrecondition when no region can be
// found for AWS.
Result<DynamoDbLocation> ParseDynamoDbUrl(std::string_view url, const aws::EnvMap& env);

// How a store reaches DynamoDB: the retry policy (its backoffs sleep on the store's clock), and
// a seam for tests (null: the real transport with the environment's proxies).
struct DynamoDbConnection {
  aws::RetryPolicy retry;
  net::HttpSender sender;
};

// The client of `url`'s location, with credentials from `env` (the standard chain); every
// store on the URL (runs, tenants and keys, the audit log) opens its client so. Errors as
// ParseDynamoDbUrl, and kFailedPrecondition (naming the store) without credentials.
struct ConnectedStore {
  DynamoDbLocation location;
  std::unique_ptr<aws::DynamoDbClient> client;
};
Result<ConnectedStore> ConnectDynamoDb(std::string_view url, const aws::EnvMap& env,
                                       const Clock& clock, const DynamoDbConnection& connection);

}  // namespace outpost::dynamodb
