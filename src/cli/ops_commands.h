// `outpost validate` and `outpost monitor` (cli/validate.h, cli/monitor.h): flag parsing,
// output and exit codes.
//
// validate: 0 every check passed; 1 a check failed; 5 the endpoint did not answer at all.
// monitor:  runs until interrupted (exit 0); with --once, one sample: 0 when no Level 1
//           rollback criterion holds, 1 when one does. Both: 64 for bad flags.
#pragma once

#include <memory>

#include "cli/client_commands.h"

namespace outpost::cli {

void AddValidateCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io);
void AddMonitorCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io);

}  // namespace outpost::cli
