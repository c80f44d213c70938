// One table from S3's answers to our codes, so that every operation maps alike and a new S3
// error code is a one-line change. Throttling and 5xx come first: S3 may attach any code to a
// 503, and whatever it is, it is worth retrying.
#include "aws/s3_errors.h"

#include <map>

#include "aws/retry.h"
#include "aws/xml.h"

namespace outpost::aws {
namespace {

Code CodeFor(int http_status, const std::string& code) {
  static const std::map<std::string, Code, std::less<>> kCodes = {
      {"NoSuchKey", Code::kNotFound},
      {"NoSuchUpload", Code::kNotFound},
      {"NoSuchBucket", Code::kFailedPrecondition},
      {"PermanentRedirect", Code::kFailedPrecondition},  // the bucket is in another region
      {"AuthorizationHeaderMalformed", Code::kFailedPrecondition},
      {"RequestTimeTooSkewed", Code::kFailedPrecondition},
      {"PreconditionFailed", Code::kFailedPrecondition},
      {"AccessDenied", Code::kPermissionDenied},
      {"InvalidAccessKeyId", Code::kPermissionDenied},
      {"SignatureDoesNotMatch", Code::kPermissionDenied},
      {"ExpiredToken", Code::kPermissionDenied},
      {"InvalidToken", Code::kPermissionDenied},
      {"TokenRefreshRequired", Code::kPermissionDenied},
      {"AllAccessDisabled", Code::kPermissionDenied},
      {"AccountProblem", Code::kPermissionDenied},
      {"EntityTooLarge", Code::kPayloadTooLarge},
      {"BucketAlreadyExists", Code::kConflict},
      {"InternalError", Code::kUnavailable},
      {"ServiceUnavailable", Code::kUnavailable},
      {"RequestTimeout", Code::kUnavailable},
  };
  if (IsThrottlingCode(code) || IsRetryableHttpStatus(http_status)) return Code::kUnavailable;
  if (auto it = kCodes.find(code); it != kCodes.end()) return it->second;
  switch (http_status) {
    case 301:
    case 412:
      return Code::kFailedPrecondition;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kPayloadTooLarge;
    default:
      return http_status >= 400 && http_status < 500 ? Code::kInvalidArgument : Code::kInternal;
  }
}

}  // namespace

std::string S3Uri(std::string_view bucket, std::string_view key) {
  return "s3://" + std::string(bucket) + (key.empty() ? "" : "/" + std::string(key));
}

Status MapS3Error(std::string_view what, const net::HttpResponse& r) {
  std::string code, message;
  if (auto xml = ParseXml(r.body); xml.ok() && xml->name == "Error") {
    code = xml->ChildText("Code");
    message = xml->ChildText("Message");
  }
  std::string text = std::string(what) + ": HTTP " + std::to_string(r.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + message;
  return Status(CodeFor(r.status, code), text);
}

bool IsS3ErrorDocument(std::string_view body) {
  auto xml = ParseXml(body);
  return xml.ok() && xml->name == "Error";
}

}  // namespace outpost::aws
