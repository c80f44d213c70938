// The in-sandbox half of network "allowlist": `outpost sandbox-forward`.
//
//   outpost sandbox-forward --listen 127.0.0.1:3128 --socket /run/outpost/proxy.sock -- CMD ARGS...
//
// Binds the TCP listener first (so the agent can never race it), forks a forwarder child that
// relays each TCP connection to a fresh connection on the proxy's unix socket, and execs CMD in
// the calling process: the agent keeps the pid the shim knows, and the run's exit status is the
// agent's. The forwarder child gets SIGKILL when its parent (the agent) dies, and lives in the
// sandbox's pid namespace, so it never outlives the run.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "runner/netproxy/host_port.h"

namespace outpost::netproxy {

struct ForwardArgs {
  HostPort listen;                   // an IP literal and port
  std::string socket;                // the proxy's unix socket
  std::vector<std::string> command;  // CMD ARGS..., non-empty
};

// Parses the arguments after the subcommand word: "--listen A", "--socket P" (or "--flag=v"),
// then "--" and the command. kInvalidArgument naming the problem.
Result<ForwardArgs> ParseForwardArgs(const std::vector<std::string>& args);

// The subcommand's entry point. argv[0] is the program name; an optional "sandbox-forward"
// word may follow it. Returns only on failure: prints one line to stderr and returns 127 for
// bad arguments, a listener that cannot be bound, or a command that cannot be executed.
int RunSandboxForward(int argc, char** argv);

}  // namespace outpost::netproxy
