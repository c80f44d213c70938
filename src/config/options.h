// Options: the whole configuration of a process, built once by config/ from (lowest to highest
// precedence) embedded defaults, outpost.toml, OUTPOST_* environment variables and flags.
// Every other component takes the part it needs by const reference.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/quota_options.h"
#include "model/runner_kind.h"

namespace outpost {

struct AgentOptions {
  std::string name;
  bool enabled = true;
  std::vector<std::string> command;  // argv template; "{task}" and "{model}" are substituted
  std::vector<std::string> models;   // first is the default
  int max_concurrent = 5;
  std::map<std::string, std::string> env;
  // Files written into the agent's home before each run (relative path -> content), e.g.
  // ".gemini/settings.json". Replaced whole by the config's `home_files` table.
  std::map<std::string, std::string> home_files;
  std::vector<std::string> install_dirs;   // bound read-only into its sandbox
  std::vector<std::string> network_allow;  // "host:port" patterns its runs may reach (allowlist)
  // The policy of a run whose dispatch names none: none | allowlist | host; empty: "allowlist"
  // when network_allow is not empty, else "none" (config/agent_network.h, DefaultNetwork).
  std::string network;
  // Where its model API is ("https://gateway.example.com"), applied at config load
  // (config/agent_network.h, ApplyBaseUrl): the CLI's setting and the allowlist come from it.
  std::string base_url;
  // How its stdout is read (agents/parsers/parser.h): claude-stream-json | codex-json |
  // gemini-stream-json | aider-text | grok | plain.
  std::string parser = "plain";
  std::vector<std::string> required_secrets;  // secret names every run of it needs (its API key)
  double cost_input_per_mtok = 0;             // USD per million input tokens
  double cost_output_per_mtok = 0;            // USD per million output tokens
  // Defaults for resourceConstraints when a dispatch gives none.
  std::optional<int> max_memory_mb;
  std::optional<int> max_cpu_units;
  std::optional<int> max_disk_gb;
};

struct SandboxOptions {
  int uid_min = 200000;  // each concurrent run gets its own uid/gid from [uid_min, uid_max]
  int uid_max = 200999;
  int pids_max = 512;
  std::vector<std::string> ro_binds;       // extra host dirs bound read-only into every sandbox
  std::vector<std::string> network_allow;  // the operator's allowlist, added to the agent's
  bool allow_host_network = false;         // lets dispatches ask for network "host"
  // Detected at start by app/ (not a config key): bwrap takes --disable-userns (>= 0.8).
  bool disable_userns = false;
};

struct Options {
  // serve
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./.outpost";
  std::string store;          // default: sqlite://<data_dir>/outpost.db
  std::string artifacts_url;  // file:///abs/dir | plain dir | s3://…; default <data_dir>/artifacts
  // How clients reach this server ("https://outpost.example.com"), for the artifact URLs it
  // signs; default http://<bound address> (wrong behind a proxy or on 0.0.0.0).
  std::string public_url;
  // More names clients reach this server by, besides its listen address, localhost and
  // public_url's host: "name" (any port) or "name:port" ([server] allowed_hosts,
  // OUTPOST_ALLOWED_HOSTS comma-separated). In open mode a request naming another Host is
  // refused (DNS rebinding; http/host_guard.h).
  std::vector<std::string> allowed_hosts;
  std::string secrets_dir;  // one 0600 file per secret; default: <data_dir>/secrets if present
  RunnerKind runner = RunnerKind::kSandbox;  // sandbox (bubblewrap + cgroups) | process
  int max_concurrent_runs = 16;              // global admission limit
  int cancel_grace_seconds = 10;             // SIGTERM -> SIGKILL
  int default_timeout_seconds = 600;
  int max_body_bytes = 1 << 20;
  // Hostile-input limits of the HTTP server (http/http_limits.h, README "Hostile input").
  int max_header_bytes = 16 << 10;      // request line + header fields -> 431
  int max_header_fields = 100;          // -> 431
  int max_header_line_bytes = 8 << 10;  // one header field -> 431
  int max_target_bytes = 8 << 10;       // the request-target -> 414
  int header_timeout_ms = 10'000;       // accept / first byte -> end of the header block
  int body_timeout_ms = 10'000;         // the body's grace, then body_min_bytes_per_second
  int body_min_bytes_per_second = 16 << 10;
  int idle_timeout_ms = 60'000;     // keep-alive wait for the next request
  int write_timeout_ms = 60'000;    // one write to a client that does not read
  int max_connections = 1024;       // beyond: 503 and close
  int shutdown_grace_seconds = 10;  // in-flight requests on SIGTERM
  // Finished runs' directories and local artifacts older than this are deleted (0: never).
  int retention_days = 30;
  // Below this much free space in the data dir, /health is degraded and no run is admitted
  // (dispatch answers 503; queued runs wait) rather than failing for lack of space. 0: off.
  int min_free_disk_mb = 1024;
  int events_heartbeat_ms = 15'000;  // SSE comment when a run's event stream is quiet
  // Output kept per run ([limits] max_output_bytes, OUTPOST_MAX_OUTPUT_BYTES): head and tail,
  // the middle dropped with a `truncated` event (runner/shim/output_capture.h).
  std::int64_t max_output_bytes = std::int64_t{100} << 20;
  bool allow_local_repos = false;  // dispatches may name a repository by absolute path
  // Audit F9: with allow_local_repos, the directories (absolute) a local repository must lie
  // under once resolved; required then (serve refuses to start without one). The data dir is
  // refused whatever they say.
  std::vector<std::string> local_repo_roots;
  // [git.hosts."<host>"] token_secret: the hosts a clone may send a token to (over https only,
  // on the default port), each with the secret that holds its token. A repo on any other host
  // clones anonymously (workspace::TokenFor).
  std::map<std::string, std::string> git_hosts{{"github.com", "GITHUB_TOKEN"}};
  // [git] allow_private_hosts: clone hosts ("host" or "host:port") that may resolve to
  // loopback, link-local or private addresses (audit F10); none by default.
  std::vector<std::string> git_allow_private_hosts;
  bool create_tables = false;  // dynamodb:// store: create missing tables and indexes
  // Tests only: the /admin/faults switch (http/fault_injection.h). Flag or env only, never the
  // config file, so a production config cannot turn it on by accident.
  bool enable_fault_injection = false;
  std::string log_level = "info";
  std::string replica_id;  // default: hostname
  // Replicas sharing a store: a replica whose heartbeat is older than this is lost; its queued
  // runs are taken over, its running ones end FAILED node_lost.
  int lease_seconds = 15;
  std::string self_exe;        // this binary (set by app/): shims and sandbox forwarders
  std::string cgroup_version;  // detected at start by app/: "v1" | "v2" |
  std::map<std::string, AgentOptions> agents;
  SandboxOptions sandbox;
  // [auth]: with no API keys in the store, serve unauthenticated requests even on a
  // non-loopback address (--insecure, OUTPOST_INSECURE=1), and the bearer token that may read
  // GET /metrics besides an admin key (OUTPOST_METRICS_TOKEN; 16-256 printable characters).
  bool insecure = false;
  std::string metrics_token;
  QuotaOptions quotas;  // [quotas] (config/quota_options.h)
  AuditOptions audit;   // [audit]

  std::string StoreUrl() const;
  // artifacts_url, or the directory <data_dir>/artifacts when unset.
  std::string ArtifactsUrl() const;
  std::string RunsDir() const { return data_dir + "/runs"; }
};

// The embedded defaults: the `shell` agent and the coding agents (claude, codex, gemini, aider,
// grok) with their headless commands, models, secrets, API hosts and cost rates. A coding agent
// whose CLI is not installed is reported unavailable by AgentRegistry, not removed here.
Options DefaultOptions();

// Overlays outpost.toml at `path` onto `opts`. Unknown keys and wrong types are
// kInvalidArgument naming the key.
Status ApplyConfigFile(const std::string& path, Options& opts);

// Overlays OUTPOST_* variables from `environ`-style entries.
Status ApplyEnvironment(const std::map<std::string, std::string>& env, Options& opts);

// The config file OUTPOST_CONFIG names ("" when unset).
std::string ConfigFileFromEnvironment(const std::map<std::string, std::string>& env);

// Every OUTPOST_* variable the config loader reads (ConfigFileFromEnvironment and
// ApplyEnvironment, quotas and audit included), recorded from the loader itself (env_reader.h).
// `outpost serve --help` lists them; the README test checks every variable the README names.
std::set<std::string> EnvironmentVariablesRead();

}  // namespace outpost
