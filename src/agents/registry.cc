#include <unistd.h>

#include <boost/json/array.hpp>

#include "agents/agent.h"

namespace outpost {
namespace {

constexpr std::string_view kOutpostPlaceholder = "{outpost}";

bool IsExecutableFile(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0 && ::access((path + "/.").c_str(), F_OK) != 0;
}

}  // namespace

AgentRegistry::AgentRegistry(const Options& opts)
    : self_exe_(opts.self_exe), default_runner_(opts.runner) {
  for (const auto& [name, agent] : opts.agents) {
    if (agent.enabled) agents_[name] = agent;
  }
}

std::vector<std::string> AgentRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : agents_) out.push_back(name);
  return out;
}

std::vector<std::string> AgentRegistry::Available() const {
  std::vector<std::string> out;
  for (const auto& [name, agent] : agents_) {
    if (Availability(agent).available) out.push_back(name);
  }
  return out;
}

std::vector<std::string> AgentRegistry::AvailableCodingAgents() const {
  std::vector<std::string> out;
  for (auto& name : Available()) {
    if (name != "shell") out.push_back(std::move(name));
  }
  return out;
}

const AgentOptions* AgentRegistry::Find(std::string_view name) const {
  auto it = agents_.find(std::string(name));
  return it == agents_.end() ? nullptr : &it->second;
}

AgentAvailability AgentRegistry::Availability(const AgentOptions& agent) const {
  if (agent.command.empty()) return {false, "no command is configured"};
  if (const RunnerKind kind = RunnerOf(agent);
      kind == RunnerKind::kDocker || kind == RunnerKind::kEcs) {
    if (!runner_check_) {
      return {false, "runner '" + std::string(ToString(kind)) + "' is not set up on this server"};
    }
    return runner_check_(agent);
  }
  const std::string& prog = agent.command.front();
  if (prog == kOutpostPlaceholder) {
    if (self_exe_.empty()) return {false, "built-in agent, but this binary's path is unknown"};
    return {};
  }
  if (prog.find('/') != std::string::npos) {
    if (prog.front() != '/') return {false, "command " + prog + " is not an absolute path"};
    if (IsExecutableFile(prog)) return {};
    return {false, prog + " is not installed (no such executable file)"};
  }
  auto env_path = agent.env.find("PATH");
  std::string path = env_path != agent.env.end() ? env_path->second : kDefaultAgentPath;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty() && IsExecutableFile(dir + "/" + prog)) return {};
    start = end + 1;
  }
  return {false, prog + " is not installed (not found on PATH " + path + ")"};
}

Result<std::string> AgentRegistry::ResolveModel(const AgentOptions& agent,
                                                const std::optional<std::string>& requested) const {
  if (!requested) return agent.models.front();
  for (const auto& m : agent.models) {
    if (m == *requested) return m;
  }
  boost::json::array valid;
  for (const auto& m : agent.models) valid.emplace_back(m);
  Status st =
      Status::Invalid({{"modelId", "Invalid model for agent " + agent.name + ": " + *requested}},
                      "Invalid model for agent " + agent.name + ": " + *requested);
  st.WithDetail("agent", boost::json::value(agent.name))
      .WithDetail("modelId", boost::json::value(*requested))
      .WithDetail("validModels", std::move(valid));
  return st;
}

AgentCommand AgentRegistry::CommandFor(const Run& run) const {
  AgentCommand cmd;
  const AgentOptions* agent = Find(run.agent);
  if (!agent) return cmd;
  // Placeholders are whole argv elements: the task is never spliced into a larger string.
  for (const auto& arg : agent->command) {
    if (arg == "{task}") {
      cmd.argv.push_back(run.task);
    } else if (arg == "{model}") {
      cmd.argv.push_back(run.model_id);
    } else if (arg == kOutpostPlaceholder) {
      cmd.argv.push_back(self_exe_);
      if (!self_exe_.empty()) cmd.ro_binds.push_back(self_exe_);
    } else {
      cmd.argv.push_back(arg);
    }
  }
  cmd.env = {{"PATH", kDefaultAgentPath},
             {"HOME", "/tmp"},
             {"LANG", "C.UTF-8"},
             {"OUTPOST_AGENT", run.agent},
             {"OUTPOST_MODEL", run.model_id}};
  for (const auto& [k, v] : agent->env) cmd.env[k] = v;
  return cmd;
}

}  // namespace outpost
