// UrlSigner: the expiring URLs of the local artifact backend, which `outpost serve` itself serves
// (api/file_routes.h).
//
//   URL:       {base}/files/{key}?expires=<unix seconds>&signature=<64 lowercase hex>
//   signature: HMAC-SHA256(server key, "OUTPOST-URL-1\nGET\n/files/{key}\n<expires>")
//
// The method, the path and the expiry are all signed, so a URL cannot be extended, re-targeted
// to another key (another run's output) or used for another method. HEAD is checked as GET (it
// is a GET without the body). Keys need no percent-encoding (artifact_store.h), so the signed
// path is the path the server sees after decoding.
//
// The server key is 32 random bytes in <data_dir>/artifact-url.key, created on first start with
// mode 0600; a key file readable by others is refused, since whoever reads it can sign any URL.
// Deleting the file (and restarting) revokes every URL handed out so far.
//
// Immutable after construction: thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::artifacts {

class UrlSigner {
 public:
  static constexpr std::string_view kPathPrefix = "/files/";
  static constexpr std::size_t kKeyBytes = 32;

  // Reads <data_dir>/artifact-url.key, creating it (mode 0600) when absent. kFailedPrecondition
  // when the file is not a regular file of 32 bytes owned by this user with no group/other
  // permission bits; kInternal for I/O errors.
  static Result<UrlSigner> LoadOrCreate(const std::string& data_dir);
  static std::string KeyFilePath(const std::string& data_dir);

  // `key` is the raw secret (any length; the key file holds 32 bytes).
  explicit UrlSigner(std::string key) : key_(std::move(key)) {}

  // "/files/{key}?expires=…&signature=…", to append to the server's base URL. `object_key`
  // must already be valid (ValidateKey). The URL is refused after `expires` (whole seconds).
  std::string SignedTarget(std::string_view object_key, WallTime expires) const;

  // Checks a request for a signed path. `path` is the decoded request path ("/files/a/b"),
  // `query` its decoded query parameters. Ok, or kPermissionDenied whose message says why and
  // whose details.reason is one of: method_not_allowed, missing_parameters,
  // malformed_parameters, bad_signature (altered, re-targeted or signed with another key),
  // expired. The signature is compared in constant time; the expiry is checked only on an
  // authentic URL.
  Status Verify(std::string_view method, std::string_view path,
                const std::multimap<std::string, std::string>& query, WallTime now) const;

  // The hex signature of (method, path, expires); exposed for tests that forge URLs.
  std::string Signature(std::string_view method, std::string_view path,
                        std::int64_t expires_unix) const;

 private:
  std::string key_;
};

}  // namespace outpost::artifacts
