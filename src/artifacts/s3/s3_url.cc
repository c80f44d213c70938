// Parsing of s3:// artifact URLs. Strict on purpose: a typo in a parameter name would otherwise
// silently send artifacts to AWS instead of the intended S3-compatible server.
#include <algorithm>
#include <cctype>
#include <map>

#include "artifacts/s3/s3_artifact_store.h"
#include "aws/service_url.h"
#include "aws/sigv4.h"

namespace outpost::artifacts {
namespace {

Status Bad(std::string_view url, const std::string& why) {
  return InvalidArgument("artifacts URL '" + std::string(url) + "': " + why);
}

// The S3 bucket naming rules (general purpose buckets).
std::string BucketProblem(std::string_view b) {
  if (b.empty()) return "no bucket name (expected s3://bucket[/prefix])";
  if (b.size() < 3 || b.size() > 63) return "bucket name must be 3 to 63 characters";
  for (char c : b) {
    if (!std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
      return "bucket name may only contain a-z 0-9 . and -";
    }
  }
  if (!std::isalnum(static_cast<unsigned char>(b.front())) ||
      !std::isalnum(static_cast<unsigned char>(b.back()))) {
    return "bucket name must start and end with a letter or digit";
  }
  if (b.find("..") != std::string_view::npos) return "bucket name must not contain '..'";
  if (std::all_of(b.begin(), b.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; })) {
    return "bucket name must not look like an IP address";
  }
  return "";
}

Result<std::map<std::string, std::string>> ParseQuery(std::string_view url,
                                                      std::string_view query) {
  auto params = aws::ParseServiceUrlQuery(query, {"region", "endpoint", "pathStyle"});
  if (!params.ok()) return Bad(url, params.status().message());
  return params;
}

Status CheckPrefix(std::string_view url, std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  std::string_view trimmed = prefix.substr(0, prefix.size() - 1);  // without the final '/'
  if (Status st = ValidateKey(trimmed); !st.ok()) {
    return Bad(url, "bad prefix '" + std::string(trimmed) +
                        "': segments of A-Z a-z 0-9 . _ - separated by single '/'");
  }
  return Status::Ok();
}

}  // namespace

std::string S3Location::ToUrl() const {
  std::string url = "s3://" + bucket;
  if (!prefix.empty()) url += "/" + prefix.substr(0, prefix.size() - 1);
  url += "?region=" + region;
  if (!endpoint.empty()) url += "&endpoint=" + endpoint;
  url += std::string("&pathStyle=") + (path_style ? "true" : "false");
  return url;
}

Result<S3Location> ParseS3Url(std::string_view url, const aws::EnvMap& env) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) return Bad(url, "expected s3://bucket[/prefix][?...]");
  std::string_view rest = url.substr(kScheme.size());
  std::size_t q = rest.find('?');
  std::string_view query = q == std::string_view::npos ? "" : rest.substr(q + 1);
  std::string_view path = rest.substr(0, q);
  std::size_t slash = path.find('/');
  std::string_view bucket = path.substr(0, slash);
  if (bucket.find('@') != std::string_view::npos) {
    return Bad(url,
               "credentials do not belong in the URL; use AWS_ACCESS_KEY_ID/"
               "AWS_SECRET_ACCESS_KEY or AWS_PROFILE");
  }
  if (std::string problem = BucketProblem(bucket); !problem.empty()) return Bad(url, problem);
  S3Location loc;
  loc.bucket = std::string(bucket);
  if (slash != std::string_view::npos) {
    std::string_view prefix = path.substr(slash + 1);
    while (prefix.ends_with('/')) prefix.remove_suffix(1);
    if (!prefix.empty()) loc.prefix = std::string(prefix) + "/";
  }
  OUTPOST_RETURN_IF_ERROR(CheckPrefix(url, loc.prefix));

  auto params = ParseQuery(url, query);
  if (!params.ok()) return params.status();
  loc.endpoint = (*params)["endpoint"];
  while (loc.endpoint.ends_with('/')) loc.endpoint.pop_back();
  if (!loc.endpoint.empty() && !loc.endpoint.starts_with("http://") &&
      !loc.endpoint.starts_with("https://")) {
    return Bad(url, "endpoint must be http://host[:port] or https://host[:port]");
  }
  std::string path_style = (*params)["pathStyle"];
  if (path_style.empty()) {
    loc.path_style = !loc.endpoint.empty();
  } else if (path_style == "true" || path_style == "false") {
    loc.path_style = path_style == "true";
  } else {
    return Bad(url, "pathStyle must be true or false, not '" + path_style + "'");
  }
  loc.region = (*params)["region"];
  if (loc.region.empty()) {
    auto region = aws::ResolveRegion(env);
    if (region.ok()) {
      loc.region = *region;
    } else if (!loc.endpoint.empty()) {
      loc.region = "us-east-1";  // S3-compatible servers rarely care
    } else {
      return FailedPrecondition("artifacts URL '" + std::string(url) + "': add ?region=... (" +
                                region.status().message() + ")");
    }
  }
  return loc;
}

}  // namespace outpost::artifacts
