// DockerEngine: the Docker Engine API calls the docker runner needs, spoken directly (HTTP/1.1
// over the daemon's unix socket, or tcp:// with TLS client certificates) — never the `docker`
// CLI. The API version is pinned: every path is prefixed /v1.41 (dockerd 20.10 serves 1.41;
// newer daemons serve older versions too).
//
// Where the daemon is (EngineEndpoint::Resolve): `[runner.docker] host` when set, else
// DOCKER_HOST, else unix:///var/run/docker.sock — as every Docker client does. tcp:// uses TLS
// when DOCKER_TLS_VERIFY is 1/true or DOCKER_CERT_PATH is set: ca.pem, cert.pem and key.pem from
// DOCKER_CERT_PATH (default ~/.docker). With TLS the daemon's certificate is always verified
// against ca.pem (there is no docker `--tls` without verify); plain http only for a tcp://
// endpoint with neither variable set (or DOCKER_TLS_VERIFY=0/false).
//
// Errors (the Engine's own message is kept in every one: {"message": "..."} of its answer):
//   404 (no such container/image) -> kNotFound; 409 (name in use, container not running,
//   removal in progress) -> kConflict; 400 -> kInvalidArgument; 401/403 -> kPermissionDenied;
//   500, 503, a refused/unreachable socket, a failed TLS handshake, timeouts -> kUnavailable;
//   an endpoint the transport cannot use (a certificate without its key) -> kInvalidArgument;
//   anything else -> kInternal.
// Messages name the call ("docker create: ...") and carry the Engine's message verbatim.
//
// Thread-safety: every method may be called concurrently (each call is one exchange on the
// shared transport, net/http_transport.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::docker {

// The Engine API version every request names (/v1.41/...).
inline constexpr const char* kApiVersion = "1.41";

struct EngineEndpoint {
  // "unix:///path/docker.sock" or "tcp://host:port".
  std::string host;
  // tcp:// only. tls: verify the daemon with ca_file and present cert_file/key_file.
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;

  // configured: [runner.docker] host ("" = not set); env: the process environment's DOCKER_HOST,
  // DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, HOME (tests pass their own map). kInvalidArgument
  // naming the value (and where it came from) for a host that is neither unix:// (absolute path)
  // nor tcp://host:port (the port is required), a DOCKER_TLS_VERIFY other than 1/true/0/false,
  // or tcp:// with TLS and a certificate file missing. The files are checked to exist only; a
  // bad one fails the first call (kUnavailable naming the TLS error).
  static Result<EngineEndpoint> Resolve(const std::string& configured,
                                        const std::map<std::string, std::string>& env);
};

// A bind mount (sent as HostConfig.Mounts type "bind", so a path may hold ':' or ','). The
// source must exist: dockerd refuses the create otherwise (kInvalidArgument, "bind source path
// does not exist") instead of creating it as root as the old Binds form does.
struct BindMount {
  std::string source;  // host path
  std::string target;  // container path
  bool read_only = false;
};

// What CreateContainer sends (the subset of ContainerConfig + HostConfig the runner uses).
struct ContainerSpec {
  std::string name;   // "" = the daemon names it
  std::string image;  // "outpost-claude", "outpost-base:latest", an image id
  // empty = the image's. A given entrypoint drops the image's cmd too (as `docker run
  // --entrypoint` does): give cmd with it when it needs arguments.
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;  // empty = the image's
  std::vector<std::string> env;  // "KEY=VALUE" (never secrets: dockerd stores them)
  std::string user;              // "" = the image's; "0:0" for outpost task
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::vector<BindMount> binds;
  // tmpfs mounts: container path -> options ("rw,size=64m,mode=1777").
  std::map<std::string, std::string> tmpfs;
  std::string network_mode = "none";  // "none", "host", "bridge", ...
  bool read_only_rootfs = true;
  bool no_new_privileges = true;
  std::vector<std::string> cap_drop = {"ALL"};
  std::vector<std::string> cap_add;          // e.g. SETUID, SETGID, KILL
  std::optional<std::int64_t> memory_bytes;  // HostConfig.Memory (and MemorySwap = same)
  std::optional<std::int64_t> nano_cpus;     // HostConfig.NanoCpus (1e9 = one CPU)
  std::optional<std::int64_t> pids_limit;    // HostConfig.PidsLimit
  // HostConfig.StorageOpt {"size": "<bytes>"}: only some storage drivers support it (overlay2
  // on xfs with pquota, devicemapper, btrfs, zfs); elsewhere the daemon refuses the create
  // (kInvalidArgument with its message, although dockerd 20.10 answers that with a 500) — the
  // caller decides whether to retry without.
  std::optional<std::int64_t> storage_bytes;
  // HostConfig.Init (docker's own tini as pid 1). The images have tini as entrypoint already.
  bool init = false;
};

struct ContainerState {
  std::string id;
  std::string name;
  std::string image;
  std::map<std::string, std::string> labels;
  // "created", "running", "paused", "restarting", "removing", "exited", "dead".
  std::string status;
  bool running = false;
  bool oom_killed = false;
  int exit_code = 0;
  int pid = 0;  // the container's init on the host (0 when not running)
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  std::string error;  // State.Error (e.g. an exec failure of the entrypoint)
};

// One row of ListContainers.
struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;  // as the API gives them ("/outpost-run-...")
  std::string image;
  std::string state;  // "running", "exited", ...
  std::map<std::string, std::string> labels;
};

struct EngineInfo {
  std::string version;      // "20.10.24"
  std::string api_version;  // the daemon's newest ("1.41")
  std::string os;           // "linux"
  std::string storage_driver;
  std::string cgroup_version;  // "1" | "2"
};

struct EngineOptions {
  // One exchange must fit (Wait has its own, below).
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds connect_timeout{5'000};
};

class DockerEngine {
 public:
  explicit DockerEngine(EngineEndpoint endpoint, EngineOptions options = {});

  const EngineEndpoint& endpoint() const { return endpoint_; }

  // GET /_ping: Ok when the daemon answers "OK". kUnavailable (with why) otherwise.
  Status Ping() const;
  // GET /version + /info (storage driver, cgroup version).
  Result<EngineInfo> Info() const;
  // GET /images/{name}/json: Ok when the image exists, kNotFound otherwise.
  Status InspectImage(const std::string& image) const;

  // POST /containers/create. Returns the new container's id.
  Result<std::string> CreateContainer(const ContainerSpec& spec) const;
  // POST /containers/{id}/start. Starting a running container is Ok.
  Status StartContainer(const std::string& id) const;
  // GET /containers/{id}/json.
  Result<ContainerState> InspectContainer(const std::string& id) const;
  // POST /containers/{id}/kill?signal=SIG ("SIGTERM", "SIGKILL"). A container that is not
  // running: kConflict.
  Status KillContainer(const std::string& id, const std::string& signal) const;
  // POST /containers/{id}/stop?t=grace: TERM, grace seconds, KILL. Not running: Ok.
  Status StopContainer(const std::string& id, int grace_seconds) const;
  // POST /containers/{id}/wait?condition=not-running, waiting up to `timeout`: the exit code.
  // kFailedPrecondition ("still running after ...") when it is still running then (Code has no
  // deadline code; kUnavailable stays "the daemon is unreachable").
  Result<int> WaitContainer(const std::string& id, std::chrono::milliseconds timeout) const;
  // DELETE /containers/{id}?force=<force>&v=1. A container that does not exist: Ok (already
  // gone). force kills a running one first.
  Status RemoveContainer(const std::string& id, bool force) const;
  // GET /containers/json?all=1&filters={"label":[...]}: containers with every label given
  // ("key" or "key=value").
  Result<std::vector<ContainerSummary>> ListContainers(
      const std::vector<std::string>& label_filters) const;

 private:
  EngineEndpoint endpoint_;
  EngineOptions options_;
};

}  // namespace outpost::docker
