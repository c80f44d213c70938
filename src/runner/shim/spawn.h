// Starting a child process for the shim (git, the agent) with a known environment, working
// directory and output fds, reporting exec failures synchronously.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "runner/sandbox/cgroup.h"

namespace outpost::shim {

// An unprivileged identity for the child (the sandbox uid).
struct Credentials {
  int uid = 0;
  int gid = 0;
};

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in the PATH of `env`
  std::vector<std::string> env;   // "KEY=VALUE": the child's whole environment
  std::string cwd;                // "" = inherit
  int stdout_fd = -1;             // -1 = /dev/null
  int stderr_fd = -1;             // -1 = /dev/null
  // true: setsid() (own session and process group, no controlling terminal);
  // false: setpgid(0, 0) (own process group only). Either way the child's pgid is its pid.
  bool new_session = false;
  // Sandbox only. `cgroup`: the child joins it first (while still root), so nothing it ever
  // forks is outside. `user`: then supplementary groups are dropped and the real, effective and
  // saved ids set to user (verified: a child still privileged fails), and no_new_privs is set
  // (no setuid binary can regain anything). Not owned; must outlive the call.
  const sandbox::Cgroup* cgroup = nullptr;
  std::optional<Credentials> user = std::nullopt;
};

// Forks and execs `req`; stdin is /dev/null, every fd other than 0-2 is closed, the signal
// mask is cleared. Returns the child's pid once exec succeeded (the child is the caller's to
// reap). When a setup step or the exec fails, the child is reaped here and the error says
// which step and why (strerror): kNotFound for ENOENT, kInternal otherwise.
// Call from a single-threaded process (the shim) or accept that only async-signal-safe work
// happens between fork and exec — which is what this function does.
Result<int> Spawn(const SpawnRequest& req);

// The current process environment with `key` set to `value`, as "KEY=VALUE" entries.
std::vector<std::string> EnvironWith(const std::string& key, const std::string& value);

}  // namespace outpost::shim
