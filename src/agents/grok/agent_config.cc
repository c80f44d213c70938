#include "agents/grok/agent_config.h"

#include <charconv>
#include <cstdlib>

namespace outpost::agents::grok {
namespace {

std::string Get(const EnvMap& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? "" : it->second;
}

template <typename T>
Status ParseNumber(const EnvMap& env, const std::string& key, T lo, T hi, T& out) {
  std::string text = Get(env, key);
  if (text.empty()) return Status::Ok();
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    return InvalidArgument(key + "='" + text + "': expected a number in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
  out = value;
  return Status::Ok();
}

// Flags and the single positional task.
Status ParseArgs(const std::vector<std::string>& args, AgentConfig& config) {
  std::vector<std::string> positional;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.empty() || a[0] != '-') {
      positional.push_back(a);
    } else if (a == "--") {
      options_done = true;
    } else if (a == "--help" || a == "-h") {
      config.help = true;
    } else if (a == "--model" && i + 1 < args.size()) {
      config.chat.model = args[++i];
    } else if (a.starts_with("--model=")) {
      config.chat.model = a.substr(8);
    } else {
      return InvalidArgument("unknown or incomplete option '" + a + "'");
    }
  }
  if (config.help) return Status::Ok();
  if (positional.size() != 1) {
    return InvalidArgument("expected exactly one TASK argument, got " +
                           std::to_string(positional.size()));
  }
  config.task = positional[0];
  if (config.task.empty()) return InvalidArgument("TASK is empty");
  return Status::Ok();
}

}  // namespace

std::string UsageText() {
  return "usage: outpost grok-agent [--model M] [--] TASK\n"
         "  env: XAI_API_KEY (required), XAI_BASE_URL, GROK_MODEL, GROK_MAX_TOKENS,\n"
         "       GROK_TEMPERATURE, GROK_MAX_TURNS, GROK_TIMEOUT, HTTP(S)_PROXY, NO_PROXY\n";
}

Result<AgentConfig> ParseAgentConfig(const std::vector<std::string>& args, const EnvMap& env) {
  AgentConfig config;
  OUTPOST_RETURN_IF_ERROR(ParseArgs(args, config));
  if (config.help) return config;
  if (config.chat.model.empty()) config.chat.model = Get(env, "GROK_MODEL");
  if (config.chat.model.empty()) config.chat.model = kDefaultModel;
  config.chat.api_key = Get(env, "XAI_API_KEY");
  if (config.chat.api_key.empty()) return InvalidArgument("XAI_API_KEY is not set");
  std::string base = Get(env, "XAI_BASE_URL");
  if (!base.empty()) config.chat.base_url = base;
  auto endpoint = JoinUrl(config.chat.base_url, "chat/completions");
  if (!endpoint.ok()) return InvalidArgument("XAI_BASE_URL: " + endpoint.status().message());
  config.endpoint = *endpoint;
  auto proxy = ProxyFor(config.endpoint, env);
  if (!proxy.ok()) return proxy.status();
  config.transport.proxy = *proxy;
  OUTPOST_RETURN_IF_ERROR(
      ParseNumber(env, "GROK_MAX_TOKENS", 1, 1'000'000, config.chat.max_tokens));
  OUTPOST_RETURN_IF_ERROR(ParseNumber(env, "GROK_TEMPERATURE", 0.0, 2.0, config.chat.temperature));
  OUTPOST_RETURN_IF_ERROR(ParseNumber(env, "GROK_MAX_TURNS", 1, 20, config.max_turns));
  int timeout_s = 300;
  OUTPOST_RETURN_IF_ERROR(ParseNumber(env, "GROK_TIMEOUT", 1, 3600, timeout_s));
  config.transport.timeout = std::chrono::seconds(timeout_s);
  return config;
}

}  // namespace outpost::agents::grok
