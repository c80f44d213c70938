#include "auth/api_key.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/crypto.h"
#include "http/access.h"

namespace outpost::auth {

std::string GenerateApiKey() {
  Result<std::string> hex = RandomHex(kKeyHexChars / 2);
  if (!hex.ok()) {
    std::fprintf(stderr, "outpost: the random generator failed; no key was made\n");
    std::abort();
  }
  return std::string(kKeyPrefix) + *hex;
}

bool IsWellFormedApiKey(std::string_view key) {
  if (key.size() != kKeyPrefix.size() + kKeyHexChars || !key.starts_with(kKeyPrefix)) return false;
  return std::all_of(key.begin() + kKeyPrefix.size(), key.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool DigestsEqual(std::string_view a, std::string_view b) { return ConstantTimeEquals(a, b); }

bool SecretsEqual(std::string_view a, std::string_view b) {
  return ConstantTimeEquals(Sha256Digest(a), Sha256Digest(b));
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
                             "' (dispatch, status, list, cancel, promote, admin)");
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
