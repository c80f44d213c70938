// `outpost grok-agent`: the built-in agent for xAI Grok (any OpenAI-compatible endpoint).
//
// Runs inside the sandbox with the workspace as its cwd. Each turn POSTs the conversation to
// {XAI_BASE_URL}/chat/completions, prints the reply, and applies the reply's file blocks
// (file_blocks.h) inside the workspace only (workspace.h). Further turns (GROK_MAX_TURNS) report
// what was applied and stop as soon as a reply proposes no file. Output: JSON lines on stdout as
// specified in agents/grok_events.h; exit 0 success, 1 API error, 2 bad usage.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "agents/grok/chat_client.h"
#include "agents/grok/url.h"
#include "common/clock.h"

namespace outpost::agents::grok {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitApiError = 1;
inline constexpr int kExitUsage = 2;

// The entry point app.cc dispatches to; argv[0] is "grok-agent". Reads environ and the cwd.
int RunGrokAgent(int argc, char** argv);

// The testable core: `args` without the subcommand name, `env` instead of environ, `workspace`
// instead of the cwd, events to `out`. Retry backoffs sleep on `clock`. `sender` null means real
// HTTP (SendHttp).
int RunGrokAgentWith(const std::vector<std::string>& args, const EnvMap& env,
                     const std::string& workspace, std::ostream& out, const Clock& clock,
                     HttpSender sender = nullptr);

}  // namespace outpost::agents::grok
