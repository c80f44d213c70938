// The client commands of the `outpost` executable: dispatch, status, runs, cancel, health, logs.
// Each is a thin adapter: parse flags, make one or a few API calls (ApiClient), format
// (format.h), and set the process exit code.
//
// Exit codes (also in every command's --help footer; the mapping lives in exit_codes.cc):
//   0   success; with --wait: the run ended COMPLETED
//   1   the run ended FAILED                          (--wait)
//   2   the run ended TIMEOUT                         (--wait)
//   3   the run ended CANCELLED                       (--wait)
//   4   the API refused the request (HTTP 4xx); the error code, message and every
//       details.errors[] "path: message" are printed on stderr
//   5   the server could not be reached or answered 5xx; `health`: the server is unhealthy
//   64  usage error (bad flags or arguments; CLI11 parse errors, see ExitForParseError)
//
// Usage by main():
//   CLI::App app{"outpost"};
//   int exit_code = 0;
//   outpost::cli::AddClientCommands(app, &exit_code);
//   try { app.parse(argc, argv); }
//   catch (const CLI::ParseError& e) { return outpost::cli::ExitForParseError(app, e); }
//   return exit_code;
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>

#include "cli/exit_codes.h"
#include "cli/session.h"
#include "common/clock.h"

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace outpost::client {
class ApiClient;
}  // namespace outpost::client

namespace outpost::cli {

// Where the commands write and how they wait; tests replace all of it.
struct ClientIo {
  std::ostream* out = nullptr;  // std::cout when null
  std::ostream* err = nullptr;  // std::cerr when null
  // stdout is a terminal: --wait redraws one status line in place instead of printing a line
  // per change.
  bool tty = false;
  // Colour on stdout (ColourWanted(tty) when AddClientCommands fills it; tests set it).
  bool colour = false;
  // The root's --context/--utc; AddClientCommands registers them and points this at them.
  std::shared_ptr<GlobalFlags> globals;
  // runs --watch: stop after this many refreshes (tests); 0 = until interrupted.
  int watch_rounds = 0;
  const Clock* clock = nullptr;      // RealClock when null; every wait sleeps on it
  Millis poll_interval{500};         // --wait: time between GET /runs/{id}
  Millis unreachable_grace{60'000};  // --wait: keep retrying an unreachable server this long
  Millis retry_backoff{1'000};       // --wait: time between those retries
  Millis request_timeout{30'000};    // per HTTP exchange
};

// Adds the subcommands to `app`, writing to stdout/stderr (tty = isatty(stdout)). The callbacks
// run inside app.parse() and store their exit code in *exit_code, which must outlive `app`.
void AddClientCommands(CLI::App& app, int* exit_code);
void AddClientCommands(CLI::App& app, int* exit_code, ClientIo io);

// A run id from the command line: a whole id (26 characters, any case) as it is; a prefix of at
// least 4 ULID characters resolved with one GET /runs (limit 100, since the time the prefix
// encodes): the one run whose id starts with it. kNotFound when none does; kInvalidArgument
// listing the candidates when several do. Anything else (under 4 characters, not ULID
// characters) is returned unchanged: the server's to judge (404).
Result<std::string> ResolveRunId(client::ApiClient& api, const std::string& id);

// 64 (EX_USAGE): the exit code for bad flags.
int UsageExitCode();

// Handles a CLI11 parse error from app.parse(): --help/--version print as CLI11 does and give
// 0; any other error prints one line "outpost: <what> (see --help)" on `err` (std::cerr when
// null) and gives UsageExitCode(). A CLI::RuntimeError keeps its own exit code.
int ExitForParseError(const CLI::App& app, const CLI::ParseError& error,
                      std::ostream* err = nullptr);

}  // namespace outpost::cli
