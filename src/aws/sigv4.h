// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html).
//
// Two ways to sign one request:
//  - SignHeaders: adds X-Amz-Date (and X-Amz-Security-Token, x-amz-content-sha256 when asked)
//    and an Authorization header. Every AWS API call.
//  - SignQuery: adds X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders,
//    X-Amz-Expires, X-Amz-Security-Token and X-Amz-Signature query parameters: a presigned URL
//    anyone can use until it expires.
//
// Both expose the intermediate strings (canonical request, string to sign) so tests can compare
// them with the published AWS test vectors byte for byte. The time is always passed in.
//
// Service differences are options, not code paths: S3 signs the path exactly as sent (no dot
// segment removal, no second percent-encoding) and signs an x-amz-content-sha256 header; every
// other service normalises the path and percent-encodes it once more. SigningOptions::ForS3 and
// SigningOptions::ForService give the right set.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/crypto.h"  // Sha256Hex, HmacSha256: the hashes SigV4 signs with
#include "common/status.h"

namespace outpost::aws {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" when the credentials are long-term
};

struct SigningOptions {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "dynamodb"
  // Remove "." and ".." segments and empty segments from the path before signing.
  bool normalize_path = true;
  // The canonical URI is the path as sent, percent-encoded once more ("double encoding"). When
  // false the path as sent (already encoded by the caller) is the canonical URI.
  bool encode_path = true;
  // Header signing: add and sign x-amz-content-sha256 with the payload hash (S3 requires it).
  bool add_content_sha256_header = false;
  // Add the session token after signing, outside the signature (a few services want this).
  bool omit_session_token = false;
  // The payload hash to sign instead of sha256(body), e.g. kUnsignedPayload for presigned URLs.
  std::optional<std::string> payload_hash;

  static SigningOptions ForS3(std::string region);
  static SigningOptions ForService(std::string region, std::string service);
};

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// What is signed. `path` is the path as it goes on the wire (for S3, each key segment already
// percent-encoded by the caller); `query` holds decoded names and values in request order;
// `headers` are the request's headers as sent, and must include Host.
struct SignableRequest {
  std::string method;
  std::string path = "/";
  Params query;
  Params headers;
  std::string body;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;         // lowercase hex
  std::string signed_headers;    // "host;x-amz-date"
  std::string credential_scope;  // "20150830/us-east-1/service/aws4_request"
  // SignHeaders: the headers to add to the request, in this order (the last is Authorization).
  Params added_headers;
  // SignQuery: the query parameters to add (decoded values), in this order, ending with
  // X-Amz-Signature.
  Params added_query;
};

// kInvalidArgument when there is no Host header, the credentials are empty, or (SignQuery) the
// expiry is outside 1 s .. 7 days.
Result<Signature> SignHeaders(const SignableRequest& request, const Credentials& credentials,
                              const SigningOptions& options, WallTime now);
Result<Signature> SignQuery(const SignableRequest& request, const Credentials& credentials,
                            const SigningOptions& options, WallTime now,
                            std::chrono::seconds expires);

// ---- The building blocks, exposed for tests and for other AWS protocols. ----

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - . _ ~ (uppercase hex); '/' is kept
// when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash = false);
// Decodes %XX sequences ('+' stays '+'); malformed sequences are kept literally.
std::string UriDecode(std::string_view s);
// "/a/./b/../c//" -> "/a/c/": dot segments resolved, empty segments dropped, a trailing slash kept.
std::string NormalizePath(std::string_view path);
std::string CanonicalUri(std::string_view path, const SigningOptions& options);
// Names and values encoded, sorted by name then value, joined with '&'.
std::string CanonicalQuery(const Params& query);
// "name:value\n" for each signed header (lowercased, values trimmed, inner whitespace runs
// collapsed, repeated headers joined by ','), and the signed header list "a;b;c".
struct CanonicalHeaders {
  std::string text;
  std::string signed_names;
};
CanonicalHeaders Canonicalize(const Params& headers);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service);
// "20150830T123600Z"
std::string AmzDate(WallTime t);

}  // namespace outpost::aws
