#include "app/app.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "agents/grok/grok_agent.h"
#include "app/admin_command.h"
#include "app/audit_export.h"
#include "app/serve.h"
#include "app/stores.h"
#include "cli/client_commands.h"
#include "common/log.h"
#include "common/log_format.h"
#include "config/options.h"
#include "mcp/mcp_command.h"
#include "runner/netproxy/forwarder.h"
#include "runner/proc.h"
#include "runner/shim/shim.h"
#include "runner/task/task.h"
#include "secrets/secret_store.h"

namespace outpost::app {
namespace {

struct ServeFlags {
  std::string config, listen, data_dir, store, artifacts, replica_id, log_level, log_format, runner;
  int max_concurrent_runs = 0;
  std::int64_t max_output_bytes = 0;
  bool allow_local_repos = false;
  bool create_tables = false;
  bool enable_fault_injection = false;
  bool insecure = false;
};

// defaults < outpost.toml < OUTPOST_* environment < flags.
Result<Options> BuildOptions(const ServeFlags& f) {
  Options opts = DefaultOptions();
  auto env = ProcessEnvironment();
  std::string config = f.config;
  if (config.empty()) config = ConfigFileFromEnvironment(env);
  if (!config.empty()) OUTPOST_RETURN_IF_ERROR(ApplyConfigFile(config, opts));
  OUTPOST_RETURN_IF_ERROR(ApplyEnvironment(env, opts));
  if (!f.listen.empty()) opts.listen = f.listen;
  if (!f.data_dir.empty()) opts.data_dir = f.data_dir;
  if (!f.store.empty()) opts.store = f.store;
  if (!f.artifacts.empty()) opts.artifacts_url = f.artifacts;
  if (!f.replica_id.empty()) opts.replica_id = f.replica_id;
  if (!f.log_level.empty()) opts.log_level = f.log_level;
  if (!f.log_format.empty()) opts.log_format = f.log_format;
  if (!f.runner.empty()) {
    Result<RunnerKind> kind = ParseRunnerName(f.runner, "--runner");
    if (!kind.ok()) return kind.status();
    opts.runner = *kind;
  }
  if (f.max_concurrent_runs > 0) opts.max_concurrent_runs = f.max_concurrent_runs;
  if (f.allow_local_repos) opts.allow_local_repos = true;
  if (f.create_tables) opts.create_tables = true;
  if (f.enable_fault_injection) opts.enable_fault_injection = true;
  if (f.insecure) opts.insecure = true;
  if (f.max_output_bytes > 0) opts.max_output_bytes = f.max_output_bytes;
  if (opts.allow_local_repos && opts.local_repo_roots.empty()) {
    return InvalidArgument(
        "--allow-local-repos needs [server] local_repo_roots (OUTPOST_LOCAL_REPO_ROOTS=/a:/b): "
        "the directories local repositories may be cloned from");
  }
  return opts;
}

// `outpost serve --help`'s footer: the environment, as the config loader reads it.
std::string ServeEnvironmentHelp() {
  std::string out = "Environment (over outpost.toml, under flags):";
  for (const std::string& name : EnvironmentVariablesRead()) out += " " + name;
  out += "\nSecrets for agents: " + std::string(kSecretEnvPrefix) +
         "<NAME>. Every process of a run carries " + std::string(proc::kRunIdVariable) +
         "=<its run id>.";
  return out;
}

}  // namespace

int Main(int argc, char** argv) {
  // Runs inside a sandbox before the agent; its arguments end with the agent's argv after
  // "--", which no option parser should touch.
  if (argc > 1 && std::string_view(argv[1]) == "sandbox-forward") {
    return netproxy::RunSandboxForward(argc - 1, argv + 1);
  }
  // The built-in grok agent, run inside the sandbox; its TASK is one argv element.
  if (argc > 1 && std::string_view(argv[1]) == "grok-agent") {
    return agents::grok::RunGrokAgent(argc - 1, argv + 1);
  }
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"Outpost: dispatch coding agents into supervised, isolated runs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "outpost " OUTPOST_VERSION);
  int exit_code = 0;

  ServeFlags flags;
  auto* serve =
      app.add_subcommand("serve", "Run the control plane (HTTP API, scheduler, supervisor)");
  serve->add_option("--config", flags.config, "outpost.toml (env OUTPOST_CONFIG)");
  serve->add_option("--listen", flags.listen,
                    "HOST:PORT, port 0 picks one (env OUTPOST_LISTEN, default 127.0.0.1:8080)");
  serve->add_option("--data-dir", flags.data_dir,
                    "data directory (env OUTPOST_DATA_DIR, default ./.outpost)");
  serve->add_option("--store", flags.store,
                    "run store URL, e.g. sqlite:///path/outpost.db (env OUTPOST_STORE)");
  serve->add_option("--artifacts", flags.artifacts,
                    "artifact store: file:///abs/dir or s3://bucket/prefix?region=... "
                    "(env OUTPOST_ARTIFACTS, default <data-dir>/artifacts); replicas given the "
                    "same secret in env OUTPOST_ARTIFACT_URL_KEY (32+ characters) share /files "
                    "URLs");
  serve->add_option("--replica-id", flags.replica_id,
                    "this replica's id, distinct per replica sharing a store "
                    "(env OUTPOST_REPLICA_ID, default the host name)");
  serve->add_option("--log-level", flags.log_level,
                    "trace|debug|info|warn|error (env OUTPOST_LOG_LEVEL)");
  serve
      ->add_option("--log-format", flags.log_format,
                   "text | json: one JSON object per line with time, level, message "
                   "(env OUTPOST_LOG_FORMAT)")
      ->check(CLI::IsMember({"text", "json"}));
  serve
      ->add_option(
          "--runner", flags.runner,
          "sandbox (default: bubblewrap + cgroups) | process (NOT isolated) | docker (a container "
          "per run, [runner.docker]) | ecs (a Fargate task per run, [runner.ecs]) (env "
          "OUTPOST_RUNNER)")
      ->check(CLI::IsMember({"sandbox", "process", "docker", "ecs"}));
  serve->add_flag(
      "--allow-local-repos", flags.allow_local_repos,
      "dispatches may name a repository by absolute path (env OUTPOST_ALLOW_LOCAL_REPOS=1)");
  serve->add_flag("--create-tables", flags.create_tables,
                  "dynamodb:// store: create missing tables (env OUTPOST_CREATE_TABLES=1)");
  // Tests only: PUT /admin/faults, http/fault_injection.h. Listed apart, so that --help shows
  // every flag the README names.
  serve
      ->add_flag("--enable-fault-injection", flags.enable_fault_injection,
                 "register PUT/GET/DELETE /admin/faults (env OUTPOST_ENABLE_FAULT_INJECTION=1)")
      ->group("Tests only");
  serve->add_flag("--insecure", flags.insecure,
                  "with no API keys, accept unauthenticated requests on a non-loopback address "
                  "(env OUTPOST_INSECURE=1)");
  serve->add_option("--max-concurrent-runs", flags.max_concurrent_runs, "global admission limit")
      ->check(CLI::Range(1, 10000));
  serve
      ->add_option("--max-output-bytes", flags.max_output_bytes,
                   "output kept per run: head and tail, the middle dropped with a `truncated` "
                   "event (env OUTPOST_MAX_OUTPUT_BYTES, default 100 MiB)")
      ->check(CLI::Range(std::int64_t{64} << 10, std::int64_t{1} << 40));
  serve->footer(ServeEnvironmentHelp());
  serve->callback([&] {
    auto opts = BuildOptions(flags);
    if (!opts.ok()) {
      std::fprintf(stderr, "outpost serve: %s\n", opts.status().message().c_str());
      exit_code = 64;
      return;
    }
    SetupLoggingWithFormat(opts->log_level, opts->log_format);
    exit_code = Serve(*opts);
  });

  std::string run_dir;
  auto* shim = app.add_subcommand("shim", "internal: the per-run supervisor");
  shim->group("");  // hidden from --help
  shim->add_option("run_dir", run_dir)->required();
  shim->callback([&] { exit_code = RunShim(run_dir); });

  // `outpost task`: the entrypoint of the agent images (tini -- outpost task).
  task::TaskFlags task_flags;
  auto* task_cmd = app.add_subcommand(
      "task",
      "The in-container supervisor (the agent images' entrypoint): fetches the run's spec over "
      "the run channel, runs the agent as the image's `agent` user, reports events and the exit");
  task_cmd->add_option("--run-id", task_flags.run_id, "the run (env OUTPOST_RUN_ID)");
  task_cmd->add_option("--run-dir", task_flags.run_dir,
                       "the task directory: channel-token, spec.json, the run's files "
                       "(env OUTPOST_TASK_DIR)");
  task_cmd->add_option("--channel-socket", task_flags.channel_socket,
                       "the run channel's unix socket (env OUTPOST_CHANNEL_SOCKET)");
  task_cmd->add_option("--channel-url", task_flags.channel_url,
                       "the control plane's URL (env OUTPOST_CHANNEL_URL; with a socket: "
                       "http://localhost)");
  task_cmd->add_option("--token-file", task_flags.token_file,
                       "the run's channel token (env OUTPOST_CHANNEL_TOKEN_FILE, default "
                       "<run-dir>/channel-token; without that file, the one-use token in env "
                       "OUTPOST_BOOTSTRAP_TOKEN is exchanged for it)");
  task_cmd->add_option("--agent-user", task_flags.agent_user,
                       "the user the agent runs as, from /etc/passwd (default agent)");
  task_cmd->add_option("--workspace", task_flags.workspace,
                       "the agent's working directory (default /workspace)");
  task_cmd->add_option("--home", task_flags.home, "the agent's home (default /home/agent)");
  task_cmd->add_option("--proxy-socket", task_flags.proxy_socket,
                       "network allowlist: the egress proxy's unix socket (default "
                       "/run/outpost/proxy/proxy.sock)");
  task_cmd->callback([&] {
    Result<task::TaskOptions> opts = task::ResolveTaskOptions(task_flags);
    if (!opts.ok()) {
      std::fprintf(stderr, "outpost task: %s\n", opts.status().message().c_str());
      exit_code = 64;
      return;
    }
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) {
      std::fprintf(stderr, "outpost task: /proc/self/exe: %s\n", ec.message().c_str());
      exit_code = 1;
      return;
    }
    exit_code = task::RunTask(*opts, self);
  });

  // `outpost audit export`: the audit log as JSONL, read from the store (like `outpost admin`).
  ServeFlags audit_flags;
  std::string audit_since, audit_tenant;
  auto* audit = app.add_subcommand("audit", "The audit log of the configured store");
  audit->require_subcommand(1);
  auto* audit_export =
      audit->add_subcommand("export", "Write audit records as JSON lines to stdout, oldest first");
  audit_export->add_option("--since", audit_since,
                           "only records at or after (RFC 3339 or YYYY-MM-DD)");
  audit_export->add_option("--tenant", audit_tenant,
                           "only this tenant's records (default: every tenant)");
  audit_export->add_option("--config", audit_flags.config, "outpost.toml (env OUTPOST_CONFIG)");
  audit_export->add_option("--data-dir", audit_flags.data_dir,
                           "data directory (env OUTPOST_DATA_DIR)");
  audit_export->add_option("--store", audit_flags.store, "store URL (env OUTPOST_STORE)");
  audit_export->callback([&] {
    auto opts = BuildOptions(audit_flags);
    if (!opts.ok()) {
      std::fprintf(stderr, "outpost audit export: %s\n", opts.status().message().c_str());
      exit_code = 64;
      return;
    }
    SetupLogging("warn");
    exit_code = ExportAudit(*opts, audit_since, audit_tenant, std::cout, std::cerr);
  });

  cli::AddClientCommands(app, &exit_code);
  AddAdminCommands(app, &exit_code, [](const StoreFlags& s) {
    ServeFlags f;
    f.config = s.config;
    f.data_dir = s.data_dir;
    f.store = s.store;
    f.create_tables = s.create_tables;
    return BuildOptions(f);
  });
  mcp::AddMcpCommand(app, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli::ExitForParseError(app, e);
  }
  return exit_code;
}

}  // namespace outpost::app
