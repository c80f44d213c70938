// Every exchange goes through Send(): sign with the clock's current time (a retry re-signs, so a
// long backoff cannot push a request past S3's 15-minute skew window), send, and map a non-2xx
// answer through MapS3Error inside the retry loop, so that throttling and 5xx are retried and
// nothing else is. Uploads are in s3_upload.cc, the error table in s3_errors.cc.
#include "aws/s3_client.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>

#include "aws/http.h"
#include "aws/s3_errors.h"
#include "aws/xml.h"
#include "common/time_util.h"

namespace outpost::aws {

namespace {

bool HasPrefixNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<WallTime> ParseHttpDate(const std::string& s) {
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

bool IsIpAddress(std::string_view host) {
  return host.find(':') != std::string_view::npos ||
         std::all_of(host.begin(), host.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
         });
}

// A bucket name that can be one DNS label in front of the endpoint (the AWS SDK's rule).
bool IsBucketLabel(std::string_view b) {
  if (b.size() < 3 || b.size() > 63 || b.front() == '-' || b.back() == '-') return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

}  // namespace

Result<std::unique_ptr<S3Client>> S3Client::Create(S3ClientOptions options, net::HttpSender sender,
                                                   const Clock& clock) {
  const std::string& region = options.region;
  if (region.empty() || !std::all_of(region.begin(), region.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '-';
      })) {
    return InvalidArgument("S3: bad region '" + region + "'");
  }
  std::string endpoint =
      options.endpoint.empty() ? "https://s3." + region + ".amazonaws.com" : options.endpoint;
  auto origin = net::ParseUrl(endpoint);
  if (!origin.ok()) return InvalidArgument("S3 endpoint: " + origin.status().message());
  if (origin->path != "/") {
    return InvalidArgument("S3 endpoint '" + endpoint + "' must not have a path");
  }
  if (options.part_size < 5 * 1024 * 1024) {
    return InvalidArgument("S3: part_size must be at least 5 MiB");
  }
  if (!sender) return InvalidArgument("S3: no HTTP sender");
  return std::unique_ptr<S3Client>(
      new S3Client(std::move(options), *origin, std::move(sender), clock));
}

S3Client::S3Client(S3ClientOptions options, net::Url origin, net::HttpSender sender,
                   const Clock& clock)
    : options_(std::move(options)),
      origin_(std::move(origin)),
      sender_(std::move(sender)),
      clock_(clock),
      retrier_(options_.retry, clock) {}

bool S3Client::VirtualHosted(std::string_view bucket) const {
  if (options_.path_style || IsIpAddress(origin_.host)) return false;
  if (origin_.tls()) return IsBucketLabel(bucket);  // a dot would break the *.s3 certificate
  std::size_t start = 0;
  for (std::size_t dot; (dot = bucket.find('.', start)) != std::string_view::npos;
       start = dot + 1) {
    if (!IsBucketLabel(bucket.substr(start, dot - start))) return false;
  }
  return IsBucketLabel(bucket.substr(start));
}

net::Url S3Client::OriginFor(std::string_view bucket) const {
  net::Url u = origin_;
  if (VirtualHosted(bucket)) u.host = std::string(bucket) + "." + u.host;
  return u;
}

std::string S3Client::PathFor(std::string_view bucket, std::string_view key) const {
  std::string encoded = UriEncode(key, /*keep_slash=*/true);
  if (VirtualHosted(bucket)) return "/" + encoded;
  return "/" + std::string(bucket) + (key.empty() ? "" : "/" + encoded);
}

Result<net::HttpResponse> S3Client::Send(const Call& call) const {
  std::string what = "S3 " + call.op + " " + S3Uri(call.bucket, call.key);
  SigningOptions signing = SigningOptions::ForS3(options_.region);
  return retrier_.Run<net::HttpResponse>(what, [&]() -> Result<net::HttpResponse> {
    SignableRequest request{call.method, PathFor(call.bucket, call.key), call.query, call.headers,
                            call.body};
    auto wire = BuildSignedRequest(OriginFor(call.bucket), std::move(request), options_.credentials,
                                   signing, clock_.Now());
    if (!wire.ok()) return wire.status();
    auto response = sender_(*wire);
    if (!response.ok()) {
      return Status(response.status().code(), what + ": " + response.status().message());
    }
    bool ok = response->status / 100 == 2 &&
              !(call.error_in_ok_body && IsS3ErrorDocument(response->body));
    if (ok) return response;
    return MapS3Error(what, *response);
  });
}

Status S3Client::CreateBucket(std::string_view bucket) const {
  Call call{"CreateBucket", "PUT", std::string(bucket), "", {}, {}, ""};
  if (options_.region != "us-east-1") {
    call.body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        options_.region +
        "</LocationConstraint>"
        "</CreateBucketConfiguration>";
  }
  auto r = Send(call);
  if (r.status().code() == Code::kConflict &&
      r.status().message().find("BucketAlreadyOwnedByYou") != std::string::npos) {
    return Status::Ok();
  }
  return r.status();
}

Status S3Client::HeadBucket(std::string_view bucket) const {
  auto r = Send({"HeadBucket", "HEAD", std::string(bucket), "", {}, {}, ""});
  if (r.status().code() == Code::kNotFound) {
    return FailedPrecondition("S3 bucket '" + std::string(bucket) + "' does not exist");
  }
  return r.status();
}

Result<std::string> S3Client::GetObject(std::string_view bucket, std::string_view key,
                                        std::optional<ByteRange> range) const {
  Params headers;
  if (range) {
    headers.emplace_back("Range", "bytes=" + std::to_string(range->first) + "-" +
                                      (range->last ? std::to_string(*range->last) : ""));
  }
  auto r = Send({"GetObject", "GET", std::string(bucket), std::string(key), {}, headers, ""});
  if (!r.ok()) return r.status();
  return std::move(r->body);
}

Result<S3Object> S3Client::HeadObject(std::string_view bucket, std::string_view key) const {
  auto r = Send({"HeadObject", "HEAD", std::string(bucket), std::string(key), {}, {}, ""});
  if (r.status().code() == Code::kNotFound) {
    // A HEAD 404 has no body to tell a missing key from a missing bucket.
    OUTPOST_RETURN_IF_ERROR(HeadBucket(bucket));
    return NotFound("S3 HeadObject " + S3Uri(bucket, key) + ": no such key");
  }
  if (!r.ok()) return r.status();
  S3Object o;
  o.key = std::string(key);
  o.size = std::strtoll(r->Header("Content-Length").c_str(), nullptr, 10);
  o.etag = r->Header("ETag");
  o.content_type = r->Header("Content-Type");
  o.last_modified = ParseHttpDate(r->Header("Last-Modified")).value_or(WallTime{});
  for (const auto& [name, value] : r->headers) {
    if (HasPrefixNoCase(name, "x-amz-meta-")) o.metadata[Lower(name.substr(11))] = value;
  }
  if (auto it = o.metadata.find("sha256"); it != o.metadata.end()) o.sha256 = it->second;
  return o;
}

Result<std::vector<S3Object>> S3Client::ListObjects(std::string_view bucket,
                                                    std::string_view prefix, int page_size) const {
  std::vector<S3Object> out;
  std::string token;
  for (;;) {
    Params query{{"list-type", "2"},
                 {"max-keys", std::to_string(page_size)},
                 {"prefix", std::string(prefix)}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    auto r = Send({"ListObjectsV2", "GET", std::string(bucket), "", query, {}, ""});
    if (!r.ok()) return r.status();
    auto xml = ParseXml(r->body);
    if (!xml.ok() || xml->name != "ListBucketResult") {
      return Internal("S3 ListObjectsV2 " + S3Uri(bucket, prefix) +
                      ": unexpected response: " + r->body.substr(0, 200));
    }
    for (const XmlElement* c : xml->Children("Contents")) {
      S3Object o;
      o.key = c->ChildText("Key");
      o.size = std::strtoll(c->ChildText("Size").c_str(), nullptr, 10);
      o.etag = c->ChildText("ETag");
      o.last_modified = ParseTime(c->ChildText("LastModified")).value_or(WallTime{});
      out.push_back(std::move(o));
    }
    if (xml->ChildText("IsTruncated") != "true") return out;
    token = xml->ChildText("NextContinuationToken");
    if (token.empty()) {
      return Internal("S3 ListObjectsV2 " + S3Uri(bucket, prefix) +
                      ": truncated page without a continuation token");
    }
  }
}

Status S3Client::DeleteObject(std::string_view bucket, std::string_view key) const {
  auto r = Send({"DeleteObject", "DELETE", std::string(bucket), std::string(key), {}, {}, ""});
  if (r.status().code() == Code::kNotFound &&
      r.status().message().find("NoSuchKey") != std::string::npos) {
    return Status::Ok();
  }
  return r.status();
}

Result<std::string> S3Client::PresignGet(std::string_view bucket, std::string_view key,
                                         std::chrono::seconds expires, WallTime now,
                                         const Params& extra_query) const {
  net::Url origin = OriginFor(bucket);
  SignableRequest request{
      "GET", PathFor(bucket, key), extra_query, {{"Host", origin.HostHeader()}}, ""};
  request.query.emplace_back("X-Amz-Content-Sha256", std::string(kUnsignedPayload));
  SigningOptions signing = SigningOptions::ForS3(options_.region);
  signing.payload_hash = std::string(kUnsignedPayload);
  auto signature = SignQuery(request, options_.credentials, signing, now, expires);
  if (!signature.ok()) return signature.status();
  Params all = request.query;
  all.insert(all.end(), signature->added_query.begin(), signature->added_query.end());
  origin.path = request.path + "?" + CanonicalQuery(all);
  return origin.ToString();
}

}  // namespace outpost::aws
