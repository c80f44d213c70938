// What one `outpost grok-agent` invocation is asked to do, from its argv and environment.
//
//   outpost grok-agent [--model M] [--] TASK
//
// The task is exactly one argv element (the runner passes it as one; secrets never go in argv).
// Environment: XAI_API_KEY (required, sent as a Bearer token), XAI_BASE_URL (default
// https://api.x.ai/v1), GROK_MODEL (when --model is absent), GROK_MAX_TOKENS (8192),
// GROK_TEMPERATURE (0.7), GROK_MAX_TURNS (1..20, default 1), GROK_TIMEOUT (seconds per request,
// default 300), and the usual HTTP(S)_PROXY / NO_PROXY.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agents/grok/chat_client.h"
#include "agents/grok/url.h"
#include "common/status.h"

namespace outpost::agents::grok {

inline constexpr const char* kDefaultModel = "grok-4-1-fast-reasoning";

struct AgentConfig {
  std::string task;
  ChatOptions chat;
  Url endpoint;  // {base}/chat/completions
  TransportOptions transport;
  int max_turns = 1;
  bool help = false;  // --help: print usage, do nothing else
};

// `args` excludes the subcommand name. kInvalidArgument naming the bad flag or variable.
Result<AgentConfig> ParseAgentConfig(const std::vector<std::string>& args, const EnvMap& env);

std::string UsageText();

}  // namespace outpost::agents::grok
