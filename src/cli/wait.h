// --wait: polls GET /runs/{id} until the run reaches a terminal status.
//
// On a terminal it redraws one line in place ("\r\033[K" + "01J… RUNNING (running) 12s");
// otherwise it prints a line only when the status or phase changes. A server that goes away
// (restart, 5xx) is retried for `ClientIo::unreachable_grace` per poll, shown as
// "server unreachable, retrying". The end is the final summary (or the run's JSON with --json).
#pragma once

#include <string_view>

#include "cli/client_commands.h"
#include "client/api_client.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::ApiClient;
using client::RequestOptions;

bool IsTerminalStatus(std::string_view status);

// Returns the exit code: ExitCodeForRunStatus of the final status, or ExitCodeForError when the
// run could not be read.
int WaitForRun(ApiClient& client, std::string_view run_id, bool json, const ClientIo& io);

}  // namespace outpost::cli
