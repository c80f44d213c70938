// Test fixture: a real load balancer (HAProxy, Debian's `haproxy` package) in front of several
// `outpost serve` replicas, configured like the runbook's ALB: round-robin, health checks on
// GET /health/live, timeouts long enough for Server-Sent Events, and no retry of a request that
// reached a replica. Plus ReplicaCluster: N replicas on one shared store (dynalite, or one SQLite
// file) with artifacts on s3rver, behind a Balancer.
//
// HAProxy cannot bind port 0 and report the port: Balancer picks a free port and, when HAProxy
// exits because another process took it meanwhile ("cannot bind socket"), starts again on
// another. It is ready when its stats socket (a unix socket in its directory) answers — the
// socket and the frontend are bound together, before HAProxy serves either.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/server_fixture.h"

namespace outpost::aws::testing {
class Dynalite;
class S3rver;
}  // namespace outpost::aws::testing

namespace outpost::testing {

class Balancer {
 public:
  // The response header naming the backend server (replica) that answered.
  static constexpr const char* kBackendHeader = "X-Outpost-Backend";

  // `servers`: (name, HOST:PORT) of each replica. `dir` holds the config, the stats socket and
  // HAProxy's output. HAProxy is /usr/sbin/haproxy or $OUTPOST_HAPROXY. Throws
  // std::runtime_error when it is not installed (naming it and scripts/install-deps.sh) or does
  // not start (with its output). `first_port` (tests of the fixture): the port tried first
  // instead of a free one.
  Balancer(const std::vector<std::pair<std::string, std::string>>& servers, const std::string& dir,
           std::uint16_t first_port = 0);
  ~Balancer();  // SIGKILL, reaped
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  const std::string& address() const { return address_; }  // 127.0.0.1:PORT
  pid_t pid() const { return pid_; }
  const std::string& config() const { return config_; }
  // How many times HAProxy was started (more than once when a port was taken meanwhile); its
  // output, every start's, is in DIR/haproxy.log.
  int starts() const { return starts_; }
  // The balancer's view of each server: name -> status of `show stat` ("UP", "DOWN", "UP 1/2"
  // while checks are in progress, "no check", ...). Empty when the stats socket does not answer.
  std::map<std::string, std::string> ServerStates() const;
  // Until every server is UP (true) or `timeout` passes (false).
  bool WaitAllUp(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Until server `name` has status `status` ("UP"/"DOWN").
  bool WaitState(const std::string& name, const std::string& status,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // A command on the stats socket (`show stat`, `show servers state`); its answer.
  std::string Command(const std::string& command) const;

  // The server that answered: the X-Outpost-Backend header of a response or of a raw response
  // header block (SseClient::header()); "" when absent.
  static std::string BackendOf(const HttpResponse& r);
  static std::string BackendOf(const std::string& raw_header);

 private:
  bool StartOn(std::uint16_t port, std::string* output);

  std::string dir_, socket_, address_, config_;
  std::vector<std::pair<std::string, std::string>> servers_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

enum class ClusterStore { kDynamoDb, kSqlite };

struct ClusterOptions {
  ClusterStore store = ClusterStore::kDynamoDb;
  int replicas = 3;
  // [server] runner: the sandbox, with its workspace images, as in production (/health is
  // "healthy" only so, which the runbook checks).
  std::string runner = "sandbox";
  int lease_seconds = 4;
  int shell_max_concurrent = 16;
  std::string extra_config;  // TOML appended to the replicas' outpost.toml
};

// N replicas named replica-0..N-1 (OUTPOST_REPLICA_ID, and the balancer's server names), each
// with its own data dir under root(), on one store, artifacts on one s3rver bucket, behind a
// Balancer. Every agent but shell is disabled (as the runbook test does), so /health/fleet is
// healthy. Throws std::runtime_error, naming what failed, when any part does not start.
class ReplicaCluster {
 public:
  explicit ReplicaCluster(ClusterOptions options = {});
  ~ReplicaCluster();  // stops the balancer, the replicas, their runs and the tools; removes root()
  ReplicaCluster(const ReplicaCluster&) = delete;
  ReplicaCluster& operator=(const ReplicaCluster&) = delete;

  Balancer& balancer() { return *balancer_; }
  const std::string& address() const { return balancer_->address(); }  // the balancer's
  int size() const { return static_cast<int>(replicas_.size()); }
  // nullptr after Kill(i).
  ServerProcess* replica(int i) { return replicas_.at(static_cast<std::size_t>(i)).get(); }
  static std::string Name(int i) { return "replica-" + std::to_string(i); }
  // The index of the replica called `name`, -1 when none is.
  int IndexOf(const std::string& name) const;
  const std::string& root() const { return root_; }
  std::string DataDir(int i) const { return root_ + "/" + Name(i); }
  // A local git repository (branch main) the replicas may check out (OUTPOST_ALLOW_LOCAL_REPOS).
  std::string Repo() const { return root_ + "/repos/origin"; }
  // kill -9 and reap replica i (its runs' processes keep running until the store says
  // node_lost and a reaper, or the destructor, stops them).
  void Kill(int i);
  // The environment and arguments replica i was started with (store, credentials, config).
  std::map<std::string, std::string> Env(int i) const;
  std::vector<std::string> Args(int i) const;

 private:
  void Start();
  void Stop();

  ClusterOptions options_;
  std::string root_;
  std::unique_ptr<aws::testing::Dynalite> dynalite_;
  std::unique_ptr<aws::testing::S3rver> s3rver_;
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
  std::unique_ptr<Balancer> balancer_;
};

}  // namespace outpost::testing
