// S3Client: the S3 REST calls Outpost needs, over SigV4-signed HTTP with retries.
//
// Objects: PutObject (single PUT up to the multipart threshold, else CreateMultipartUpload +
// UploadPart + CompleteMultipartUpload, aborted on failure), GetObject (optionally a byte range),
// HeadObject, ListObjectsV2 (every page), DeleteObject; CreateBucket/HeadBucket; presigned GET
// URLs. Every upload records the content's sha256 as x-amz-meta-sha256 so that HeadObject
// returns it (S3's ETag is not a content hash for multipart objects).
//
// Addressing: virtual-hosted ("https://bucket.s3.region.amazonaws.com/key", AWS's default) or
// path-style ("http://127.0.0.1:4568/bucket/key", for S3-compatible servers). As in the AWS SDKs,
// a bucket that cannot be a host name (dots over https, upper case, ...) and an endpoint that is
// an IP address fall back to path-style.
//
// Errors (S3's <Error><Code> is translated here and never leaks): NoSuchKey/NoSuchUpload ->
// kNotFound; NoSuchBucket -> kFailedPrecondition; AccessDenied, InvalidAccessKeyId,
// SignatureDoesNotMatch, expired tokens, 403 -> kPermissionDenied; SlowDown and other throttling,
// 429, 5xx and network failures -> retried with jittered backoff, then kUnavailable;
// EntityTooLarge -> kPayloadTooLarge; other 4xx -> kInvalidArgument; TLS failures ->
// kFailedPrecondition. Messages name the operation, the object and S3's code and message.
//
// Thread-safety: all methods are const-safe and may be called concurrently (the sender must be
// thread-safe, as MakeHttpSender's is).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/retry.h"
#include "aws/sigv4.h"
#include "common/byte_source.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http_transport.h"
#include "net/url.h"

namespace outpost::aws {

struct S3ClientOptions {
  std::string region = "us-east-1";
  // "scheme://host[:port]" of an S3-compatible server; "" means AWS
  // (https://s3.<region>.amazonaws.com).
  std::string endpoint;
  bool path_style = false;
  Credentials credentials;
  RetryPolicy retry;
  // Content larger than this is uploaded in parts of `part_size` (S3: at least 5 MiB each but the
  // last, at most 10,000 parts).
  std::size_t multipart_threshold = 8 * 1024 * 1024;
  std::size_t part_size = 8 * 1024 * 1024;
};

struct S3PutOptions {
  std::string content_type = "application/octet-stream";
  // Extra user metadata, sent as x-amz-meta-<name> (names lowercase). sha256 is always added.
  std::map<std::string, std::string> metadata;
};

struct S3Object {
  std::string key;
  std::int64_t size = 0;
  std::string etag;          // as S3 returns it, quotes included
  std::string content_type;  // HeadObject only
  std::string sha256;        // x-amz-meta-sha256; HeadObject only
  WallTime last_modified;
  std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix; Head only
};

// Bytes first..last inclusive; no `last` means to the end.
struct ByteRange {
  std::int64_t first = 0;
  std::optional<std::int64_t> last;
};

class S3Client {
 public:
  // `clock` signs requests (S3 refuses a time more than 15 minutes off), bounds retries and is
  // slept on between them. kInvalidArgument for an unusable endpoint or region.
  static Result<std::unique_ptr<S3Client>> Create(S3ClientOptions options, net::HttpSender sender,
                                                  const Clock& clock);

  Status CreateBucket(std::string_view bucket) const;  // Ok when it is already ours
  Status HeadBucket(std::string_view bucket) const;    // kFailedPrecondition when missing
  Status PutObject(std::string_view bucket, std::string_view key, std::string_view content,
                   const S3PutOptions& options = {}) const;
  // Streams `path`: hashed in a first pass, then sent in parts of part_size, so at most one part
  // is held in memory. kNotFound/kInternal when the file cannot be read.
  // Like PutObjectFromFile, from a ByteSource (read twice: sha256, then the bytes).
  Status PutObjectFromSource(std::string_view bucket, std::string_view key, ByteSource& source,
                             const S3PutOptions& options = {}) const;
  Status PutObjectFromFile(std::string_view bucket, std::string_view key, const std::string& path,
                           const S3PutOptions& options = {}) const;
  Result<std::string> GetObject(std::string_view bucket, std::string_view key,
                                std::optional<ByteRange> range = std::nullopt) const;
  Result<S3Object> HeadObject(std::string_view bucket, std::string_view key) const;
  // Every object under `prefix`, in S3's (byte-wise key) order, `page_size` keys per request.
  Result<std::vector<S3Object>> ListObjects(std::string_view bucket, std::string_view prefix,
                                            int page_size = 1000) const;
  Status DeleteObject(std::string_view bucket, std::string_view key) const;  // Ok when missing

  // A presigned GET URL valid from `now` for `expires` (1 s .. 7 days), signed with
  // UNSIGNED-PAYLOAD and only the Host header, query parameters sorted (the AWS SDK's form).
  // `extra_query` (e.g. response-content-disposition) is signed too. No request is made.
  Result<std::string> PresignGet(std::string_view bucket, std::string_view key,
                                 std::chrono::seconds expires, WallTime now,
                                 const Params& extra_query = {}) const;

  const S3ClientOptions& options() const { return options_; }

 private:
  // One S3 REST call, described before signing (each attempt is signed afresh).
  struct Call {
    std::string op;  // "GetObject": for messages
    std::string method;
    std::string bucket;
    std::string key;  // "" for bucket-level calls
    Params query;
    Params headers;
    std::string body;
    bool error_in_ok_body = false;  // CompleteMultipartUpload may fail with a 200
  };
  S3Client(S3ClientOptions options, net::Url origin, net::HttpSender sender, const Clock& clock);

  // Where an object (or, with an empty key, the bucket) lives: origin and wire path.
  bool VirtualHosted(std::string_view bucket) const;
  net::Url OriginFor(std::string_view bucket) const;
  std::string PathFor(std::string_view bucket, std::string_view key) const;
  Result<net::HttpResponse> Send(const Call& call) const;

  using PartReader = std::function<Result<std::string>(std::size_t max)>;
  Status PutMultipart(std::string_view bucket, std::string_view key, std::int64_t size,
                      const std::string& sha256, const PartReader& read,
                      const S3PutOptions& options) const;
  Result<std::string> UploadParts(std::string_view bucket, std::string_view key,
                                  const std::string& upload_id, std::int64_t size,
                                  const PartReader& read) const;

  S3ClientOptions options_;
  net::Url origin_;
  net::HttpSender sender_;
  const Clock& clock_;
  Retrier retrier_;
};

}  // namespace outpost::aws
