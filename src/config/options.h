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
  // Which runner runs it ([agents.NAME] runner; nullopt: [runner] kind) and, for the docker
  // runner, its image ([agents.NAME] image; "": DockerOptions::ImageFor).
  std::optional<RunnerKind> runner;
  std::string image;
};

// [runner.docker]: the docker runner (runner/docker/docker_runner.h).
struct DockerOptions {
  // The Engine: "unix:///path" or "tcp://host:port" ("": DOCKER_HOST, else
  // unix:///var/run/docker.sock; runner/docker/engine.h EngineEndpoint::Resolve).
  std::string host;
  // An agent's default image: image_prefix + NAME (outpost-base for `shell`), with ":" +
  // image_tag when that is set ("test" names the images `make images` builds for tests).
  std::string image_prefix = "outpost-";
  std::string image_tag;
  // How long a run's container may be out of the Engine's reach (every inspect failing) before
  // the run is lost (DockerRunnerConfig::unreachable_grace_seconds).
  int unreachable_grace_seconds = 300;
  // Run every container as a remote task (no bind mounts: the bootstrap token, the outputs over
  // the run channel) although the Engine is local; a tcp:// host always does.
  bool remote = false;
  std::string ImageFor(const std::string& agent) const {
    std::string name = image_prefix + (agent == "shell" ? "base" : agent);
    return image_tag.empty() ? name : name + ":" + image_tag;
  }
};

// [runner.ecs]: the ecs runner (runner/ecs/ecs_runner.h): one Fargate task per run.
struct EcsOptions {
  std::string region;   // "": AWS_REGION, AWS_DEFAULT_REGION, the profile's (aws/credentials.h)
  std::string cluster;  // name or ARN; required when the ecs runner is used
  std::vector<std::string> subnets;          // awsvpcConfiguration; required (at least one)
  std::vector<std::string> security_groups;  // "" = the VPC's default group
  bool assign_public_ip = false;
  // A run's task definition (family): task_definition_prefix + agent; the prefix "" means
  // "outpost-" + env + "-", the runbook's `outpost-{env}-{agent}` (container name = the agent's).
  std::string task_definition_prefix;
  std::string env = "prod";
  std::string capacity_provider;      // "": launch type FARGATE; else a strategy of this provider
  std::string endpoint;               // "": AWS; http(s)://host:port of an ECS-compatible server
  int describe_interval_seconds = 5;  // one DescribeTasks for all runs at most this often
  int start_timeout_seconds = 600;    // not RUNNING by then: stopped, start_failed
  int lost_grace_seconds = 300;       // ECS unreachable / task unknown this long: lost
  std::string TaskDefinitionPrefix() const {
    return task_definition_prefix.empty() ? "outpost-" + env + "-" : task_definition_prefix;
  }
  std::string TaskDefinitionFor(const std::string& agent) const {
    return TaskDefinitionPrefix() + agent;
  }
};

// [limits] (audit F6): what a run gets when neither its dispatch nor its agent's defaults
// ([agents.NAME] max_*) say, and the ceilings no dispatch and no agent default may exceed. Sized
// for a coding agent: a language server, a compiler or test runner and the CLI itself fit in
// 4 GiB and 2 CPUs; a checkout with its build outputs and dependencies in 10 GiB.
struct RunLimitOptions {
  int default_memory_mb = 4096;
  int default_cpu_units = 2048;  // 1024 = one CPU
  int default_disk_gb = 10;      // workspace + home
  int ceiling_memory_mb = 16384;
  int ceiling_cpu_units = 8192;
  int ceiling_disk_gb = 100;
};

struct SandboxOptions {
  int uid_min = 200000;  // each concurrent run gets its own uid/gid from [uid_min, uid_max]
  int uid_max = 200999;
  // Machine-wide flock'd file per uid (audit F12): every server on one machine names the same
  // directory, so that two of them never give two live runs the same uid. Absolute.
  std::string uid_lock_dir = "/run/outpost/uids";
  // Processes and threads of a run (pids cgroup). Threads count: a Node or JVM CLI has dozens,
  // a parallel build a few per job.
  int pids_max = 1024;
  std::vector<std::string> ro_binds;       // extra host dirs bound read-only into every sandbox
  std::vector<std::string> network_allow;  // the operator's allowlist, added to the agent's
  bool allow_host_network = false;         // lets dispatches ask for network "host"
  // Detected at start by app/ (not a config key): bwrap takes --disable-userns (>= 0.8).
  bool disable_userns = false;
  // Audit F5: each run's workspace and home on a loop-mounted ext4 image of its disk limit
  // (runner/sandbox/disk_image.h); off, or where loop devices do not work, a polling watchdog
  // (which a file deleted while open escapes). [sandbox] workspace_images,
  // OUTPOST_WORKSPACE_IMAGES.
  bool workspace_images = true;
  // Set at start by app/ (not a config key) when images were asked for but cannot work here.
  std::string workspace_images_problem;
};

// [secrets] (README "Secrets"): where the values of secrets come from besides the environment
// (OUTPOST_SECRET_<NAME>) and secrets_dir, which are always asked first.
struct SecretsOptions {
  // "local": nothing more. "aws-secretsmanager": then AWS Secrets Manager, the secret NAME being
  // `<prefix><NAME>` there (secrets/aws_secret_store.h).
  std::string backend = "local";
  std::string region;           // "" = AWS_REGION / AWS_DEFAULT_REGION / the profile's
  std::string endpoint;         // http(s)://host[:port] (a VPC endpoint, a test double); "" = AWS
  std::string prefix;           // "outpost/prod/"
  int cache_ttl_seconds = 300;  // values (and "not found") are re-read after this; 0 = always
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
  SecretsOptions secrets;   // [secrets]
  // The default runner of every agent ([runner] kind, alias [server] runner): sandbox
  // (bubblewrap + cgroups) | process | docker. An agent's own `runner` wins.
  RunnerKind runner = RunnerKind::kSandbox;
  // [runner] channel_url: the control plane's URL that remote tasks (no shared files) reach the
  // run channel at. "": public_url, else http://<the listen address>.
  std::string channel_url;
  DockerOptions docker;           // [runner.docker]
  EcsOptions ecs;                 // [runner.ecs]
  int max_concurrent_runs = 16;   // global admission limit
  int cancel_grace_seconds = 10;  // SIGTERM -> SIGKILL
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
  int idle_timeout_ms = 60'000;   // keep-alive wait for the next request
  int write_timeout_ms = 60'000;  // one write to a client that does not read
  int max_connections = 1024;     // beyond: 503 and close
  // Request handlers run on a pool of this many threads (0: on the HTTP io threads), so a slow
  // store holds up no io thread; /health/live stays on the io threads.
  int handler_threads = 16;
  int shutdown_grace_seconds = 10;  // in-flight requests on SIGTERM
  // SIGTERM drain: how long this replica waits for its running runs before it exits (README
  // "Draining a replica").
  int drain_seconds = 25;
  // Finished runs' directories and local artifacts older than this are deleted (0: never).
  int retention_days = 30;
  // Below this much free space in the data dir, /health is degraded and no run is admitted
  // (dispatch answers 503; queued runs wait) rather than failing for lack of space. 0: off.
  int min_free_disk_mb = 1024;
  int events_heartbeat_ms = 15'000;  // SSE comment when a run's event stream is quiet
  // Output kept per run ([limits] max_output_bytes, OUTPOST_MAX_OUTPUT_BYTES): head and tail,
  // the middle dropped with a `truncated` event (runner/shim/output_capture.h).
  std::int64_t max_output_bytes = std::int64_t{100} << 20;
  RunLimitOptions run_limits;  // [limits] default_* and ceiling_* (audit F6)
  // Audit F14: the budget of a run's change collection (after the agent, as root, its git in
  // the run's cgroup): the whole of it, and the largest file or git output it may make
  // ([limits] collect_timeout_seconds, collect_max_bytes). Past either the run's changes are
  // "uncollected" or carry no diff, with the reason; the run's outcome is unchanged.
  int collect_timeout_seconds = 300;
  std::int64_t collect_max_bytes = std::int64_t{256} << 20;
  // Per-run cost ceilings in USD ([limits] default_max_cost_usd / max_cost_usd,
  // OUTPOST_DEFAULT_MAX_COST_USD / OUTPOST_MAX_COST_USD): the maxCostUsd of a dispatch without
  // one, and the largest a dispatch may ask for. nullopt: none.
  std::optional<double> default_max_cost_usd;
  std::optional<double> max_cost_usd;
  bool allow_local_repos = false;  // dispatches may name a repository by absolute path
  // Audit F9: with allow_local_repos, the directories (absolute) a local repository must lie
  // under once resolved; required then (serve refuses to start without one). The data dir is
  // refused whatever they say.
  std::vector<std::string> local_repo_roots;
  // [git.hosts."<host>"] token_secret: the hosts a clone may send a token to (over https only,
  // on the default port), each with the secret that holds its token. A repo on any other host
  // clones anonymously (workspace::TokenFor).
  std::map<std::string, std::string> git_hosts{{"github.com", "GITHUB_TOKEN"}};
  // Audit F9: [git.hosts."<host>"] shared = true: that operator token is used for every
  // tenant's clones; otherwise only for tenant "default" (open mode: the operator's own runs).
  std::set<std::string> git_shared_hosts;
  // [git.tenants."<tenant id>".hosts."<host>"] token_secret: a tenant's own tokens (tenant ->
  // host -> secret name), used for that tenant's clones only.
  std::map<std::string, std::map<std::string, std::string>> git_tenant_hosts;
  // [git] allow_private_hosts: clone hosts ("host" or "host:port") that may resolve to
  // loopback, link-local or private addresses (audit F10); none by default.
  std::vector<std::string> git_allow_private_hosts;
  // Audit F9: [git] ssh_known_hosts (OUTPOST_GIT_SSH_KNOWN_HOSTS): the absolute path of the
  // known_hosts file ssh clones check host keys against; "" (the default) refuses ssh URLs.
  std::string git_ssh_known_hosts;
  // Promote (core/promoter.h). [git] github_api_url (OUTPOST_GITHUB_API_URL): the GitHub REST
  // API a pull request is opened through (GitHub Enterprise: "https://HOST/api/v3"); https, or
  // http to a loopback address only. [git] push_ca_file (OUTPOST_GIT_PUSH_CA_FILE): a PEM file
  // of extra CAs promote's git trusts besides the system store ("": none).
  std::string github_api_url = "https://api.github.com";
  std::string git_push_ca_file;
  bool create_tables = false;  // dynamodb:// store: create missing tables and indexes
  // Tests only: the /admin/faults switch (http/fault_injection.h). Flag or env only, never the
  // config file, so a production config cannot turn it on by accident.
  bool enable_fault_injection = false;
  std::string log_level = "info";
  // [server] log_format, OUTPOST_LOG_FORMAT, --log-format: "text" (a timestamped line) or
  // "json" (one object per line: time, level in capitals, message), for CloudWatch Logs.
  std::string log_format = "text";
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
  // The runner of an agent's runs: its own `runner`, else `runner` ([runner] kind).
  RunnerKind RunnerFor(const std::string& agent) const;
  // Whether any enabled agent runs with `kind`.
  bool UsesRunner(RunnerKind kind) const;
  // The image of an agent's container runs: its own `image`, else docker.ImageFor(name).
  std::string ImageFor(const std::string& agent) const;
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

// A runner's name as the config, OUTPOST_RUNNER and --runner take it: kInvalidArgument naming
// `key` for an unknown name.
Result<RunnerKind> ParseRunnerName(const std::string& name, const std::string& key);

// Every OUTPOST_* variable the config loader reads (ConfigFileFromEnvironment and
// ApplyEnvironment, quotas and audit included), recorded from the loader itself (env_reader.h).
// `outpost serve --help` lists them; the README test checks every variable the README names.
std::set<std::string> EnvironmentVariablesRead();

}  // namespace outpost
