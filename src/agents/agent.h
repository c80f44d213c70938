// Agents: what each coding agent is called with. An Agent turns a run into the argv and
// environment of its process; AgentRegistry holds the configured ones.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/options.h"
#include "store/run.h"

namespace outpost {

struct AgentCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
};

class AgentRegistry {
 public:
  explicit AgentRegistry(const Options& opts);

  // Names of agents that can take dispatches now, sorted.
  std::vector<std::string> Available() const;
  // nullptr when unknown or disabled.
  const AgentOptions* Find(std::string_view name) const;
  // The model a run gets: `requested` if valid, the agent's default when absent.
  // kInvalidArgument (details.validModels) when not in the agent's list.
  Result<std::string> ResolveModel(const AgentOptions& agent,
                                   const std::optional<std::string>& requested) const;
  // The process to start for `run` (task as one argv element, never through a shell string
  // of ours; `shell` is `/bin/sh -c <task>` by definition).
  AgentCommand CommandFor(const Run& run) const;

 private:
  std::map<std::string, AgentOptions> agents_;
};

}  // namespace outpost
