// The quota steps of a dispatch that are not the store's (RunService::Dispatch): the maximum
// timeoutSeconds, and the retry hint of a quota refusal.
#pragma once

#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/run.h"
#include "quota/quota_policy.h"

namespace outpost {

// How long a client refused for concurrent runs is told to wait: when a run ends is not known.
inline constexpr int kConcurrentRetryAfterSeconds = 10;

// A `requested` timeoutSeconds (the request's, DispatchRequest::timeout_seconds) above `limit`
// is kInvalidArgument naming timeoutSeconds and the limit (details.errors[], details.limit) —
// not clamped, so the caller learns its run would have been cut short. An absent one (the
// default) is lowered to the limit.
Status ApplyTimeoutQuota(std::optional<int> requested, const EffectiveLimit& limit,
                         std::vector<Run>& runs);

// A store's quota refusal (kResourceExhausted) with details.retryAfterSeconds added: until the
// next UTC day for runs_per_day, kConcurrentRetryAfterSeconds for concurrent_runs. Any other
// status is returned as it is.
Status WithRetryAfter(Status st, WallTime now);

}  // namespace outpost
