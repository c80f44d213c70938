#include "store/admission.h"

#include <cstdio>
#include <ctime>

#include "common/time_util.h"

namespace outpost {

Status ValidateBatch(const std::vector<Run>& runs, const Admission& admission) {
  if (runs.empty()) return InvalidArgument("CreateAll: no runs");
  const Run& first = runs.front();
  const std::int64_t day = UtcDayStartMs(first.created_at);
  for (const Run& r : runs) {
    if (r.tenant != first.tenant || r.key_id != first.key_id ||
        UtcDayStartMs(r.created_at) != day) {
      return InvalidArgument("CreateAll: the runs must share tenant, key and UTC day");
    }
  }
  for (const auto* q : {&admission.concurrent, &admission.per_day}) {
    if (!*q) continue;
    if ((*q)->max < 1) return InvalidArgument("CreateAll: a quota's max must be at least 1");
    if ((*q)->scope == RunQuota::Scope::kKey && first.key_id.empty()) {
      return InvalidArgument("CreateAll: a key-scoped quota needs runs with a key_id");
    }
  }
  return Status::Ok();
}

Status QuotaExceeded(std::string_view quota, int limit, std::int64_t current) {
  std::string what = quota == kQuotaRunsPerDay ? "runs per day" : "concurrent runs";
  Status st(Code::kResourceExhausted, "quota exceeded: " + what + " (" + std::to_string(current) +
                                          " of " + std::to_string(limit) + " in use)");
  st.WithDetail("quota", boost::json::string(quota));
  st.WithDetail("limit", limit);
  st.WithDetail("current", current);
  return st;
}

std::int64_t UtcDayStartMs(WallTime t) {
  const std::int64_t ms = ToMillis(t);
  const std::int64_t floor = ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
  return floor * kDayMs;
}

std::string UtcDate(WallTime t) {
  const std::time_t secs = static_cast<std::time_t>(UtcDayStartMs(t) / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

const std::string& ScopeId(const Run& run, RunQuota::Scope scope) {
  return scope == RunQuota::Scope::kKey ? run.key_id : run.tenant;
}

}  // namespace outpost
