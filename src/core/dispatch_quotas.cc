#include "core/dispatch_quotas.h"

#include <boost/json.hpp>
#include <cmath>

#include "agents/outcome.h"
#include "common/time_util.h"
#include "store/admission.h"
#include "store/run_store.h"

namespace outpost {
namespace json = boost::json;

Status ApplyTimeoutQuota(std::optional<int> requested, const EffectiveLimit& limit,
                         std::vector<Run>& runs) {
  if (!limit.limited() || runs.empty()) return Status::Ok();
  if (requested && *requested > limit.value) {
    Status st = Status::Invalid(
        {{"timeoutSeconds", "must be at most " + std::to_string(limit.value) +
                                " (the max_timeout_seconds quota of " + limit.source + ")"}});
    st.WithDetail("limit", limit.value);
    return st;
  }
  for (Run& r : runs) r.timeout_seconds = std::min(r.timeout_seconds, limit.value);
  return Status::Ok();
}

Status CheckDailyBudget(RunStore& store, const EffectiveBudget& budget, const std::string& tenant,
                        WallTime now) {
  if (!budget.limited()) return Status::Ok();
  const std::int64_t day_start = UtcDayStartMs(now);
  auto spent = store.CostSince(FromMillis(day_start), tenant);
  if (!spent.ok()) return spent.status();
  if (*spent < budget.usd) return Status::Ok();
  Status st(Code::kResourceExhausted,
            "quota exceeded: daily budget (" + FormatUsd(*spent) + " of " + FormatUsd(budget.usd) +
                " spent today, UTC, by the runs of tenant " + tenant + "; " + budget.source + ")");
  st.WithDetail("quota", json::string(kQuotaCostUsdPerDay));
  st.WithDetail("limit", budget.usd);
  st.WithDetail("current", std::round(*spent * 1e6) / 1e6);
  const std::int64_t ms_left = day_start + kDayMs - ToMillis(now);
  st.WithDetail("retryAfterSeconds", static_cast<int>((ms_left + 999) / 1000));
  return st;
}

Status WithRetryAfter(Status st, WallTime now) {
  if (st.code() != Code::kResourceExhausted) return st;
  const json::value* quota = st.details().if_contains("quota");
  int seconds = kConcurrentRetryAfterSeconds;
  if (quota && quota->is_string() && quota->get_string() == kQuotaRunsPerDay) {
    const std::int64_t ms_left = UtcDayStartMs(now) + kDayMs - ToMillis(now);
    seconds = static_cast<int>((ms_left + 999) / 1000);
  }
  st.WithDetail("retryAfterSeconds", seconds);
  return st;
}

}  // namespace outpost
