#include "cli/exit_codes.h"

namespace outpost::cli {

int ExitCodeForRunStatus(std::string_view run_status) {
  if (run_status == "COMPLETED") return kExitOk;
  if (run_status == "TIMEOUT") return kExitRunTimeout;
  if (run_status == "CANCELLED") return kExitRunCancelled;
  return kExitRunFailed;
}

int ExitCodeForError(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kUnavailable:
    case Code::kInternal:
      return kExitUnavailable;
    default:
      return kExitApiRefused;
  }
}

std::string_view ExitCodeHelp() {
  return "Exit codes:\n"
         "  0   success (with --wait: the run COMPLETED)\n"
         "  1   the run FAILED\n"
         "  2   the run hit its TIMEOUT\n"
         "  3   the run was CANCELLED\n"
         "  4   the API refused the request (4xx; the error and each bad field on stderr)\n"
         "  5   the server is unreachable, answered 5xx, or reports itself unhealthy\n"
         "  64  usage error (bad flags or arguments, checked before anything is sent; an\n"
         "      ambiguous run id prefix; an unknown --context; --jq without jq)";
}

}  // namespace outpost::cli
