// An agent's network: the policy its runs get when a dispatch names none, and where its model
// API is (`base_url`), from which the CLI's own setting and the allowlist entry are derived.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "config/options.h"

namespace outpost::config {

struct BaseUrl {
  std::string scheme;  // http | https
  std::string host;    // a name, an IPv4 literal, or an IPv6 literal without brackets
  int port = 0;        // explicit, else 80 / 443
  // "host:port" as an allowlist entry ("[::1]:8080" for IPv6).
  std::string HostPort() const;
};

// http(s)://host[:port][/path]; no user info, query, fragment, spaces, quotes or backslashes
// (the URL ends up inside a TOML string on codex's command line). kInvalidArgument says why.
Result<BaseUrl> ParseBaseUrl(std::string_view url);

// Whether `host` is this machine's loopback as the sandbox sees it: "localhost", 127.0.0.1,
// "::1". Inside a sandbox these are the sandbox's own loopback (they are in NO_PROXY), so a
// model API there is unreachable; another loopback literal (127.0.0.2) goes through the proxy.
bool IsSandboxLoopback(std::string_view host);

// Why `a` cannot reach its base_url from inside a sandbox (its host is the sandbox's own
// loopback); empty when it can or has none. `outpost serve` refuses such a config with the
// sandbox runner; the process runner runs agents on the host, where that loopback is the host's.
std::string SandboxBaseUrlProblem(const AgentOptions& a);

// Points `a`'s CLI at a.base_url, by its parser: claude-stream-json → ANTHROPIC_BASE_URL,
// gemini-stream-json → GOOGLE_GEMINI_BASE_URL, grok → XAI_BASE_URL (env); codex-json → a
// model provider "outpost" on its command line (`-c model_provider=outpost -c
// model_providers.outpost={base_url, env_key = its first required secret, wire_api =
// "responses"}`). The allowlist becomes the URL's host:port, plus the table's own
// network_allow when `explicit_allow`. kInvalidArgument for a parser without a known base-URL
// setting (aider-text, plain: set the CLI's variable in `env` and `network_allow` instead).
Status ApplyBaseUrl(AgentOptions& a, bool explicit_allow);

// The policy a run of `a` gets when its dispatch names none: a.network when configured, else
// "allowlist" when it has hosts to reach (network_allow), else "none".
std::string DefaultNetwork(const AgentOptions& a);

}  // namespace outpost::config
