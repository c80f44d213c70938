// What every client command shares beyond its own flags: the global flags (--context, --utc),
// the endpoint and key they select, JSON output (--json, -o json, --jq) and colour.
//
// Endpoint and key, first found wins:
//   1. --endpoint / --api-key (or OUTPOST_ENDPOINT / OUTPOST_API_KEY);
//   2. the context named by --context (or OUTPOST_CONTEXT), else the config file's
//      current-context (cli_config.h) — its key only goes with its own endpoint: with an
//      --endpoint of another server, a context's key is never sent;
//   3. http://127.0.0.1:8080 without a key.
// A --context that names no saved context is a usage error; one that names a dispatch context
// level (minimal, standard, full) says to use --context-level.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace outpost::cli {

struct ClientIo;

struct GlobalFlags {
  std::string context;  // --context / OUTPOST_CONTEXT
  bool utc = false;     // --utc: times in UTC instead of the local zone (TZ)
};

struct Connection {
  std::string endpoint;
  std::string api_key;
  std::string context;  // the context used, "" for none
};

// `endpoint_opt`/`key_opt`: the command's options (given when count() > 0; env counts).
// kInvalidArgument for a bad or unknown --context; the config file's own errors.
Result<Connection> ResolveConnection(const GlobalFlags& globals, const CLI::Option* endpoint_opt,
                                     const std::string& endpoint, const CLI::Option* key_opt,
                                     const std::string& api_key);

struct OutputFlags {
  bool json = false;   // --json
  std::string output;  // -o json|table ("" = table)
  std::string jq;      // --jq EXPR: implies JSON, filtered by the jq program
  bool Json() const { return json || output == "json" || !jq.empty(); }
};

// --json, -o/--output json|table, --jq EXPR.
void AddOutputFlags(CLI::App* sub, OutputFlags* f);

// Prints `v` (one line of JSON), through `jq -r EXPR` when --jq was given. Returns the exit
// code: 0; 64 when jq is not on PATH or refuses the expression (its message on stderr).
int PrintJsonValue(const boost::json::value& v, const OutputFlags& f, const ClientIo& io);

// Runs `jq -r EXPR` on `input`: its stdout, or kFailedPrecondition when jq is not installed,
// kInvalidArgument with jq's message when it fails.
Result<std::string> RunJq(const std::string& expr, const std::string& input);

// Colour on stdout: a terminal, NO_COLOR unset or empty, TERM not "dumb".
bool ColourWanted(bool tty);

// ANSI SGR wrapping ("32" green, "31" red, "33" yellow, "36" cyan, "1" bold, "2" dim) when
// `on`; the text unchanged otherwise.
std::string Paint(std::string_view text, std::string_view sgr, bool on);
// The colour of a run status: green COMPLETED, red FAILED/TIMEOUT, yellow RUNNING/PENDING,
// dim CANCELLED.
std::string_view StatusColour(std::string_view status);

// "did you mean" for a mistyped word: the closest of `choices` within edit distance 2 (and
// less than half the word), or "".
std::string ClosestWord(std::string_view word, const std::vector<std::string>& choices);

}  // namespace outpost::cli
