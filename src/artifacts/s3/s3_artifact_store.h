// S3ArtifactStore: the ArtifactStore on Amazon S3 or an S3-compatible server, through the shared
// AWS layer (aws/s3_client.h). Objects live under `s3://bucket/prefix/<key>`; presigned URLs are
// SigV4 query-signed GETs served by S3 itself.
//
// Configured by URL:
//   s3://bucket[/prefix][?region=us-east-1][&endpoint=http://127.0.0.1:4568][&pathStyle=true]
//  - region: else AWS_REGION / AWS_DEFAULT_REGION / the profile's region; with a custom endpoint
//    and none of these, us-east-1.
//  - endpoint: an S3-compatible server (scheme://host[:port]); default AWS.
//  - pathStyle: "true"/"false"; default true with a custom endpoint, false for AWS.
// Credentials come from the standard chain (aws/credentials.h), never from the URL.
//
// Per object, the content's sha256 is stored as the x-amz-meta-sha256 metadata at upload
// (multipart above 8 MiB). ListObjectsV2 does not return metadata, so List issues a HeadObject
// per key (8 at a time) to report sha256 and content type: fine for a run's handful of
// artifacts, not meant for listing whole buckets. An object written by something else than
// Outpost has no recorded sha256 ("").
//
// Opening makes no request: a missing bucket shows on first use as kFailedPrecondition.
// Retention: S3 expires nothing by itself; give the bucket a lifecycle rule on the prefix
// (Expiration after N days, and AbortIncompleteMultipartUpload for uploads cut short by a crash).
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "artifacts/artifact_store.h"
#include "aws/credentials.h"
#include "aws/retry.h"
#include "aws/s3_client.h"
#include "common/clock.h"
#include "common/status.h"

namespace outpost::artifacts {

// The parts of an s3:// URL. `prefix` is "" or ends with '/'.
struct S3Location {
  std::string bucket;
  std::string prefix;
  std::string region;
  std::string endpoint;  // "" = AWS
  bool path_style = false;

  // The URL in canonical form (no credentials): what Describe() shows.
  std::string ToUrl() const;
};

// kInvalidArgument naming the problem (scheme, bucket name rules, bad prefix, unknown or
// repeated parameter, bad pathStyle, credentials in the URL); kFailedPrecondition when no region
// can be found for AWS.
Result<S3Location> ParseS3Url(std::string_view url, const aws::EnvMap& env);

// A seam for tests (default: the real transport, proxies from `env`), and the retry policy (its
// backoffs sleep on the store's clock).
struct S3ArtifactStoreOptions {
  net::HttpSender sender;
  aws::RetryPolicy retry;
};

// Parses the URL, resolves credentials (kFailedPrecondition naming what is missing) and builds
// the store. `clock` signs requests and must outlive the store.
Result<std::unique_ptr<ArtifactStore>> OpenS3ArtifactStore(std::string_view url,
                                                           const aws::EnvMap& env,
                                                           const Clock& clock,
                                                           S3ArtifactStoreOptions options = {});

class S3ArtifactStore final : public ArtifactStore {
 public:
  S3ArtifactStore(S3Location location, std::unique_ptr<aws::S3Client> client);

  std::string Describe() const override { return location_.ToUrl(); }
  Status Put(std::string_view key, std::string_view content,
             std::string_view content_type) override;
  Status PutFile(std::string_view key, const std::string& path,
                 std::string_view content_type) override;
  Status PutSource(std::string_view key, ByteSource& source,
                   std::string_view content_type) override;
  Result<std::string> Get(std::string_view key) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  Result<std::string> PresignGet(std::string_view key, std::chrono::seconds expires,
                                 WallTime now) override;

 private:
  std::string ObjectKey(std::string_view key) const { return location_.prefix + std::string(key); }
  Result<ObjectInfo> HeadFull(const std::string& object_key) const;

  const S3Location location_;
  const std::unique_ptr<aws::S3Client> client_;
};

}  // namespace outpost::artifacts
