// Parsing of [quotas] and [audit] (config/quota_options.h) from outpost.toml and the
// environment. Internal to config/: options.cc calls these.
#pragma once

#include <toml++/toml.h>

#include <map>
#include <string>

#include "common/status.h"
#include "config/env_reader.h"
#include "config/quota_options.h"

namespace outpost::config {

// Applies the [quotas] table. kInvalidArgument "config: quotas....: why" naming the key for an
// unknown key, a wrong type, a value out of range or a bad tenant/key name.
Status ApplyQuotas(const toml::table& t, QuotaOptions& q);
// Applies the [audit] table (retention_days 0-36500).
Status ApplyAudit(const toml::table& t, AuditOptions& a);

// OUTPOST_QUOTA_MAX_CONCURRENT_RUNS, OUTPOST_QUOTA_MAX_RUNS_PER_DAY,
// OUTPOST_QUOTA_MAX_TIMEOUT_SECONDS, OUTPOST_QUOTA_REQUESTS_PER_MINUTE,
// OUTPOST_QUOTA_MAX_COST_USD_PER_DAY (the [quotas] defaults)
// and OUTPOST_AUDIT_RETENTION_DAYS. kInvalidArgument naming the variable.
Status ApplyQuotaEnvironment(const EnvReader& env, QuotaOptions& q, AuditOptions& a);

}  // namespace outpost::config
