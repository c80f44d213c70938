// Exit codes of the client commands (`outpost dispatch|status|runs|cancel|health`): the one
// mapping from outcomes to process exit status.
//
//   0   success; with --wait: the run ended COMPLETED
//   1   the run ended FAILED                          (--wait)
//   2   the run ended TIMEOUT                         (--wait)
//   3   the run ended CANCELLED                       (--wait)
//   4   the API refused the request (HTTP 4xx: validation, not found, conflict, auth, rate limit)
//   5   the server could not be reached, answered 5xx, or reported itself unhealthy (health)
//   64  usage error: bad flags or arguments (EX_USAGE), an ambiguous run id prefix, an unknown
//       --context, --jq without jq or with an expression jq refuses
#pragma once

#include <string_view>

#include "common/status.h"

namespace outpost::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitRunFailed = 1,
  kExitRunTimeout = 2,
  kExitRunCancelled = 3,
  kExitApiRefused = 4,
  kExitUnavailable = 5,
  kExitUsage = 64,
};

// For a run's final status: COMPLETED 0, FAILED 1, TIMEOUT 2, CANCELLED 3; anything else
// (a status this client does not know) counts as a failure, 1.
int ExitCodeForRunStatus(std::string_view run_status);

// For a failed call: 5 when the server was unreachable or failed (kUnavailable, kInternal),
// otherwise 4 (the API refused the request). OK maps to 0.
int ExitCodeForError(const Status& status);

// The table above as help text, for the --help footer.
std::string_view ExitCodeHelp();

}  // namespace outpost::cli
