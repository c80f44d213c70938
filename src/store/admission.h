// Helpers every RunStore backend shares to implement CreateAll's admission (store/run_store.h):
// the checks of a batch, the refusal status, and the UTC day a run counts in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/run.h"
#include "store/run_store.h"

namespace outpost {

// kInvalidArgument unless `runs` is non-empty, of one tenant, one key_id and one UTC day, and
// every quota of `admission` has max >= 1 (and a key, when key-scoped).
Status ValidateBatch(const std::vector<Run>& runs, const Admission& admission);

// The refusal: kResourceExhausted "quota exceeded: ..." with details {quota, limit, current}.
Status QuotaExceeded(std::string_view quota, int limit, std::int64_t current);

// The UTC day of `t`: its first millisecond, and its "YYYY-MM-DD".
std::int64_t UtcDayStartMs(WallTime t);
std::string UtcDate(WallTime t);
inline constexpr std::int64_t kDayMs = 86'400'000;

// The id a quota of `scope` is counted under for `run`: its tenant or its key_id.
const std::string& ScopeId(const Run& run, RunQuota::Scope scope);

}  // namespace outpost
