// Running git: the seam between the workspace logic and whoever starts processes. The shim
// runs the checkout through its own event loop (so a cancel or deadline interrupts a clone);
// tests and the post-run collection use SpawnGitExec.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace outpost::workspace {

struct GitCommand {
  std::vector<std::string> argv;  // argv[0] is "git", looked up in the PATH of `env`
  std::vector<std::string> env;   // "KEY=VALUE": the whole environment
  std::string cwd;                // "" = inherit
  // Bytes of stdout read at most (0: no limit). Past it git is killed and GitOutput::truncated
  // is set: a reader of something the agent made (its history) never holds unbounded output.
  std::size_t max_out = 0;
};

struct GitOutput {
  int exit_code = -1;      // -1: killed by a signal
  int term_signal = 0;     // which (SIGXFSZ: over its file size limit)
  std::string out;         // stdout
  std::string err;         // the tail of stderr (git's "fatal: ..." is in it)
  bool truncated = false;  // stdout passed GitCommand::max_out: git was killed, `out` is partial
};

class GitExec {
 public:
  virtual ~GitExec() = default;
  // Runs `cmd` to its end. A non-OK status means it could not run or was stopped (the shim:
  // cancel or deadline); a git that ran and failed is OK with a nonzero exit_code.
  virtual Result<GitOutput> Run(const GitCommand& cmd) = 0;
};

// posix_spawn + poll; a command running longer than `limit` is SIGKILLed (kUnavailable).
// Thread-safe (no shared state); the caller must not reap children it did not start.
class SpawnGitExec : public GitExec {
 public:
  explicit SpawnGitExec(std::chrono::seconds limit = std::chrono::seconds(600)) : limit_(limit) {}
  Result<GitOutput> Run(const GitCommand& cmd) override;
  // Called with each git's pid as soon as it is spawned (the shim puts it in a cgroup and
  // caps its file size: audit F14).
  std::function<void(int pid)> on_start;

 private:
  std::chrono::seconds limit_;
};

// A token and the one origin it is for ("https://github.com": scheme and host, no path).
struct GitCredential {
  std::string url;
  std::string token;
};

// The environment every git of ours runs with: PATH and locale only from the caller, HOME an
// empty directory of ours, no system or global config, never a prompt, no credential helper
// other than `credential`'s, ssh as SshCommand("/dev/null") (Prepare names the known hosts and
// pins the address). The credential helper is scoped to credential->url
// (`credential.<url>.helper`): git asks it only for that scheme and host, so a server elsewhere
// that answers 401 — the clone's own host, or the new host of a redirect — gets nothing. The
// token reaches git through the environment: never argv, never a file.
std::vector<std::string> GitEnv(const std::string& home,
                                const std::optional<GitCredential>& credential,
                                const std::vector<std::string>& config = {});

// Audit F9: the ssh command line (GIT_SSH_COMMAND) of every git of ours. ssh runs as root but
// with nothing of root's: no config (`-F /dev/null`: not ~/.ssh/config, not /etc/ssh), no key
// (`IdentityFile=none`, `IdentitiesOnly`, public-key, password, keyboard-interactive, GSSAPI
// and host-based authentication off), no agent (`IdentityAgent=none`; SSH_AUTH_SOCK is never
// in GitEnv), never a prompt (BatchMode); the server's host key must be in `known_hosts` (the
// operator's [git] ssh_known_hosts; "/dev/null" trusts no host) and none is ever added.
// `host_name` (an address) pins the connection, and `host_key_alias` is then the name the key
// is looked up by ("host", or "[host]:port" off port 22). Each value is shell-quoted.
std::string SshCommand(const std::string& known_hosts, const std::string& host_name = "",
                       const std::string& host_key_alias = "");

// The last `n` non-empty lines of git's stderr, joined by "; ".
std::string LastLines(std::string_view text, std::size_t n = 3);

// "git <args> exited with code 128: fatal: ..." for an error message.
std::string Describe(const GitCommand& cmd, const GitOutput& out);

}  // namespace outpost::workspace
