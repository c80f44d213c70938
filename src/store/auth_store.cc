#include "store/auth_store.h"

namespace outpost {

std::string_view ToString(TenantStatus s) {
  return s == TenantStatus::kActive ? "active" : "suspended";
}

std::string_view ToString(KeyStatus s) { return s == KeyStatus::kActive ? "active" : "revoked"; }

std::optional<TenantStatus> ParseTenantStatus(std::string_view s) {
  if (s == "active") return TenantStatus::kActive;
  if (s == "suspended") return TenantStatus::kSuspended;
  return std::nullopt;
}

std::optional<KeyStatus> ParseKeyStatus(std::string_view s) {
  if (s == "active") return KeyStatus::kActive;
  if (s == "revoked") return KeyStatus::kRevoked;
  return std::nullopt;
}

}  // namespace outpost
