// The quota steps of a dispatch that are not the store's (RunService::Dispatch): the maximum
// timeoutSeconds, and the retry hint of a quota refusal.
#pragma once

#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/run.h"
#include "quota/quota_policy.h"
#include "store/run_store.h"

namespace outpost {

// How long a client refused for concurrent runs is told to wait: when a run ends is not known.
inline constexpr int kConcurrentRetryAfterSeconds = 10;

// A `requested` timeoutSeconds (the request's, DispatchRequest::timeout_seconds) above `limit`
// is kInvalidArgument naming timeoutSeconds and the limit (details.errors[], details.limit) —
// not clamped, so the caller learns its run would have been cut short. An absent one (the
// default) is lowered to the limit.
Status ApplyTimeoutQuota(std::optional<int> requested, const EffectiveLimit& limit,
                         std::vector<Run>& runs);

// The quota name of a tenant over its daily budget (details.quota of the 429).
inline constexpr std::string_view kQuotaCostUsdPerDay = "cost_usd_per_day";

// The tenant's daily budget ([quotas] max_cost_usd_per_day): when the cost of its runs created
// on the UTC day of `now` (RunStore::CostSince) has reached it, kResourceExhausted with
// details {quota: "cost_usd_per_day", limit, current (USD), retryAfterSeconds: until the next UTC
// day}. A store error is returned as it is (the dispatch is refused: a budget that cannot be
// read is not waved through).
Status CheckDailyBudget(RunStore& store, const EffectiveBudget& budget, const std::string& tenant,
                        WallTime now);

// A store's quota refusal (kResourceExhausted) with details.retryAfterSeconds added: until the
// next UTC day for runs_per_day, kConcurrentRetryAfterSeconds for concurrent_runs. Any other
// status is returned as it is.
Status WithRetryAfter(Status st, WallTime now);

}  // namespace outpost
