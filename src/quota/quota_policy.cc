#include "quota/quota_policy.h"

namespace outpost {
namespace {

using Field = std::optional<int> QuotaLimits::*;

EffectiveLimit Resolve(const QuotaOptions& q, std::string_view tenant, std::string_view key_id,
                       Field field) {
  if (!key_id.empty()) {
    if (auto it = q.keys.find(std::string(key_id)); it != q.keys.end() && (it->second.*field)) {
      return {*(it->second.*field), RunQuota::Scope::kKey, "quotas.keys." + std::string(key_id)};
    }
  }
  if (auto it = q.tenants.find(std::string(tenant)); it != q.tenants.end() && (it->second.*field)) {
    return {*(it->second.*field), RunQuota::Scope::kTenant,
            "quotas.tenants." + std::string(tenant)};
  }
  if (q.defaults.*field) return {*(q.defaults.*field), RunQuota::Scope::kTenant, "quotas"};
  return {};
}

}  // namespace

EffectiveQuotas ResolveQuotas(const QuotaOptions& quotas, std::string_view tenant,
                              std::string_view key_id) {
  EffectiveBudget budget;
  if (auto it = quotas.tenants.find(std::string(tenant));
      it != quotas.tenants.end() && it->second.max_cost_usd_per_day) {
    budget = {*it->second.max_cost_usd_per_day, "quotas.tenants." + std::string(tenant)};
  } else if (quotas.defaults.max_cost_usd_per_day) {
    budget = {*quotas.defaults.max_cost_usd_per_day, "quotas"};
  }
  return {Resolve(quotas, tenant, key_id, &QuotaLimits::max_concurrent_runs),
          Resolve(quotas, tenant, key_id, &QuotaLimits::max_runs_per_day),
          Resolve(quotas, tenant, key_id, &QuotaLimits::max_timeout_seconds),
          Resolve(quotas, tenant, key_id, &QuotaLimits::requests_per_minute), std::move(budget)};
}

Admission AdmissionFor(const EffectiveQuotas& q) {
  Admission a;
  if (q.concurrent_runs.limited()) {
    a.concurrent = RunQuota{q.concurrent_runs.scope, q.concurrent_runs.value};
  }
  if (q.runs_per_day.limited()) a.per_day = RunQuota{q.runs_per_day.scope, q.runs_per_day.value};
  return a;
}

std::string RateBucket(std::string_view tenant, std::string_view key_id) {
  return key_id.empty() ? "tenant:" + std::string(tenant) : "key:" + std::string(key_id);
}

}  // namespace outpost
