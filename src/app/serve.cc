#include "app/serve.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "agents/agent.h"
#include "api/artifact_routes.h"
#include "api/audit_routes.h"
#include "api/channel_routes.h"
#include "api/file_routes.h"
#include "api/group_routes.h"
#include "api/promote_routes.h"
#include "api/rate_limit.h"
#include "api/routes.h"
#include "app/default_tenant.h"
#include "app/runners.h"
#include "app/stores.h"
#include "artifacts/local/local_artifact_store.h"
#include "artifacts/s3/s3_artifact_store.h"
#include "auth/auth_mode.h"
#include "auth/key_verifier.h"
#include "auth/request_authenticator.h"
#include "common/files.h"
#include "common/log.h"
#include "common/periodic_task.h"
#include "config/agent_network.h"
#include "core/agent_secrets.h"
#include "core/artifact_uploader.h"
#include "core/auditor.h"
#include "core/event_hub.h"
#include "core/event_pump.h"
#include "core/promoter.h"
#include "core/quota_sweeper.h"
#include "core/retention.h"
#include "core/run_artifacts.h"
#include "core/run_channel.h"
#include "core/run_service.h"
#include "core/supervisor.h"
#include "http/fault_injection.h"
#include "http/host_guard.h"
#include "http/http_server.h"
#include "http/router.h"
#include "mcp/http_route.h"
#include "quota/rate_limiter.h"
#include "runner/process_runner.h"
#include "runner/sandbox/bwrap.h"
#include "runner/sandbox/cgroup.h"
#include "runner/sandbox/disk_image.h"
#include "runner/sandbox/probe.h"
#include "secrets/aws_secret_store.h"
#include "secrets/secret_store.h"
#include "store/dynamodb/dynamodb_run_store.h"
#include "telemetry/instrumented_stores.h"
#include "telemetry/routes.h"
#include "telemetry/server_metrics.h"
#include "web/web_routes.h"

namespace outpost::app {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "outpost serve: %s\n", message.c_str());
  return 1;
}

// A start that is refused leaves the data dir as it found it: what the start created there (the
// directory itself when it was not there) is removed again, unless Keep() was called — once the
// supervisor may start runs in it.
class StartCleanup {
 public:
  explicit StartCleanup(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    existed_ = std::filesystem::is_directory(dir_, ec);
    if (!existed_) return;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      before_.insert(e.path().filename().string());
    }
  }
  StartCleanup(const StartCleanup&) = delete;
  StartCleanup& operator=(const StartCleanup&) = delete;
  ~StartCleanup() {
    if (kept_) return;
    std::error_code ec;
    if (!existed_) {
      std::filesystem::remove_all(dir_, ec);
      return;
    }
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      if (!before_.count(e.path().filename().string())) std::filesystem::remove_all(e.path(), ec);
    }
  }
  void Keep() { kept_ = true; }

 private:
  std::string dir_;
  bool existed_ = false;
  bool kept_ = false;
  std::set<std::string> before_;
};

// bwrap binds a run's workspace as the sandbox's own uid, so it must be able to traverse every
// directory above it (it can list none of them).
Status CheckTraversable(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::canonical(dir, ec);
  if (ec) return Internal("cannot resolve " + dir + ": " + ec.message());
  for (; !p.empty(); p = p.parent_path()) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH)) {
      return FailedPrecondition(p.string() + " is not traversable by other users (mode " +
                                fmt::format("{:o}", st.st_mode & 07777) +
                                "): the sandbox uids cannot reach their workspaces below it; "
                                "chmod o+x it or choose another --data-dir");
    }
    if (p == p.root_path()) break;
  }
  return Status::Ok();
}

// One server per data dir: two supervisors of the same runs would race each other.
Result<int> LockDataDir(const std::string& dir) {
  std::string path = dir + "/serve.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FailedPrecondition("another outpost serve is using data dir " + dir);
  }
  return fd;
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "outpost";
}

bool SplitHostPort(const std::string& listen, std::string& host, int& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    return used == listen.size() - colon - 1 && port >= 0 && port <= 65535 && !host.empty();
  } catch (...) {
    return false;
  }
}

// The server's own "http://HOST:PORT", for the artifact URLs it signs: known only once the
// listening port is bound (port 0), after the store that signs them was made. Issue 24 item 2:
// on a wildcard listener without public_url, a request's own Host (one of the allowed names)
// is the base of the URLs signed while it is handled (RequestBase, on its thread).
class SelfUrl {
 public:
  void Set(std::string url) {
    std::lock_guard lock(mu_);
    url_ = std::move(url);
  }
  std::string Get() const {
    if (!request_base_.empty()) return request_base_;
    std::lock_guard lock(mu_);
    return url_;
  }
  // For the duration of one request handled on this thread.
  class RequestBase {
   public:
    explicit RequestBase(std::string base) { request_base_ = std::move(base); }
    ~RequestBase() { request_base_.clear(); }
    RequestBase(const RequestBase&) = delete;
    RequestBase& operator=(const RequestBase&) = delete;
  };

 private:
  static thread_local std::string request_base_;
  mutable std::mutex mu_;
  std::string url_;  // guarded by mu_
};
thread_local std::string SelfUrl::request_base_;

bool IsWildcardHost(std::string_view host) {
  return host == "0.0.0.0" || host == "::" || host == "[::]" || host.empty();
}

// The local artifact store (file:// or a directory; the default <data_dir>/artifacts) with its
// URL signing key <data_dir>/artifact-url.key, created on first start.
// OUTPOST_ARTIFACT_URL_KEY (a secret given to every replica, at least 32 characters), when set,
// is the key instead: then a URL signed by any replica verifies on any other.
Result<std::unique_ptr<artifacts::LocalArtifactStore>> OpenLocalArtifacts(const Options& opts,
                                                                          const SelfUrl& self) {
  Result<artifacts::UrlSigner> signer = artifacts::UrlSigner::LoadOrCreate(opts.data_dir);
  if (const char* shared = std::getenv("OUTPOST_ARTIFACT_URL_KEY"); shared && *shared) {
    if (std::strlen(shared) < artifacts::UrlSigner::kKeyBytes) {
      return InvalidArgument("OUTPOST_ARTIFACT_URL_KEY must be at least 32 characters");
    }
    signer = artifacts::UrlSigner(shared);
  }
  if (!signer.ok()) return signer.status();
  const std::string url =
      opts.ArtifactsUrl().starts_with("s3://") ? opts.data_dir + "/artifacts" : opts.ArtifactsUrl();
  return artifacts::LocalArtifactStore::Open(url, *signer, [&self] { return self.Get(); });
}

// The process environment, for OUTPOST_SECRET_* (values stay in the store, never logged).
std::map<std::string, std::string> SecretEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (kv.starts_with(kSecretEnvPrefix) && eq != std::string_view::npos) {
      env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  return env;
}

// The [server] limits on hostile input (config/options.h) for the HTTP server.
void SetHostileInputLimits(const Options& o, http::HttpServerOptions& h) {
  using std::chrono::milliseconds;
  h.max_header_bytes = static_cast<std::size_t>(o.max_header_bytes);
  h.max_header_fields = static_cast<std::size_t>(o.max_header_fields);
  h.max_header_line_bytes = static_cast<std::size_t>(o.max_header_line_bytes);
  h.max_target_bytes = static_cast<std::size_t>(o.max_target_bytes);
  h.header_timeout = milliseconds(o.header_timeout_ms);
  h.body_timeout = milliseconds(o.body_timeout_ms);
  h.body_min_rate = static_cast<std::size_t>(o.body_min_bytes_per_second);
  h.idle_timeout = milliseconds(o.idle_timeout_ms);
  h.write_timeout = milliseconds(o.write_timeout_ms);
  h.max_connections = static_cast<std::size_t>(o.max_connections);
}

// The runs directory, and what the sandbox runner needs of this machine (probed once here:
// bubblewrap usable, cgroups, whether bwrap can refuse nested user namespaces) — fixed in `opts`.
Status PrepareRunsDir(Options& opts) {
  // 0711: a sandbox's uid must traverse to its own workspace (bwrap binds it as that uid) but
  // may list nothing; every file in here is 0600.
  if (Status st = MakeDirs(opts.RunsDir(), 0711); !st.ok()) return st;
  ::chmod(opts.data_dir.c_str(), 0711);
  opts.self_exe = SelfExe();
  if (opts.UsesRunner(RunnerKind::kSandbox)) {
    // Before bubblewrap is tried: as another user it fails for want of root, not of bwrap.
    if (::geteuid() != 0) {
      return FailedPrecondition(
          "the sandbox runner needs root: each run gets a uid of its own (from [sandbox] uid_min " +
          std::to_string(opts.sandbox.uid_min) +
          ") and a cgroup for its limits, which only root can give. Run outpost serve as root "
          "(e.g. with sudo), or choose the unisolated runner with --runner process");
    }
    if (Status st = sandbox::CheckSandboxUsable(opts.sandbox.uid_min); !st.ok()) {
      const bool missing = !sandbox::FindExecutable("bwrap").ok();
      return FailedPrecondition(
          "the sandbox runner cannot work here: " + st.message() +
          (missing ? " (install bubblewrap: apt-get install bubblewrap; or choose the unisolated "
                     "runner with --runner process)"
                   : " (or choose the unisolated runner with --runner process)"));
    }
    if (Status st = CheckTraversable(opts.RunsDir()); !st.ok()) return st;
    if (auto bwrap = sandbox::FindExecutable("bwrap"); bwrap.ok()) {
      opts.sandbox.disable_userns = sandbox::SupportsDisableUserns(*bwrap);
    }
    for (const std::string& dir : opts.sandbox.ro_binds) {
      if (auto why = sandbox::ShadowedBindReason(dir); !why.empty()) {
        return FailedPrecondition("sandbox.ro_binds: " + why);
      }
    }
    for (const auto& [name, agent] : opts.agents) {
      for (const std::string& dir : agent.install_dirs) {
        if (auto why = sandbox::ShadowedBindReason(dir); !why.empty()) {
          return FailedPrecondition("agents." + name + ".install_dirs: " + why);
        }
      }
      if (auto why = config::SandboxBaseUrlProblem(agent); !why.empty()) {
        return FailedPrecondition("agents." + name + ".base_url: " + why);
      }
    }
    opts.cgroup_version = sandbox::DetectCgroupVersion();
    if (opts.cgroup_version.empty()) {
      return FailedPrecondition(
          "the sandbox runner needs cgroups (v1 memory/pids/cpu/freezer or v2) under "
          "/sys/fs/cgroup (or choose --runner process)");
    }
    // Audit F5: workspace images where loop devices work; else the watchdog, said loudly.
    if (opts.sandbox.workspace_images) {
      if (Status st = sandbox::CheckImagesUsable(sandbox::ImagePoolDir(opts.data_dir) + "/probe");
          !st.ok()) {
        opts.sandbox.workspace_images = false;
        opts.sandbox.workspace_images_problem = st.message();
        spdlog::warn(
            "workspace images unavailable ({}): disk limits fall back to a polling watchdog, "
            "which a file deleted while open or a very deep tree escapes",
            st.message());
      }
    } else {
      opts.sandbox.workspace_images_problem = "turned off ([sandbox] workspace_images = false)";
    }
  }
  return Status::Ok();
}

// Workspace images kept formatted of the default disk size, and at most this many free of any
// one size (sparse files: a few MiB each).
constexpr int kSpareImages = 4;
constexpr int kMaxFreeImagesPerSize = 16;

// What the process runner needs of the options.
ProcessRunner::Config RunnerConfigFor(const Options& opts) {
  ProcessRunner::Config c;
  c.notify_socket = opts.data_dir + "/notify.sock";  // Supervisor binds it
  c.outpost_exe = opts.self_exe;
  c.uid_min = opts.sandbox.uid_min;
  c.uid_max = opts.sandbox.uid_max;
  c.uid_lock_dir = opts.sandbox.uid_lock_dir;
  c.ro_binds = opts.sandbox.ro_binds;
  c.disable_userns = opts.sandbox.disable_userns;
  c.collect_timeout_seconds = opts.collect_timeout_seconds;
  c.collect_max_bytes = opts.collect_max_bytes;
  if (opts.UsesRunner(RunnerKind::kSandbox) && opts.sandbox.workspace_images) {
    c.image_pool = sandbox::ImagePoolDir(opts.data_dir);
  }
  return c;
}

// The HTTP server's options: where it listens, and the [server] limits on hostile input.
http::HttpServerOptions ServerOptionsFor(const Options& o, const std::string& host, int port) {
  http::HttpServerOptions h;
  h.host = host;
  h.port = static_cast<std::uint16_t>(port);
  h.max_body_bytes = static_cast<std::size_t>(o.max_body_bytes);
  SetHostileInputLimits(o, h);
  h.shutdown_grace = std::chrono::seconds(o.shutdown_grace_seconds);
  h.handler_threads = o.handler_threads;
  return h;
}

// The first line a caller of `outpost serve` reads, and the log's account of how it serves.
void AnnounceServing(const Options& opts, const std::string& address, RunnerKind kind,
                     bool keys_exist, bool loopback) {
  std::printf("listening on http://%s\n", address.c_str());
  std::fflush(stdout);
  spdlog::info("outpost {} serving on http://{} (data dir {}, store {}, runner {}{})",
               OUTPOST_VERSION, address, opts.data_dir, opts.StoreUrl(), ToString(kind),
               opts.cgroup_version.empty() ? "" : ", cgroup " + opts.cgroup_version);
  if (kind == RunnerKind::kProcess) {
    spdlog::warn("runner 'process': runs are NOT isolated from this machine");
  }
  if (!keys_exist) {
    spdlog::warn("no API keys exist: serving unauthenticated requests{} until one is created",
                 loopback ? " (loopback only)" : " on a NON-LOOPBACK address (--insecure)");
  }
}

// SIGTERM (README "Draining a replica"): /health/ready answers 503 "draining" while the
// supervisor releases this replica's queue and waits for its running runs, and the uploader for
// the artifacts of those that ended (their files are on this machine). Returns once none is
// left, after drain_seconds, or at once on a second SIGTERM or a SIGINT.
void Drain(Supervisor& supervisor, const ArtifactUploader& uploader, const sigset_t& signals,
           int drain_seconds) {
  spdlog::info("SIGTERM: draining for up to {} s (a second SIGTERM or SIGINT stops at once)",
               drain_seconds);
  supervisor.BeginDrain();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(drain_seconds);
  for (;;) {
    const std::optional<int> remaining = supervisor.DrainRemaining();
    // Stop() then finishes the upload in progress.
    if (remaining && *remaining == 0 && uploader.stats().queued == 0) {
      spdlog::info("drained: no run is supervised here any more; stopping");
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn(
          "drain period over: {} run(s) keep running under their shims, leased to this replica "
          "(a replica with the same id re-adopts them; else they end node_lost after the lease)",
          remaining.value_or(0));
      return;
    }
    const timespec poll{0, 200'000'000};
    if (const int sig = sigtimedwait(&signals, nullptr, &poll); sig == SIGTERM || sig == SIGINT) {
      spdlog::warn("signal {} while draining: stopping at once", sig);
      return;
    }
  }
}

}  // namespace

int Serve(const Options& opts_in) {
  // Every file the server and its shims create (the database, run dirs, logs) is private to
  // the service (audit F8); directories the sandbox uids traverse are chmod'ed explicitly.
  ::umask(077);
  Options opts = opts_in;
  if (opts.replica_id.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    opts.replica_id = host;
  }
  std::string host;
  int port = 0;
  if (!SplitHostPort(opts.listen, host, port)) return Fail("--listen must be HOST:PORT");
  StartCleanup cleanup(opts.data_dir);
  if (Status st = PrepareRunsDir(opts); !st.ok()) return Fail(st.message());
  auto lock = LockDataDir(opts.data_dir);
  if (!lock.ok()) return Fail(lock.status().message());

  auto store = OpenRunStore(opts);
  if (!store.ok()) return Fail(store.status().message());
  RealClock& clock = RealClock::Instance();
  // Authentication (README "Authentication and tenants"): keys on the same store; without any,
  // open mode, which only a loopback listener (or --insecure) may serve.
  auto auth_store = OpenAuthStore(opts, store->get());
  if (!auth_store.ok()) return Fail("API keys: " + auth_store.status().message());
  auth::KeyVerifier key_verifier(**auth_store, clock);
  const bool loopback = auth::IsLoopbackHost(host);
  auto keys_exist = key_verifier.KeysExist();
  if (!keys_exist.ok()) return Fail("API keys: " + keys_exist.status().message());
  if (!*keys_exist && !loopback && !opts.insecure) {
    return Fail("refusing to listen on " + opts.listen +
                " without authentication: no API keys exist and the address is not loopback; "
                "create one with `outpost admin key create`, or pass --insecure "
                "(OUTPOST_INSECURE=1) to serve unauthenticated requests");
  }
  if (*keys_exist) {  // the open-mode runs stay tenant default's (app/default_tenant.h)
    if (auto hint = DefaultTenantHint(**store, **auth_store); hint.ok() && !hint->empty()) {
      spdlog::warn("{}", *hint);
    }
  }
  auth::RequestAuthenticator authenticator(
      key_verifier, {/*allow_open=*/loopback || opts.insecure, opts.metrics_token});
  // The local store always exists: it serves /files/ (and is the default artifact store).
  SelfUrl self_url;
  auto local_artifacts = OpenLocalArtifacts(opts, self_url);
  if (!local_artifacts.ok()) return Fail("artifacts: " + local_artifacts.status().message());
  artifacts::ArtifactStore* artifact_store = local_artifacts->get();
  std::unique_ptr<artifacts::ArtifactStore> s3_artifacts;
  if (opts.ArtifactsUrl().starts_with("s3://")) {
    auto s3 = artifacts::OpenS3ArtifactStore(opts.ArtifactsUrl(), ProcessEnvironment(), clock);
    if (!s3.ok()) return Fail("artifacts: " + s3.status().message());
    s3_artifacts = std::move(*s3);
    artifact_store = s3_artifacts.get();
  }
  if (opts.secrets_dir.empty() && std::filesystem::is_directory(opts.data_dir + "/secrets")) {
    opts.secrets_dir = opts.data_dir + "/secrets";
  }
  std::unique_ptr<SecretStore> secrets = MakeSecretStore(SecretEnvironment(), opts.secrets_dir);
  if (opts.secrets.backend == "aws-secretsmanager") {
    // README "Secrets": the environment and secrets_dir first, then Secrets Manager.
    auto aws_store = OpenAwsSecretStore({opts.secrets.region, opts.secrets.endpoint,
                                         opts.secrets.prefix, opts.secrets.cache_ttl_seconds},
                                        ProcessEnvironment(), clock);
    if (!aws_store.ok()) return Fail(aws_store.status().message());
    std::vector<std::unique_ptr<SecretStore>> chain;
    chain.push_back(std::move(secrets));
    chain.push_back(std::move(*aws_store));
    secrets = std::make_unique<ChainSecretStore>(std::move(chain));
    spdlog::info("secrets: AWS Secrets Manager, prefix '{}', cached {} s", opts.secrets.prefix,
                 opts.secrets.cache_ttl_seconds);
  }
  AgentRegistry agents(opts);
  // Metrics (/metrics, /health/slo): every store call below goes through the counting
  // decorators.
  auto metrics = std::make_shared<telemetry::ServerMetrics>(
      clock, telemetry::ServerMetricsOptions{agents.Names(), opts.runner == RunnerKind::kSandbox});
  telemetry::InstrumentedRunStore run_store(**store, *metrics);
  if (auto* ddb = dynamic_cast<dynamodb::DynamoDbRunStore*>(store->get())) {
    metrics->WatchDynamoDbCalls([ddb] { return ddb->client().Counts().calls; });
  }
  telemetry::InstrumentedArtifactStore counted_artifacts(*artifact_store, *metrics);
  // Each run on its agent's runner (app/runners.h): the local one, and containers.
  auto runners = MakeRunners(opts, clock, RunnerConfigFor(opts));
  if (!runners.ok()) return Fail(runners.status().message());
  Runner& runner = *runners->router;
  // Finished runs' files go to the artifact store; runs that ended while the server was away
  // (or whose upload it did not finish) are found again and uploaded.
  ArtifactUploaderOptions uploader_options;
  uploader_options.shown_task = [&opts, &agents, &secrets](const Run& run) {
    return RedactedTask(opts, agents.Find(run.agent), run, secrets.get());
  };
  ArtifactUploader uploader(run_store, counted_artifacts, runner, clock, uploader_options);
  // Every run's events (ARCHITECTURE.md §8): the shared event log on the store, the one read
  // path. The pump copies the journals of the runs supervised here into it; the hub wakes this
  // replica's followers (one watcher per followed run).
  auto event_log = OpenEventLog(opts, **store, clock, counted_artifacts);
  if (!event_log.ok()) return Fail("event log: " + event_log.status().message());
  EventHub event_hub(**event_log, clock);
  EventPump event_pump(runner, **event_log, clock, &event_hub);
  uploader.SetEventLog(event_log->get());
  // Quotas and the audit log (README "Quotas and rate limits", "Audit log").
  auto audit_log = OpenAuditLog(opts, **store, clock);
  if (!audit_log.ok()) return Fail("audit log: " + audit_log.status().message());
  Auditor auditor(**audit_log, clock);
  QuotaSweeper quota_sweeper(run_store, audit_log->get(), clock,
                             std::chrono::hours(24 * opts.audit.retention_days));
  RateLimiter rate_limiter(clock);
  Supervisor supervisor(run_store, runner, agents, clock, opts, secrets.get());
  supervisor.SetRunObserver(metrics.get());
  metrics->WatchSupervisor(supervisor);
  supervisor.SetArtifactUploader(&uploader);
  supervisor.SetAuditor(&auditor);
  DiskGuard disk(opts.data_dir, std::int64_t{opts.min_free_disk_mb} << 20, clock);
  supervisor.SetDiskGuard(&disk);
  supervisor.SetEvents(event_log->get(), &event_pump, &event_hub);
  event_hub.Start();
  event_pump.Start();
  uploader.Start();
  cleanup.Keep();  // from here on, runs may be started in the data dir
  if (Status st = supervisor.Start(); !st.ok()) return Fail("supervisor: " + st.message());
  if (auto n = uploader.Recover(); !n.ok()) {
    spdlog::error("artifacts: cannot list runs still to upload: {}", n.status().ToString());
  }
  RunService service(run_store, agents, clock, opts, &supervisor, secrets.get());
  service.SetEventLog(event_log->get(), &event_hub);
  service.SetJournalImport(
      [&event_pump](const RunId& id) { return event_pump.Flush(id, Millis(1000)); });
  // The run channel (/internal/v1, README "Run channel") appends to the same event log and
  // wakes this replica's followers at once.
  RunChannel run_channel(
      run_store, **event_log, [&event_hub](const RunId& id) { event_hub.Notify(id.str()); },
      [&supervisor](const Run& run) -> Result<RunSpec> { return supervisor.SpecFor(run); });
  // Outputs a remote task delivers over the channel go where the artifact upload puts them.
  run_channel.SetOutputs(&counted_artifacts, opts.max_output_bytes);
  RunArtifacts run_artifacts(service, counted_artifacts, clock);
  // Promote (README "Promote"): from the stored artifacts, with the tenant's git token.
  Promoter promoter(service, run_store, counted_artifacts, clock, opts, secrets.get(), &auditor);
  service.SetDiskGuard(&disk);
  service.SetRunObserver(metrics.get());
  service.AddHealthSource([&key_verifier, loopback] {
    auth::AuthModeReport mode = auth::DescribeAuthMode(key_verifier, loopback);
    return HealthContribution{"auth", std::move(mode.check), {{"insecure", mode.insecure}}};
  });
  service.SetAuditor(&auditor);
  WireDockerChecks(*runners, agents, service, opts);
  WireEcsChecks(*runners, agents, opts);
  if (opts.UsesRunner(RunnerKind::kSandbox)) {
    service.AddHealthSource([&opts] {
      const auto& sb = opts.sandbox;
      boost::json::object check{{"status", sb.workspace_images ? "pass" : "warn"}};
      check["message"] =
          sb.workspace_images
              ? "each run's workspace and home on an ext4 image of its disk limit"
              : "unavailable (" + sb.workspace_images_problem +
                    "): disk limits are a polling watchdog, which a file deleted while open "
                    "escapes";
      return HealthContribution{"workspace_images", std::move(check), {}};
    });
  }
  quota_sweeper.Start();
  // Old runs' directories and local artifacts (S3: the bucket's lifecycle rule, README).
  RetentionSweeper sweeper(run_store, s3_artifacts ? nullptr : &counted_artifacts, runner, clock,
                           std::chrono::hours(24 * opts.retention_days));
  sweeper.SetEventLog(event_log->get());
  sweeper.Start();

  // The names this server answers to in open mode (DNS rebinding, cross-site requests).
  auto allowed_hosts = http::AllowedHosts::Make(opts.allowed_hosts, opts.public_url);
  if (!allowed_hosts.ok()) return Fail(allowed_hosts.status().message());
  http::Router router;
  router.SetAuthenticator(&authenticator);
  router.Use(http::SameOriginMiddleware(*allowed_hosts, clock));
  // Issue 24 item 2: on a wildcard listener without public_url, URLs signed for a request are
  // based on its Host when that is one of the allowed names (never 0.0.0.0, which none is).
  if (opts.public_url.empty() && IsWildcardHost(host)) {
    router.Use([hosts = *allowed_hosts](http::Request& req, const http::Next& next) {
      const std::string h = req.headers.Get("Host").value_or("");
      if (h.empty() || !hosts->HostAllowed(h)) return next(req);
      SelfUrl::RequestBase base("http://" + h);
      return next(req);
    });
  }
  // After authentication (it sets the request's tenant and key, which the rate limit counts by).
  router.Use(api::RateLimitMiddleware(rate_limiter, opts.quotas, clock));
  api::RegisterRoutes(router, service, clock);
  api::RegisterAuditRoutes(router, auditor, clock);
  // The dashboard: /ui/ and a browser's GET / (a middleware, so after the two above).
  web::RegisterWebRoutes(router, clock);
  api::RegisterFileRoutes(router, **local_artifacts, clock);
  api::RegisterArtifactRoutes(router, run_artifacts, clock);
  api::RegisterPromoteRoutes(router, promoter, clock);
  api::RegisterGroupRoutes(router, service, clock);
  api::RegisterChannelRoutes(router, run_channel, clock);
  mcp::ServiceTools mcp_tools(service, &run_artifacts, clock);
  mcp_tools.SetPromoter(&promoter);
  mcp::RegisterMcpRoute(router, mcp_tools, clock, *allowed_hosts);
  telemetry::RegisterTelemetryRoutes(router, *metrics, clock);
  if (opts.enable_fault_injection) http::EnableFaultInjection(router, clock);
  router.AddHook(metrics);  // after the fault switch: injected answers are counted too
  http::HttpServer server(router, ServerOptionsFor(opts, host, port));

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before threads start: they inherit the mask

  // Audit F5: used images are wiped and returned to the pool, and a few of the default size
  // are kept formatted, so that a run's start costs a mount, not a mkfs (README "Workspace
  // images").
  std::unique_ptr<PeriodicTask> images;
  if (const std::string pool = RunnerConfigFor(opts).image_pool; !pool.empty()) {
    const std::int64_t spare_bytes = std::int64_t{opts.run_limits.default_disk_gb} << 30;
    const int spare = std::min(opts.max_concurrent_runs, kSpareImages);
    images =
        std::make_unique<PeriodicTask>("images", clock, Millis(2000), [pool, spare_bytes, spare] {
          sandbox::ImagePool(pool).Recycle(spare_bytes, spare, kMaxFreeImagesPerSize);
        });
    images->Start();
  }
  if (Status st = server.Start(); !st.ok()) return Fail(st.message());
  {
    std::string bound_host;
    int bound_port = 0;
    SplitHostPort(server.BoundAddress(), bound_host, bound_port);
    (*allowed_hosts)->SetBound(host, bound_port);
  }
  int bp = 0;
  if (!opts.public_url.empty()) {
    self_url.Set(opts.public_url);
  } else if (std::string bh; IsWildcardHost(host) && SplitHostPort(server.BoundAddress(), bh, bp)) {
    self_url.Set("http://127.0.0.1:" + std::to_string(bp));  // a client names no 0.0.0.0
  } else {
    self_url.Set("http://" + server.BoundAddress());
  }
  supervisor.SetAddress("http://" + server.BoundAddress());
  // [runner] channel_url, else public_url, else the listen address (README "Run channel").
  supervisor.SetChannelUrl(!opts.channel_url.empty() ? opts.channel_url
                           : opts.public_url.empty() ? "http://" + server.BoundAddress()
                                                     : opts.public_url);
  if (runners->docker) {
    std::string bound_host;
    int bound_port = 0;
    SplitHostPort(server.BoundAddress(), bound_host, bound_port);
    if (Status st = runners->docker->StartChannel(bound_host, bound_port); !st.ok()) {
      return Fail("docker runner: the run channel's socket: " + st.message());
    }
  }
  AnnounceServing(opts, server.BoundAddress(), runner.kind(), *keys_exist, loopback);
  key_verifier.Start();

  int sig = 0;
  sigwait(&set, &sig);
  if (sig == SIGTERM) {
    Drain(supervisor, uploader, set, opts.drain_seconds);
  } else {
    spdlog::info("signal {}: stopping (runs continue under their shims)", sig);
  }
  server.Stop();        // stops accepting, finishes requests in flight, ends SSE streams
  key_verifier.Stop();  // flushes the keys' last usage
  supervisor.Stop();
  // A dispatch answered since the last pass is released too; then the record says "left".
  if (supervisor.Draining()) supervisor.Tick();
  supervisor.Leave();
  if (runners->docker) runners->docker->Stop();  // containers run on; a restart adopts them
  event_pump.Stop();
  event_hub.Stop();
  uploader.Stop();
  sweeper.Stop();
  quota_sweeper.Stop();
  if (images) images->Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace outpost::app
