#include "agents/agent.h"

#include <boost/json/array.hpp>

namespace outpost {

AgentRegistry::AgentRegistry(const Options& opts) {
  for (const auto& [name, agent] : opts.agents) {
    if (agent.enabled) agents_[name] = agent;
  }
}

std::vector<std::string> AgentRegistry::Available() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : agents_) out.push_back(name);
  return out;
}

const AgentOptions* AgentRegistry::Find(std::string_view name) const {
  auto it = agents_.find(std::string(name));
  return it == agents_.end() ? nullptr : &it->second;
}

Result<std::string> AgentRegistry::ResolveModel(const AgentOptions& agent,
                                                const std::optional<std::string>& requested) const {
  if (!requested) return agent.models.front();
  for (const auto& m : agent.models) {
    if (m == *requested) return m;
  }
  boost::json::array valid;
  for (const auto& m : agent.models) valid.emplace_back(m);
  Status st = Status::Invalid({{"modelId", "Invalid model for agent " + agent.name + ": " +
                                               *requested}},
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
    } else {
      cmd.argv.push_back(arg);
    }
  }
  cmd.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
             {"HOME", "/tmp"},
             {"LANG", "C.UTF-8"},
             {"OUTPOST_AGENT", run.agent},
             {"OUTPOST_MODEL", run.model_id}};
  for (const auto& [k, v] : agent->env) cmd.env[k] = v;
  return cmd;
}

}  // namespace outpost
