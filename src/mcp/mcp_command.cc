#include "mcp/mcp_command.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>

#include "common/files.h"
#include "common/json_util.h"
#include "mcp/remote_tools.h"
#include "mcp/stdio_server.h"

extern char** environ;

namespace outpost::mcp {
namespace json = boost::json;
namespace {

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string Get(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? "" : it->second;
}

Status ReadConfig(const std::string& path, McpTarget& target) {
  auto text = ReadFile(path);
  if (!text.ok())
    return InvalidArgument("cannot read MCP config " + path + ": " + text.status().message());
  auto v = ParseJson(*text);
  if (!v.ok() || !v->is_object()) {
    return InvalidArgument("MCP config " + path + " is not a JSON object");
  }
  const json::object& o = v->get_object();
  auto endpoint = GetString(o, "endpoint");
  if (!endpoint || endpoint->empty()) {
    return InvalidArgument("MCP config " + path + ": \"endpoint\" (a URL string) is required");
  }
  if (auto provider = GetString(o, "provider"); provider && *provider != "http") {
    return InvalidArgument("MCP config " + path + ": \"provider\" must be \"http\"");
  }
  target.endpoint = *endpoint;
  target.source = path;
  if (target.api_key.empty()) target.api_key = GetString(o, "apiKey").value_or("");
  return Status::Ok();
}

}  // namespace

Result<McpTarget> ResolveMcpTarget(const McpFlags& flags,
                                   const std::map<std::string, std::string>& env) {
  McpTarget t;
  t.api_key = !flags.api_key.empty() ? flags.api_key : Get(env, "OUTPOST_API_KEY");
  if (!flags.endpoint.empty()) {
    t.endpoint = flags.endpoint;
    t.source = "--endpoint";
  } else if (!flags.config.empty()) {
    OUTPOST_RETURN_IF_ERROR(ReadConfig(flags.config, t));
  } else if (auto v = Get(env, "OUTPOST_API_URL"); !v.empty()) {
    t.endpoint = v;
    t.source = "OUTPOST_API_URL";
  } else if (auto e = Get(env, "OUTPOST_ENDPOINT"); !e.empty()) {
    t.endpoint = e;
    t.source = "OUTPOST_ENDPOINT";
  } else if (auto c = Get(env, "OUTPOST_MCP_CONFIG"); !c.empty()) {
    OUTPOST_RETURN_IF_ERROR(ReadConfig(c, t));
  }
  return t;
}

std::string UnconfiguredHelp() {
  return "outpost mcp is not connected to an Outpost server. Start one with `outpost serve` and "
         "point this MCP server at it: `outpost mcp --endpoint http://127.0.0.1:8080`, or set "
         "OUTPOST_API_URL (or OUTPOST_ENDPOINT), or give a config file {\"endpoint\": \"…\", "
         "\"provider\": \"http\", \"version\": \"2.0.0\"} with --config FILE or "
         "OUTPOST_MCP_CONFIG; OUTPOST_API_KEY is sent as a Bearer token.";
}

void AddMcpCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<McpFlags>();
  auto* sub = app.add_subcommand(
      "mcp", "MCP server over stdio, for MCP clients (a client of outpost serve)");
  sub->add_option("--endpoint", flags->endpoint,
                  "URL of `outpost serve` (env OUTPOST_API_URL, OUTPOST_ENDPOINT)");
  sub->add_option(
      "--config", flags->config,
      "JSON file {\"endpoint\",\"provider\":\"http\",\"version\"} (env OUTPOST_MCP_CONFIG)");
  sub->add_option("--api-key", flags->api_key,
                  "API key, sent as a Bearer token (env OUTPOST_API_KEY)");
  sub->callback([flags, exit_code] {
    auto target = ResolveMcpTarget(*flags, Environment());
    if (!target.ok()) {
      std::cerr << "outpost mcp: " << target.status().message() << "\n";
      *exit_code = 64;
      return;
    }
    RemoteOptions ro;
    ro.api_key = target->api_key;
    ro.unconfigured_help = UnconfiguredHelp();
    ro.log = [](const std::string& s) { std::cerr << s << std::endl; };
    if (target->endpoint) {
      auto ep = client::ParseEndpoint(*target->endpoint);
      if (!ep.ok()) {
        std::cerr << "outpost mcp: " << target->source << ": " << ep.status().message() << "\n";
        *exit_code = 64;
        return;
      }
      ro.endpoint = *ep;
      std::cerr << "outpost mcp: serving MCP on stdio for " << ep->ToString() << " (from "
                << target->source << ")" << std::endl;
    } else {
      std::cerr << "outpost mcp: " << UnconfiguredHelp() << std::endl;
    }
    auto remote = std::make_shared<RemoteTools>(std::move(ro));
    ToolRunner runner{
        [remote](const json::value& id, const ToolCall& call) { return remote->Call(id, call); },
        [remote](const json::value& id) { remote->Cancel(id); }, [remote] { remote->Connect(); },
        // tools/list usually follows initialize at once: it waits (briefly) for the server's.
        [remote] { return remote->ToolsList(Millis(5'000)); }};
    *exit_code = RunStdioServer(std::cin, std::cout, std::move(runner));
  });
}

}  // namespace outpost::mcp
