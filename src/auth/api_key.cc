#include "auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "http/access.h"

namespace outpost::auth {
namespace {

std::string Hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::string RawSha256(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "outpost: SHA-256 failed\n");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(digest), n);
}

}  // namespace

std::string GenerateApiKey() {
  unsigned char bytes[kKeyHexChars / 2];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::fprintf(stderr, "outpost: the random generator failed; no key was made\n");
    std::abort();
  }
  return std::string(kKeyPrefix) + Hex(bytes, sizeof bytes);
}

bool IsWellFormedApiKey(std::string_view key) {
  if (key.size() != kKeyPrefix.size() + kKeyHexChars || !key.starts_with(kKeyPrefix)) return false;
  return std::all_of(key.begin() + kKeyPrefix.size(), key.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string Sha256Hex(std::string_view text) {
  std::string raw = RawSha256(text);
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

bool DigestsEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  const std::string da = RawSha256(a), db = RawSha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

std::string DisplayPrefix(std::string_view key) {
  return std::string(key.substr(0, std::min(key.size(), kDisplayPrefixChars)));
}

Result<std::vector<std::string>> ParseScopes(std::string_view csv) {
  if (csv.empty()) return InvalidArgument("at least one scope is required");
  std::vector<std::string> out;
  std::string_view rest = csv;
  while (true) {
    auto comma = rest.find(',');
    std::string_view s = rest.substr(0, comma);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (!http::IsKnownScope(s)) {
      return InvalidArgument("unknown scope '" + std::string(s) +
                             "' (dispatch, status, list, cancel, admin)");
    }
    if (std::find(out.begin(), out.end(), s) != out.end()) {
      return InvalidArgument("scope '" + std::string(s) + "' is given twice");
    }
    out.emplace_back(s);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace outpost::auth
