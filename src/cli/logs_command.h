// `outpost logs ID [-f] [--offset N] [--json]`: a run's output.
//
// Without -f: every output line from --offset on, paged through GET /runs/{id}/logs (stdout
// lines to stdout, stderr and notices to stderr; --json: one entry object per line), exit 0.
// With -f: the live stream (cli/follow.h) from the start, until the run ends; the exit code is
// then the run's (0 COMPLETED, 1 FAILED, 2 TIMEOUT, 3 CANCELLED).
#pragma once

#include <memory>

#include "cli/client_commands.h"

namespace outpost::cli {

void AddLogsCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io);

}  // namespace outpost::cli
