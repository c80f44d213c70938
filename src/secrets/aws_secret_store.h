// AwsSecretStore: secrets from AWS Secrets Manager (GetSecretValue), cached with a TTL — the
// `[secrets] backend = "aws-secretsmanager"` of `outpost serve` (README "Secrets"). The secret
// NAME (ANTHROPIC_API_KEY, a dispatch's additionalSecrets) is the Secrets Manager secret
// `<prefix><NAME>`; its SecretString (or SecretBinary) is the value.
//
// Cache: a value is kept for `cache_ttl` after it was read, and an answer "no such secret" too
// (so a missing key asked for by every /health/fleet costs one call per TTL, not one per
// request); a rotated value takes effect at most `cache_ttl` later. Errors other than kNotFound
// (throttling after retries, access denied, KMS) are not cached: the next Get asks again.
// A cache_ttl of 0 asks on every Get.
//
// Values are never logged, never put in a Status message, and Names() lists names only.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/credentials.h"
#include "aws/secretsmanager_client.h"
#include "common/clock.h"
#include "secrets/secret_store.h"

namespace outpost {

struct AwsSecretStoreOptions {
  std::string prefix;  // "outpost/prod/": the secret id is prefix + NAME
  Millis cache_ttl{std::chrono::minutes(5)};
};

class AwsSecretStore : public SecretStore {
 public:
  AwsSecretStore(std::unique_ptr<aws::SecretsManagerClient> client, AwsSecretStoreOptions options,
                 const Clock& clock);

  // kNotFound when Secrets Manager has no such secret (or it is empty); kPermissionDenied when
  // it may not be read (IAM, KMS); kUnavailable when it cannot be read now; kFailedPrecondition
  // when it is scheduled for deletion.
  Result<std::string> Get(std::string_view name) const override;
  // The names read successfully so far (Secrets Manager is not listed: that needs
  // secretsmanager:ListSecrets, which the deployment does not grant).
  std::vector<std::string> Names() const override;

  struct Stats {
    std::int64_t hits = 0;    // answered from the cache (values and "not found")
    std::int64_t misses = 0;  // GetSecretValue calls made
  };
  Stats stats() const;
  const aws::SecretsManagerClient& client() const { return *client_; }

 private:
  struct Entry {
    std::optional<std::string> value;  // nullopt: Secrets Manager said not found
    std::string not_found_message;
    MonoTime expires;
  };

  std::unique_ptr<aws::SecretsManagerClient> client_;
  AwsSecretStoreOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Entry, std::less<>> cache_;  // guarded by mu_
  mutable Stats stats_;                                      // guarded by mu_
};

struct AwsSecretStoreConfig {
  std::string region;    // "" = the AWS region chain (AWS_REGION, the profile)
  std::string endpoint;  // "" = AWS
  std::string prefix;
  int cache_ttl_seconds = 300;
};

// The store on the AWS credentials chain of `env` (aws/credentials.h) and the real transport.
// kFailedPrecondition naming what is missing (no credentials, no region).
Result<std::unique_ptr<AwsSecretStore>> OpenAwsSecretStore(const AwsSecretStoreConfig& config,
                                                           const aws::EnvMap& env,
                                                           const Clock& clock);

}  // namespace outpost
