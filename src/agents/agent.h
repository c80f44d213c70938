// Agents: what each coding agent is called with. An Agent turns a run into the argv and
// environment of its process; AgentRegistry holds the configured ones and says which of them
// can run on this machine.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/options.h"
#include "model/run.h"

namespace outpost {

struct AgentCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  // Host files the command needs inside a sandbox beyond the agent's install_dirs (this binary,
  // for the built-in agents started as "{outpost}").
  std::vector<std::string> ro_binds;
};

// Whether an agent's program exists here. `reason` says why not (for /health/fleet and the 400).
struct AgentAvailability {
  bool available = true;
  std::string reason;
};

class AgentRegistry {
 public:
  explicit AgentRegistry(const Options& opts);

  // Names of every configured (enabled) agent, installed or not, sorted.
  std::vector<std::string> Names() const;
  // Names of agents that can take dispatches now (their program is installed), sorted.
  std::vector<std::string> Available() const;
  // Available() without `shell`: what a dispatch to "all" fans out to.
  std::vector<std::string> AvailableCodingAgents() const;
  // nullptr when unknown or disabled (an installed-or-not agent is found).
  const AgentOptions* Find(std::string_view name) const;
  // command[0] resolved the way the shim's execvp will: an absolute path must be an executable
  // file; a bare name is looked up in the agent's PATH (its env, else the default PATH).
  // "{outpost}" (this binary) is available once Options::self_exe is known. Checked on every call:
  // installing a CLI needs no restart.
  // An agent whose runner is a container runner ([agents.NAME] runner, [runner] kind) is
  // available when the runner check says so (SetRunnerCheck: the Engine reachable, the image
  // there); its CLI is in its image, not on this machine.
  AgentAvailability Availability(const AgentOptions& agent) const;
  // The runner of an agent's runs (Options::RunnerFor).
  RunnerKind RunnerOf(const AgentOptions& agent) const {
    return agent.runner.value_or(default_runner_);
  }
  // How a container runner's agent is checked (app/ sets it once, before serving). Without
  // one such agents are unavailable ("runner not set up").
  using RunnerCheck = std::function<AgentAvailability(const AgentOptions&)>;
  void SetRunnerCheck(RunnerCheck check) { runner_check_ = std::move(check); }
  // The model a run gets: `requested` if valid, the agent's default when absent.
  // kInvalidArgument (details.validModels) when not in the agent's list.
  Result<std::string> ResolveModel(const AgentOptions& agent,
                                   const std::optional<std::string>& requested) const;
  // The process to start for `run` (task as one argv element, never through a shell string
  // of ours; `shell` is `/bin/sh -c <task>` by definition). Placeholders are whole argv
  // elements: "{task}", "{model}", "{outpost}" (this binary).
  AgentCommand CommandFor(const Run& run) const;

 private:
  std::map<std::string, AgentOptions> agents_;
  std::string self_exe_;
  RunnerKind default_runner_;
  RunnerCheck runner_check_;
};

// The PATH an agent's process gets unless its env sets one.
inline constexpr char kDefaultAgentPath[] = "/usr/local/bin:/usr/bin:/bin";

}  // namespace outpost
