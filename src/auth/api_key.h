// API keys: generation, the one accepted format, hashing and comparison.
//
//   key = "otp_" + 64 lowercase hex characters (32 bytes from OpenSSL's CSPRNG: 256 bits)
//
// Stored is only SHA-256(key) as lowercase hex (store/auth_store.h), plus the first 12
// characters ("otp_" + 8 hex) so that humans can tell keys apart. A fast hash is right here: a
// slow KDF (bcrypt, argon2) protects low-entropy passwords against offline guessing, but a
// random 256-bit key cannot be guessed from its digest at any hashing speed, and a slow hash on
// every request would cost CPU at 20k req/s for nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.h"  // Sha256Hex: the stored form of a key
#include "common/status.h"

namespace outpost::auth {

inline constexpr std::string_view kKeyPrefix = "otp_";
inline constexpr std::size_t kKeyHexChars = 64;
inline constexpr std::size_t kDisplayPrefixChars = 12;

// A new key. Aborts if the CSPRNG fails (a key from a broken generator must never exist).
std::string GenerateApiKey();

// "otp_" + exactly 64 lowercase hex characters.
bool IsWellFormedApiKey(std::string_view key);

// Equal digests, in time independent of where they differ (CRYPTO_memcmp); false for different
// lengths.
bool DigestsEqual(std::string_view a, std::string_view b);

// Equal secrets (the metrics token), in time independent of the content and of where they
// differ: their SHA-256 digests are compared, so the length is not revealed either.
bool SecretsEqual(std::string_view a, std::string_view b);

// The first characters of a key, for listings and logs.
std::string DisplayPrefix(std::string_view key);

// "dispatch,status" -> {"dispatch", "status"}: known scopes (http/access.h), no duplicates, at
// least one. kInvalidArgument naming the bad one.
Result<std::vector<std::string>> ParseScopes(std::string_view csv);

}  // namespace outpost::auth
