#include "config/agent_network.h"

#include <algorithm>
#include <charconv>

namespace outpost::config {
namespace {

Status BadUrl(std::string_view url, std::string_view why) {
  return InvalidArgument("'" + std::string(url) + "': " + std::string(why) +
                         " (want http(s)://host[:port][/path])");
}

bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

std::string BaseUrl::HostPort() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<BaseUrl> ParseBaseUrl(std::string_view url) {
  if (url.find_first_of(" \t\r\n\"\\?#@") != std::string_view::npos) {
    return BadUrl(url, "no spaces, quotes, backslashes, '?', '#' or '@'");
  }
  BaseUrl out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    out.scheme = "https";
    out.port = 443;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    out.scheme = "http";
    out.port = 80;
    rest = url.substr(7);
  } else {
    return BadUrl(url, "the scheme must be http or https");
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view port;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(url, "unclosed '['");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return BadUrl(url, "junk after ']'");
    if (!after.empty()) port = after.substr(1);
    if (out.host.empty() ||
        out.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return BadUrl(url, "not an IPv6 address in '[...]'");
    }
  } else {
    auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), HostChar)) {
      return BadUrl(url, "the host must be a name or an IP address");
    }
  }
  if (!port.empty() || authority.ends_with(":")) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return BadUrl(url, "the port must be 1-65535");
    }
    out.port = p;
  }
  return out;
}

bool IsSandboxLoopback(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "::1";
}

std::string SandboxBaseUrlProblem(const AgentOptions& a) {
  if (a.base_url.empty()) return "";
  auto url = ParseBaseUrl(a.base_url);
  if (!url.ok() || !IsSandboxLoopback(url->host)) return "";
  return "'" + url->host +
         "' is the sandbox's own loopback: give another loopback address the model server "
         "listens on (http://127.0.0.2:PORT); names resolving to loopback are refused by the "
         "egress proxy";
}

Status ApplyBaseUrl(AgentOptions& a, bool explicit_allow) {
  auto url = ParseBaseUrl(a.base_url);
  if (!url.ok()) return url.status();
  if (a.parser == "claude-stream-json") {
    a.env["ANTHROPIC_BASE_URL"] = a.base_url;
  } else if (a.parser == "gemini-stream-json") {
    a.env["GOOGLE_GEMINI_BASE_URL"] = a.base_url;
  } else if (a.parser == "grok") {
    a.env["XAI_BASE_URL"] = a.base_url;
  } else if (a.parser == "codex-json") {
    // codex ignores OPENAI_BASE_URL (it loops reconnecting): a provider of its own is the way.
    // Two retries, as claude's CLAUDE_CODE_MAX_RETRIES: a transient 5xx passes, a dead server
    // does not keep the run for minutes.
    const std::string key =
        a.required_secrets.empty() ? "OPENAI_API_KEY" : a.required_secrets.front();
    const std::string provider =
        "model_providers.outpost={name=\"outpost\",base_url=\"" + a.base_url + "\",env_key=\"" +
        key + "\",wire_api=\"responses\",request_max_retries=2,stream_max_retries=2}";
    auto at = std::find(a.command.begin(), a.command.end(), "exec");
    at = at == a.command.end() ? a.command.begin() + std::min<std::size_t>(1, a.command.size())
                               : at + 1;
    a.command.insert(at, {"-c", "model_provider=outpost", "-c", provider});
  } else {
    return InvalidArgument(
        "base_url is known for the parsers claude-stream-json, codex-json, "
        "gemini-stream-json and grok, not '" +
        a.parser + "': set the CLI's own variable in env instead");
  }
  if (!explicit_allow) a.network_allow.clear();
  if (std::find(a.network_allow.begin(), a.network_allow.end(), url->HostPort()) ==
      a.network_allow.end()) {
    a.network_allow.push_back(url->HostPort());
  }
  return Status::Ok();
}

std::string DefaultNetwork(const AgentOptions& a) {
  if (!a.network.empty()) return a.network;
  return a.network_allow.empty() ? "none" : "allowlist";
}

}  // namespace outpost::config
