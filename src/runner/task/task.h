// `outpost task`: the in-container supervisor (ARCHITECTURE.md §8; the image's entrypoint,
// `tini -- outpost task`). It starts as root in the container, fetches its run's RunSpec over
// the run channel (GET /internal/v1/runs/{id}/spec), turns it into a container-mode LaunchSpec
// (runner/run_dir.h ContainerSpec: no bwrap, no cgroup, the agent as the image's `agent` user)
// and runs the shim on the task directory in a child process (spec.json there, the secrets in
// memory). The process itself is then the reporter: it tails the shim's journal (events.jsonl)
// and posts it to the channel, polls the channel's control (a cancel becomes cancel.json +
// SIGUSR1 to the shim), forwards SIGTERM/SIGUSR1, and once the shim is done posts the rest of
// the events and then the exit record. The journal is the durable buffer while the control
// plane is unreachable.
//
// A task that shares no files with the control plane (a remote Docker daemon, ECS: started with
// OUTPOST_BOOTSTRAP_TOKEN and no token file) first exchanges that one-use token for the run's
// channel token (POST …/bootstrap), and delivers its outputs over the channel: after the shim
// ended and before the exit record, PUT …/outputs/{stdout,stderr,context,diff,bundle} of what the
// shim left in the task directory (retried like the events; one over the server's bound is
// skipped with a message: the control plane rebuilds output.log from the events), and the
// shim's changes.json as the exit record's `changes` (channel 1.1).
//
// Exit code: 0 once the exit record was acknowledged by the control plane; 1 otherwise (the
// token refused, the run not RUNNING, the spec malformed, the channel unreachable past the retry
// budget); 64 for bad usage. The token, the spec and the secrets are never printed.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/http_transport.h"
#include "runner/run_dir.h"
#include "runner/runner.h"

namespace outpost::task {

// Where the task finds its run and its channel. Flags win over the environment
// (OUTPOST_RUN_ID, OUTPOST_TASK_DIR, OUTPOST_CHANNEL_SOCKET, OUTPOST_CHANNEL_URL,
// OUTPOST_CHANNEL_TOKEN_FILE; OUTPOST_BOOTSTRAP_TOKEN, environment only).
struct TaskOptions {
  std::string run_id;
  std::string run_dir;         // the task directory: channel-token, spec.json, the shim's files
  std::string channel_url;     // the control plane's base URL (with a socket: only its path)
  std::string channel_socket;  // a unix socket to reach it through ("": TCP to channel_url)
  std::string token_file;      // default <run_dir>/channel-token
  // OUTPOST_BOOTSTRAP_TOKEN: used when the token file does not exist (a remote task); then the
  // outputs go over the channel too. A secret: never printed. Default run_dir with it:
  // kRemoteTaskDir.
  std::string bootstrap_token;
  std::string agent_user = "agent";  // looked up in passwd_file
  std::string passwd_file = "/etc/passwd";
  std::string workspace = "/workspace";
  std::string home = "/home/agent";
  std::string proxy_socket = "/run/outpost/proxy/proxy.sock";  // allowlist runs
  // How long the spec fetch, and the final events + exit, are retried while the channel is
  // unreachable.
  std::chrono::seconds retry_budget{600};
};

// The flags as given (empty: not given) over the environment. kInvalidArgument naming what is
// missing (the run id, the task directory, a channel).
inline constexpr char kRemoteTaskDir[] = "/run/outpost/run";
struct TaskFlags {
  std::string run_id, run_dir, channel_url, channel_socket, token_file, agent_user;
  std::string workspace, home, proxy_socket;
};
Result<TaskOptions> ResolveTaskOptions(const TaskFlags& flags);

struct AgentUser {
  int uid = 0;
  int gid = 0;
};
// `name`'s uid and gid from the passwd file's text. kNotFound when absent; kInvalidArgument for
// root (uid or gid 0) or a malformed entry.
Result<AgentUser> LookUpUser(std::string_view passwd, std::string_view name);

// The container-mode LaunchSpec of `spec`: argv[0] by its basename (found in the container's
// PATH, `path`), the agent's HOME and workspace, the container's PATH, a private repo cache,
// the network wrapper for allowlist (through `outpost_exe`). kInvalidArgument for a spec of
// another run or without argv.
Result<LaunchSpec> ContainerLaunchSpec(const RunSpec& spec, const TaskOptions& opts,
                                       const AgentUser& user, const std::string& path,
                                       const std::string& outpost_exe);

// The one place the channel's HTTP exchange happens: over TCP to the URL, or through the unix
// socket when one is given.
Result<net::HttpResponse> ChannelExchange(const net::HttpRequest& request,
                                          const net::TransportOptions& options,
                                          const std::string& socket);

// `outpost task`: the whole run, as described above. `self_exe` runs the shim (`<self_exe>
// shim <run_dir>`) and the allowlist forwarder.
int RunTask(const TaskOptions& opts, const std::string& self_exe);

}  // namespace outpost::task
