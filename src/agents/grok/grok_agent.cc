#include "agents/grok/grok_agent.h"

#include <unistd.h>

#include <climits>
#include <csignal>
#include <iostream>

#include "agents/grok/agent_config.h"
#include "agents/grok/event_writer.h"
#include "agents/grok/file_blocks.h"
#include "agents/grok/prompt.h"
#include "agents/grok/workspace.h"

extern char** environ;

namespace outpost::agents::grok {
namespace {

struct TurnOutcome {
  std::vector<std::string> written, refused;
};

TurnOutcome ApplyBlocks(const Workspace& ws, const std::string& reply, EventWriter& events) {
  TurnOutcome t;
  for (const FileBlock& block : ExtractFileBlocks(reply)) {
    auto bytes = ws.WriteFile(block.path, block.content);
    if (bytes.ok()) {
      events.FileWritten(block.path, *bytes);
      t.written.push_back(block.path);
    } else {
      events.FileRefused(block.path, bytes.status().message());
      t.refused.push_back(block.path + ": " + bytes.status().message());
    }
  }
  return t;
}

int Fail(EventWriter& events, const std::string& message, int files_applied, int code) {
  events.Error(message);
  events.Result(false, files_applied);
  return code;
}

// The conversation loop; returns the exit code after the final event.
int Converse(const AgentConfig& config, const Workspace& ws, ChatClient& client,
             EventWriter& events) {
  std::vector<ChatMessage> messages{
      {"system", SystemPrompt()},
      {"user", UserPrompt(config.task, ListWorkspaceFiles(ws.root(), kMaxListedFiles),
                          ReadmeHead(ws.root()))}};
  int applied = 0;
  std::int64_t input_tokens = 0, output_tokens = 0;
  bool any_reply = false;
  for (int turn = 0; turn < config.max_turns; ++turn) {
    auto reply = client.Complete(config.endpoint, messages);
    if (!reply.ok()) {
      if (any_reply) events.Usage(input_tokens, output_tokens);
      return Fail(events, reply.status().message(), applied, kExitApiError);
    }
    any_reply = true;
    input_tokens += reply->input_tokens;
    output_tokens += reply->output_tokens;
    events.Assistant(reply->content);
    TurnOutcome t = ApplyBlocks(ws, reply->content, events);
    applied += static_cast<int>(t.written.size());
    if (t.written.empty() && t.refused.empty()) break;
    messages.push_back({"assistant", reply->content});
    messages.push_back({"user", FollowUpPrompt(t.written, t.refused)});
  }
  events.Usage(input_tokens, output_tokens);
  events.Result(true, applied);
  return kExitSuccess;
}

EnvMap Environment() {
  EnvMap env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

}  // namespace

int RunGrokAgentWith(const std::vector<std::string>& args, const EnvMap& env,
                     const std::string& workspace, std::ostream& out, const Clock& clock,
                     HttpSender sender) {
  EventWriter events(out);
  auto config = ParseAgentConfig(args, env);
  if (!config.ok()) {
    std::cerr << "outpost grok-agent: " << config.status().message() << "\n" << UsageText();
    return Fail(events, config.status().message(), 0, kExitUsage);
  }
  if (config->help) {
    std::cerr << UsageText();
    return kExitSuccess;
  }
  auto ws = Workspace::Open(workspace);
  if (!ws.ok()) return Fail(events, ws.status().message(), 0, kExitUsage);
  if (!sender) {
    sender = [transport = config->transport](const HttpRequest& r) {
      return SendHttp(r, transport);
    };
  }
  ChatClient client(config->chat, std::move(sender), SleepOn(clock));
  return Converse(*config, *ws, client, events);
}

int RunGrokAgent(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  char cwd[PATH_MAX];
  std::string workspace = ::getcwd(cwd, sizeof cwd) ? cwd : ".";
  return RunGrokAgentWith(args, Environment(), workspace, std::cout, RealClock::Instance());
}

}  // namespace outpost::agents::grok
