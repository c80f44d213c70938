// QuotaPolicy: which limits apply to a caller (tenant, API key), from [quotas] of the config
// (config/quota_options.h).
//
// Each limit is taken from the most specific level that sets it: [quotas.keys.<keyId>], else
// [quotas.tenants.<tenant>], else [quotas]; 0 (or nothing set anywhere) is unlimited. The level
// also says what is counted: a limit set on a key counts that key's runs, one set on a tenant
// or as a default counts the tenant's runs. So with `[quotas] max_concurrent_runs = 5` and
// `[quotas.keys.K] max_concurrent_runs = 2`, requests with key K may have 2 of K's runs active,
// and every other key of the tenant shares the tenant's 5 (K's runs count there too).
// Requests per minute are always counted per key (per tenant without a key).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "config/quota_options.h"
#include "store/run_store.h"

namespace outpost {

struct EffectiveLimit {
  int value = 0;  // 0: unlimited
  RunQuota::Scope scope = RunQuota::Scope::kTenant;
  std::string source;  // "quotas", "quotas.tenants.<t>", "quotas.keys.<k>"; "" when unset
  bool limited() const { return value > 0; }
};

// The tenant's daily budget (USD; max_cost_usd_per_day), from [quotas.tenants.<t>] or [quotas].
struct EffectiveBudget {
  double usd = 0;      // 0: unlimited
  std::string source;  // "quotas" | "quotas.tenants.<t>"; "" when unset
  bool limited() const { return usd > 0; }
};

struct EffectiveQuotas {
  EffectiveLimit concurrent_runs;
  EffectiveLimit runs_per_day;
  EffectiveLimit timeout_seconds;
  EffectiveLimit requests_per_minute;
  EffectiveBudget cost_usd_per_day;
};

EffectiveQuotas ResolveQuotas(const QuotaOptions& quotas, std::string_view tenant,
                              std::string_view key_id);

// What RunStore::CreateAll must enforce for these quotas.
Admission AdmissionFor(const EffectiveQuotas& q);

// The rate limiter's bucket of a caller: "key:<id>", or "tenant:<name>" when there is no key.
std::string RateBucket(std::string_view tenant, std::string_view key_id);

}  // namespace outpost
