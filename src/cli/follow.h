// FollowRun: `outpost logs ID -f` and `outpost dispatch … --follow` — a run's event stream
// (GET /runs/{id}/events) printed live until the run ends.
//
// On a terminal (ClientIo::tty) the events are printed as a readable transcript
// (cli/transcript.h) ending in a line with the status, reason and error. Piped, or with --raw,
// the agent's output is written byte for byte, stdout to stdout and stderr to stderr (base64
// chunks decoded); with --json every event is printed as its JSON line instead. Notices
// (dropped output, the final status) go to stderr as "outpost: …" lines.
//
// A dropped connection (a server restart, a network blip, 45 s without even a heartbeat) is
// resumed with Last-Event-ID: the server continues after the last event printed, so no line is
// repeated or lost. An unreachable server is retried every ClientIo::retry_backoff for
// ClientIo::unreachable_grace.
#pragma once

#include <string>
#include <string_view>

#include "cli/client_commands.h"
#include "client/http_client.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::Endpoint;

struct FollowTarget {
  Endpoint endpoint;
  std::string api_key;  // "" = none
  std::string run_id;
  bool raw = false;  // --raw: the agent's output byte for byte also on a terminal
};

// Returns the exit code: ExitCodeForRunStatus of the final status once the `end` event arrived;
// ExitCodeForError when the run cannot be followed (not found, server gone for good).
int FollowRun(const FollowTarget& target, bool json, const ClientIo& io);

}  // namespace outpost::cli
