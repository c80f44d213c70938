// Like DynamoDbClient::Call: sign with the clock's time on every attempt (a retry re-signs),
// send, map a non-2xx answer inside the retry loop so that only throttling, 5xx and network
// failures are retried.
#include "aws/secretsmanager_client.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "aws/http.h"
#include "common/encoding.h"
#include "common/json_util.h"

namespace outpost::aws {
namespace json = boost::json;

namespace {

constexpr std::string_view kTargetPrefix = "secretsmanager.";
constexpr std::string_view kService = "secretsmanager";

Code CodeFor(int http_status, std::string_view type) {
  static const std::map<std::string, Code, std::less<>> kCodes = {
      {"ResourceNotFoundException", Code::kNotFound},
      {"AccessDeniedException", Code::kPermissionDenied},
      {"UnrecognizedClientException", Code::kPermissionDenied},
      {"InvalidSignatureException", Code::kPermissionDenied},
      {"IncompleteSignature", Code::kPermissionDenied},
      {"MissingAuthenticationToken", Code::kPermissionDenied},
      {"ExpiredTokenException", Code::kPermissionDenied},
      {"InvalidClientTokenId", Code::kPermissionDenied},
      {"DecryptionFailure", Code::kPermissionDenied},
      {"InvalidRequestException", Code::kFailedPrecondition},
      {"InvalidParameterException", Code::kInvalidArgument},
      {"ValidationException", Code::kInvalidArgument},
      {"InternalServiceError", Code::kUnavailable},
  };
  if (IsThrottlingCode(type) || IsRetryableHttpStatus(http_status)) return Code::kUnavailable;
  if (auto it = kCodes.find(type); it != kCodes.end()) return it->second;
  return http_status >= 400 && http_status < 500 ? Code::kInvalidArgument : Code::kInternal;
}

bool ValidRegion(const std::string& r) {
  return !r.empty() && std::all_of(r.begin(), r.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

}  // namespace

std::string GetSecretValueBody(const GetSecretValueRequest& request) {
  json::object o;
  o["SecretId"] = request.secret_id;
  if (!request.version_id.empty()) o["VersionId"] = request.version_id;
  if (!request.version_stage.empty()) o["VersionStage"] = request.version_stage;
  return ToJson(o);
}

Result<SecretValue> ParseGetSecretValue(std::string_view body) {
  auto doc = ParseJson(body, 8);
  if (!doc.ok() || !doc->is_object()) {
    return Internal("Secrets Manager GetSecretValue: the answer is not a JSON object");
  }
  const json::object& o = doc->get_object();
  SecretValue v;
  v.arn = GetString(o, "ARN").value_or("");
  v.name = GetString(o, "Name").value_or("");
  v.version_id = GetString(o, "VersionId").value_or("");
  if (auto it = o.find("VersionStages"); it != o.end() && it->value().is_array()) {
    for (const auto& s : it->value().get_array()) {
      if (s.is_string()) v.version_stages.emplace_back(s.get_string());
    }
  }
  if (auto it = o.find("SecretString"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_string()) {
      return Internal("Secrets Manager GetSecretValue: SecretString is not a string");
    }
    v.secret_string = std::string(it->value().get_string());
  }
  if (auto it = o.find("SecretBinary"); it != o.end() && !it->value().is_null()) {
    std::optional<std::string> bytes;
    if (it->value().is_string()) bytes = Base64Decode(it->value().get_string());
    if (!bytes) {
      return Internal("Secrets Manager GetSecretValue: SecretBinary is not base64");
    }
    v.secret_binary = std::move(*bytes);
  }
  if (v.secret_string.has_value() == v.secret_binary.has_value()) {
    return Internal(
        "Secrets Manager GetSecretValue: the answer must hold one of SecretString and "
        "SecretBinary");
  }
  return v;
}

Status MapSecretsManagerError(std::string_view what, const net::HttpResponse& r) {
  std::string type, message;
  if (auto doc = ParseJson(r.body); doc.ok() && doc->is_object()) {
    const json::object& o = doc->get_object();
    type = GetString(o, "__type").value_or("");
    message = GetString(o, "Message").value_or(GetString(o, "message").value_or(""));
  }
  if (type.empty()) {  // some front ends name it only in a header ("Type:http://...")
    const std::string header = r.Header("x-amzn-ErrorType");
    type = header.substr(0, header.find(':'));
  }
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  std::string text = std::string(what) + ": ";
  text += type.empty() ? "HTTP " + std::to_string(r.status) : type;
  if (!message.empty()) text += ": " + message;
  return Status(CodeFor(r.status, type), text);
}

Result<std::unique_ptr<SecretsManagerClient>> SecretsManagerClient::Create(
    SecretsManagerClientOptions options, net::HttpSender sender, const Clock& clock) {
  if (!ValidRegion(options.region)) {
    return InvalidArgument("Secrets Manager: bad region '" + options.region + "'");
  }
  std::string endpoint = options.endpoint.empty()
                             ? "https://secretsmanager." + options.region + ".amazonaws.com"
                             : options.endpoint;
  auto origin = net::ParseUrl(endpoint);
  if (!origin.ok()) {
    return InvalidArgument("Secrets Manager endpoint: " + origin.status().message());
  }
  if (origin->path != "/") {
    return InvalidArgument("Secrets Manager endpoint '" + endpoint + "' must not have a path");
  }
  if (!sender) return InvalidArgument("Secrets Manager: no HTTP sender");
  return std::unique_ptr<SecretsManagerClient>(
      new SecretsManagerClient(std::move(options), *origin, std::move(sender), clock));
}

SecretsManagerClient::SecretsManagerClient(SecretsManagerClientOptions options, net::Url origin,
                                           net::HttpSender sender, const Clock& clock)
    : options_(std::move(options)),
      origin_(std::move(origin)),
      sender_(std::move(sender)),
      clock_(clock),
      retrier_(options_.retry, clock) {}

Result<net::HttpRequest> SecretsManagerClient::Build(std::string_view op, std::string body,
                                                     WallTime now) const {
  SigningOptions signing = SigningOptions::ForService(options_.region, std::string(kService));
  signing.add_content_sha256_header = true;  // as the SDK signs it
  const std::string length = std::to_string(body.size());
  SignableRequest signable{"POST",
                           "/",
                           {},
                           {{"Content-Type", "application/x-amz-json-1.1"},
                            {"X-Amz-Target", std::string(kTargetPrefix) + std::string(op)},
                            {"Content-Length", length}},
                           std::move(body)};
  return BuildSignedRequest(origin_, std::move(signable), options_.credentials, signing, now);
}

Result<net::HttpRequest> SecretsManagerClient::BuildGetSecretValue(
    const GetSecretValueRequest& request, WallTime now) const {
  return Build("GetSecretValue", GetSecretValueBody(request), now);
}

Result<SecretValue> SecretsManagerClient::GetSecretValue(
    const GetSecretValueRequest& request) const {
  const std::string what = "Secrets Manager GetSecretValue " + request.secret_id;
  if (request.secret_id.empty()) return InvalidArgument(what + ": no secret id");
  const std::string body = GetSecretValueBody(request);
  return retrier_.Run<SecretValue>(what, [&]() -> Result<SecretValue> {
    ++attempts_;
    auto wire = Build("GetSecretValue", body, clock_.Now());
    if (!wire.ok()) return wire.status();
    auto response = sender_(*wire);
    if (!response.ok()) {
      return Status(response.status().code(), what + ": " + response.status().message());
    }
    if (response->status / 100 != 2) return MapSecretsManagerError(what, *response);
    auto value = ParseGetSecretValue(response->body);
    if (!value.ok()) return Status(value.status().code(), what + ": " + value.status().message());
    return value;
  });
}

}  // namespace outpost::aws
