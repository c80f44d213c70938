#include "model/run.h"

namespace outpost {

std::string_view ToString(RunStatus s) {
  switch (s) {
    case RunStatus::kPending:
      return "PENDING";
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kCompleted:
      return "COMPLETED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kTimeout:
      return "TIMEOUT";
    case RunStatus::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

std::optional<RunStatus> ParseRunStatus(std::string_view s) {
  for (RunStatus st : {RunStatus::kPending, RunStatus::kRunning, RunStatus::kCompleted,
                       RunStatus::kFailed, RunStatus::kTimeout, RunStatus::kCancelled}) {
    if (ToString(st) == s) return st;
  }
  return std::nullopt;
}

bool IsTerminal(RunStatus s) { return s != RunStatus::kPending && s != RunStatus::kRunning; }

}  // namespace outpost
