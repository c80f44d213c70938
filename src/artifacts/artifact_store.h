// ArtifactStore: where a run's output, diff, bundle and summary are kept after the run, and how
// a client gets them (URLs that expire). Implementations: local/ (files under the data dir,
// served by `outpost serve` behind HMAC-signed URLs; the default) and s3/ (Amazon S3 or an
// S3-compatible server, SigV4 presigned URLs). One conformance suite
// (artifact_store_conformance.h) holds both to this contract.
//
// Keys are relative, '/'-separated, of [A-Za-z0-9._-] segments, no empty, "." or ".." segment,
// at most 512 bytes ("dispatches/01J…/output.log"); anything else is kInvalidArgument. A backend
// adds its own prefix (the data dir, the bucket's prefix).
//
// Contract:
//  - Put/PutFile replace the object whole: a reader sees the old object or the new one, never a
//    part. The content type given is returned by Head/List and served with the URL. The sha256
//    (lowercase hex) and size are recorded with the object.
//  - Get/Head of a missing key: kNotFound. Delete of a missing key: Ok (idempotent).
//  - List returns every object whose key starts with `prefix` (all pages), sorted by key.
//  - PresignGet returns an absolute URL that serves the object to anyone holding it until
//    `now + expires`, then is refused (403). It does not check that the object exists.
//  - Errors: kInvalidArgument (bad key), kNotFound, kPermissionDenied (credentials/ACL),
//    kFailedPrecondition (bucket missing), kUnavailable (transient: retried inside the backend
//    with jittered backoff first), kInternal.
//  - Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_source.h"
#include "common/clock.h"
#include "common/status.h"

namespace outpost::artifacts {

struct ObjectInfo {
  std::string key;
  std::int64_t size_bytes = 0;
  std::string sha256;  // lowercase hex of the content
  std::string content_type;
  WallTime modified;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // "file:///abs/path" or "s3://bucket/prefix?..." (without credentials), for logs and /health.
  virtual std::string Describe() const = 0;

  virtual Status Put(std::string_view key, std::string_view content,
                     std::string_view content_type) = 0;
  // Streams a local file (S3: multipart above 8 MiB) without holding it all in memory.
  virtual Status PutFile(std::string_view key, const std::string& path,
                         std::string_view content_type) = 0;
  // Streams `source` (all of its size(); the backends here read it twice: sha256, then the
  // bytes) without holding it all in memory. This default reads it whole and calls Put.
  virtual Status PutSource(std::string_view key, ByteSource& source, std::string_view content_type);
  virtual Result<std::string> Get(std::string_view key) = 0;
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  virtual Status Delete(std::string_view key) = 0;
  virtual Result<std::string> PresignGet(std::string_view key, std::chrono::seconds expires,
                                         WallTime now) = 0;
};

// Checks a key against the rules above. kInvalidArgument naming the problem.
Status ValidateKey(std::string_view key);

}  // namespace outpost::artifacts
