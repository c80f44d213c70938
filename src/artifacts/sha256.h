// Sha256: incremental SHA-256 (OpenSSL EVP) with a lowercase-hex result, the form every
// ArtifactStore records with an object.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace outpost::artifacts {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // The digest as 64 lowercase hex characters. Call once.
  std::string HexDigest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string Sha256Hex(std::string_view data);

// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

}  // namespace outpost::artifacts
