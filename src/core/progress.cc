#include "core/progress.h"

#include <algorithm>
#include <cmath>

namespace outpost {

int EstimateProgress(const ProgressInputs& in) {
  if (IsTerminal(in.status)) return 100;
  if (in.status == RunStatus::kPending || in.phase == RunPhase::kQueued) return 0;
  if (in.phase == RunPhase::kCollecting || in.phase == RunPhase::kDone) return 96;
  const double timeout_ms = std::max(1, in.timeout_seconds) * 1000.0;
  const double t = std::clamp(static_cast<double>(in.elapsed.count()) / timeout_ms, 0.0, 1.0);
  if (in.phase == RunPhase::kPreparing) return 2 + std::min(2, static_cast<int>(t * 10));
  const double g = 1.0 - std::pow(0.85, std::max(0, in.agent_turns));
  const double p = 5.0 + 90.0 * (1.0 - (1.0 - t) * (1.0 - g));
  return std::clamp(static_cast<int>(p), 5, 95);
}

}  // namespace outpost
