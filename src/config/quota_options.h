// Quota and audit settings of Options (config/options.h): the [quotas] and [audit] tables of
// outpost.toml and their OUTPOST_* variables.
//
//   [quotas]                      # defaults for every tenant
//   max_concurrent_runs = 10      # PENDING + RUNNING runs
//   max_runs_per_day = 500        # runs created per UTC day
//   max_timeout_seconds = 3600    # the largest timeoutSeconds a dispatch may ask for
//   requests_per_minute = 600     # API requests, per key (per tenant without keys), per replica
//   max_cost_usd_per_day = 50.0   # the tenant's daily budget: the cost of its runs created on
//                                 # the UTC day (not per key: [quotas.keys.*] refuse it)
//   [quotas.tenants.acme]         # overrides for one tenant
//   max_concurrent_runs = 50
//   [quotas.keys.01J0ABC...]      # overrides for one API key (its id)
//   requests_per_minute = 60
//   [audit]
//   retention_days = 365          # audit records kept (DynamoDB: the TTL); 0 keeps them forever
//
// 0 means unlimited; an absent key leaves the decision to the less specific level. Parsing and
// validation are in quota_config.cc (internal to config/).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace outpost {

// One level of [quotas]: each limit as set there (0: unlimited), or nullopt when not set.
struct QuotaLimits {
  std::optional<int> max_concurrent_runs;
  std::optional<int> max_runs_per_day;
  std::optional<int> max_timeout_seconds;
  std::optional<int> requests_per_minute;
  std::optional<double> max_cost_usd_per_day;  // USD; 0: unlimited
};

struct QuotaOptions {
  QuotaLimits defaults;                        // [quotas]
  std::map<std::string, QuotaLimits> tenants;  // [quotas.tenants.<tenant>]
  std::map<std::string, QuotaLimits> keys;     // [quotas.keys.<keyId>]
};

struct AuditOptions {
  int retention_days = 365;  // 0: forever
};

}  // namespace outpost
