// SHA-256, HMAC-SHA256, random bytes and constant-time comparison: the one place that calls
// OpenSSL's crypto API (TLS stays in net/). Hex is lowercase throughout, the form every
// ArtifactStore records, SigV4 signs and API key hashes are stored in.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost {

// Incremental SHA-256. OpenSSL fails here only on allocation failure: a broken invariant, so it
// aborts rather than returning an error.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // The digest: 32 raw bytes, or 64 lowercase hex characters. Call one of them, once.
  std::string Digest();
  std::string HexDigest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string Sha256Digest(std::string_view data);  // 32 raw bytes
std::string Sha256Hex(std::string_view data);     // 64 lowercase hex characters

// HMAC-SHA256 of `data` under `key`: 32 raw bytes, or their lowercase hex.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// `n` bytes from the operating system's generator (RAND_bytes); kInternal when it fails.
Result<std::string> RandomBytes(std::size_t n);
// Lowercase hex of RandomBytes(n): 2n characters.
Result<std::string> RandomHex(std::size_t n);

// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

// a == b in time that depends only on the length (false at once when the lengths differ), for
// comparing secrets, signatures and digests.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace outpost
