// `outpost login`, `outpost context list|use|current|delete` (the saved endpoints and keys of
// cli_config.h), `outpost diff ID` (a run's diff.patch, coloured on a terminal) and
// `outpost completion bash|zsh|fish` (generated from the command tree it is given).
#pragma once

#include <memory>

#include "cli/client_commands.h"

namespace outpost::cli {

void AddContextCommands(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io);
void AddDiffCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io);
// Call last: the scripts list the commands and flags `app` has when the command runs.
void AddCompletionCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io);

// The completion script for `shell` ("bash", "zsh", "fish") of the commands under `app`.
std::string CompletionScript(const CLI::App& app, std::string_view shell);

// A diff with ANSI colours: +lines green, -lines red, @@ hunks cyan, file headers bold.
std::string ColourDiff(std::string_view patch);

}  // namespace outpost::cli
