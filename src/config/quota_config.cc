#include "config/quota_config.h"

#include <charconv>

namespace outpost::config {
namespace {

struct LimitKey {
  std::string_view key;
  std::optional<int> QuotaLimits::*field;
  int max;
  std::string_view env;
};

// Upper bounds: far beyond any sensible setting, low enough that a typo is caught (and that
// DynamoDB's slot items per scope stay a small partition).
constexpr LimitKey kLimitKeys[] = {
    {"max_concurrent_runs", &QuotaLimits::max_concurrent_runs, 10'000,
     "OUTPOST_QUOTA_MAX_CONCURRENT_RUNS"},
    {"max_runs_per_day", &QuotaLimits::max_runs_per_day, 10'000'000,
     "OUTPOST_QUOTA_MAX_RUNS_PER_DAY"},
    {"max_timeout_seconds", &QuotaLimits::max_timeout_seconds, 86'400,
     "OUTPOST_QUOTA_MAX_TIMEOUT_SECONDS"},
    {"requests_per_minute", &QuotaLimits::requests_per_minute, 1'000'000,
     "OUTPOST_QUOTA_REQUESTS_PER_MINUTE"},
};

constexpr int kMaxRetentionDays = 36'500;

Status Bad(const std::string& key, std::string_view why) {
  return InvalidArgument("config: " + key + ": " + std::string(why));
}

std::string Range(int max) {
  return "must be an integer from 0 (unlimited) to " + std::to_string(max);
}

// A tenant name or key id as the API carries them: 1-128 of [A-Za-z0-9._:-].
bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

constexpr double kMaxBudgetUsd = 1'000'000'000;

Status ApplyLimit(const std::string& path, std::string_view key, const toml::node& v,
                  QuotaLimits& limits) {
  if (key == "max_cost_usd_per_day") {
    const std::optional<double> usd = v.value<double>();
    if (!usd || !(*usd >= 0) || *usd > kMaxBudgetUsd) {
      return Bad(path, "must be a number of USD from 0 (unlimited) to 1000000000");
    }
    limits.max_cost_usd_per_day = *usd;
    return Status::Ok();
  }
  for (const LimitKey& lk : kLimitKeys) {
    if (lk.key != key) continue;
    if (!v.is_integer() || v.as_integer()->get() < 0 || v.as_integer()->get() > lk.max) {
      return Bad(path, Range(lk.max));
    }
    limits.*lk.field = static_cast<int>(v.as_integer()->get());
    return Status::Ok();
  }
  return Bad(path,
             "unknown key (max_concurrent_runs | max_runs_per_day | max_timeout_seconds | "
             "requests_per_minute | max_cost_usd_per_day)");
}

Status ApplyLevel(const std::string& prefix, const toml::table& t, QuotaLimits& limits) {
  for (const auto& [k, v] : t) {
    OUTPOST_RETURN_IF_ERROR(ApplyLimit(prefix + "." + std::string(k.str()), k.str(), v, limits));
  }
  return Status::Ok();
}

Status ApplyOverrides(const std::string& prefix, const toml::node& v,
                      std::map<std::string, QuotaLimits>& into) {
  const auto* t = v.as_table();
  if (!t) return Bad(prefix, "must be a table of [" + prefix + ".<name>] tables");
  for (const auto& [name, level] : *t) {
    const std::string path = prefix + "." + std::string(name.str());
    if (!IsName(name.str())) return Bad(path, "names are 1-128 characters of A-Z a-z 0-9 . _ : -");
    if (!level.is_table()) return Bad(path, "must be a table");
    if (prefix == "quotas.keys" && level.as_table()->contains("max_cost_usd_per_day")) {
      return Bad(path + ".max_cost_usd_per_day",
                 "a daily budget is the tenant's: set it in [quotas] or [quotas.tenants.<t>]");
    }
    OUTPOST_RETURN_IF_ERROR(ApplyLevel(path, *level.as_table(), into[std::string(name.str())]));
  }
  return Status::Ok();
}

Result<int> EnvInt(const std::string& name, const std::string& s, int max) {
  int value = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || p != s.data() + s.size() || value < 0 || value > max) {
    return InvalidArgument(name + ": must be an integer from 0 to " + std::to_string(max));
  }
  return value;
}

}  // namespace

Status ApplyQuotas(const toml::table& t, QuotaOptions& q) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "tenants") {
      OUTPOST_RETURN_IF_ERROR(ApplyOverrides("quotas.tenants", v, q.tenants));
    } else if (key == "keys") {
      OUTPOST_RETURN_IF_ERROR(ApplyOverrides("quotas.keys", v, q.keys));
    } else {
      OUTPOST_RETURN_IF_ERROR(ApplyLimit("quotas." + key, key, v, q.defaults));
    }
  }
  return Status::Ok();
}

Status ApplyAudit(const toml::table& t, AuditOptions& a) {
  for (const auto& [k, v] : t) {
    const std::string key = "audit." + std::string(k.str());
    if (k.str() != "retention_days") return Bad(key, "unknown key (retention_days)");
    if (!v.is_integer() || v.as_integer()->get() < 0 || v.as_integer()->get() > kMaxRetentionDays) {
      return Bad(key, "must be an integer from 0 (forever) to 36500");
    }
    a.retention_days = static_cast<int>(v.as_integer()->get());
  }
  return Status::Ok();
}

Status ApplyQuotaEnvironment(const EnvReader& env, QuotaOptions& q, AuditOptions& a) {
  for (const LimitKey& lk : kLimitKeys) {
    auto it = env.find(std::string(lk.env));
    if (it == env.end()) continue;
    auto v = EnvInt(it->first, it->second, lk.max);
    if (!v.ok()) return v.status();
    q.defaults.*lk.field = *v;
  }
  if (auto it = env.find("OUTPOST_QUOTA_MAX_COST_USD_PER_DAY"); it != env.end()) {
    double usd = 0;
    const std::string& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), usd);
    if (ec != std::errc() || p != s.data() + s.size() || !(usd >= 0) || usd > kMaxBudgetUsd) {
      return InvalidArgument(it->first + ": must be a number of USD from 0 to 1000000000");
    }
    q.defaults.max_cost_usd_per_day = usd;
  }
  if (auto it = env.find("OUTPOST_AUDIT_RETENTION_DAYS"); it != env.end()) {
    auto v = EnvInt(it->first, it->second, kMaxRetentionDays);
    if (!v.ok()) return v.status();
    a.retention_days = *v;
  }
  return Status::Ok();
}

}  // namespace outpost::config
