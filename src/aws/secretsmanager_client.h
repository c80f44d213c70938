// SecretsManagerClient: GetSecretValue over the AWS JSON 1.1 protocol (POST / with
// `X-Amz-Target: secretsmanager.GetSecretValue`, `Content-Type: application/x-amz-json-1.1`),
// SigV4 signed for service "secretsmanager", with retries. The request is the one the AWS SDK
// for JavaScript v3 (@aws-sdk/client-secrets-manager) sends for the same input, less the SDK's
// own telemetry headers: Content-Length and x-amz-content-sha256 are signed as it signs them
// (src/aws/secretsmanager_sdk_test.cc compares the two byte for byte).
//
// Errors (the `__type` of the error document, without its namespace; never the secret's value,
// which error documents do not carry):
//   ResourceNotFoundException -> kNotFound;
//   AccessDeniedException, UnrecognizedClientException, InvalidSignatureException, expired or
//     missing tokens -> kPermissionDenied; DecryptionFailure (KMS cannot decrypt it, usually a
//     key policy) -> kPermissionDenied;
//   InvalidRequestException (e.g. the secret is scheduled for deletion) -> kFailedPrecondition;
//   InvalidParameterException, ValidationException, other 4xx -> kInvalidArgument;
//   ThrottlingException, InternalServiceError, 429, 5xx, network failures -> retried with
//     jittered backoff, then kUnavailable.
// Messages name the operation, the secret id, the error type and AWS's message.
//
// Thread-safety: every method is const and may be called concurrently (the sender must be
// thread-safe, as MakeHttpSender's is).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
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

struct SecretsManagerClientOptions {
  std::string region = "us-east-1";
  // "scheme://host[:port]" of a Secrets Manager-compatible endpoint (a VPC endpoint's DNS name,
  // a test double); "" means AWS (https://secretsmanager.<region>.amazonaws.com).
  std::string endpoint;
  Credentials credentials;
  RetryPolicy retry;
};

struct GetSecretValueRequest {
  std::string secret_id;      // name or ARN
  std::string version_id;     // "" = not sent
  std::string version_stage;  // "" = not sent (AWS then answers AWSCURRENT)
};

// GetSecretValue's answer (API reference "Response Syntax"). Exactly one of secret_string and
// secret_binary is set.
struct SecretValue {
  std::string arn;
  std::string name;
  std::string version_id;
  std::vector<std::string> version_stages;
  std::optional<std::string> secret_string;
  std::optional<std::string> secret_binary;  // base64-decoded
};

class SecretsManagerClient {
 public:
  // `clock` signs requests, bounds retries and is slept on between them. kInvalidArgument for
  // an unusable region or endpoint.
  static Result<std::unique_ptr<SecretsManagerClient>> Create(SecretsManagerClientOptions options,
                                                              net::HttpSender sender,
                                                              const Clock& clock);

  Result<SecretValue> GetSecretValue(const GetSecretValueRequest& request) const;

  // The signed request GetSecretValue sends for `request` at `now` (for the SDK comparison).
  Result<net::HttpRequest> BuildGetSecretValue(const GetSecretValueRequest& request,
                                               WallTime now) const;

  // HTTP requests sent, retries included.
  std::int64_t attempts() const { return attempts_.load(); }
  const SecretsManagerClientOptions& options() const { return options_; }

 private:
  SecretsManagerClient(SecretsManagerClientOptions options, net::Url origin, net::HttpSender sender,
                       const Clock& clock);
  Result<net::HttpRequest> Build(std::string_view op, std::string body, WallTime now) const;

  SecretsManagerClientOptions options_;
  net::Url origin_;
  net::HttpSender sender_;
  const Clock& clock_;
  Retrier retrier_;
  mutable std::atomic<std::int64_t> attempts_{0};
};

// GetSecretValue's body: {"SecretId", "VersionId"?, "VersionStage"?} in that order (the SDK's).
std::string GetSecretValueBody(const GetSecretValueRequest& request);
// A 2xx answer of GetSecretValue; kInternal naming what is malformed (never the value).
Result<SecretValue> ParseGetSecretValue(std::string_view body);
// The Status for a non-2xx answer, with the codes listed above.
Status MapSecretsManagerError(std::string_view what, const net::HttpResponse& response);

}  // namespace outpost::aws
